"""The reads that are more than a filter: visibility rules and what serializers need.

API views (and later the steward pages) read resources through these functions, so a viewer
never sees an unpublished resource anywhere and a page of results costs the same few queries
whatever its size.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Value
from django.db.models.fields import CharField

from catalog.models import Resource, User
from catalog.models.resources import ResourceQuerySet, relation_columns
from catalog.services.resources import M2M_FIELDS


def resources_visible_to(user: User, entity_type: str | None = None) -> ResourceQuerySet:
    """All resources `user` may read: everything for editors and admins, published for viewers.

    Team-scoped visibility would be added here, once, for every reader.
    """
    queryset = Resource.objects.all()
    if entity_type is not None:
        queryset = queryset.of_type(entity_type)
    if not user.can_edit_catalog:
        queryset = queryset.published()
    return queryset


def attach_relation_ids(resources: Sequence[Resource]) -> Sequence[Resource]:
    """Give each resource a `relation_ids` dict: M2M field name -> sorted list of related ids.

    One UNION query over the five through tables instead of five prefetches: only the ids are
    needed, and the query count stays constant whatever the page size.
    """
    pks = [resource.pk for resource in resources]
    found: dict = defaultdict(lambda: defaultdict(list))
    if pks:
        parts = []
        for field in M2M_FIELDS:
            through, source, target = relation_columns(field)
            parts.append(
                through.objects.filter(**{f"{source}__in": pks}).values_list(
                    source, Value(field, output_field=CharField()), target
                )
            )
        for resource_id, field, related_id in parts[0].union(*parts[1:], all=True):
            found[resource_id][field].append(related_id)
    for resource in resources:
        related = found.get(resource.pk, {})
        resource.relation_ids = {
            field: sorted(related.get(field, ()), key=str) for field in M2M_FIELDS
        }
    return resources
