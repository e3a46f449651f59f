"""The reads that are more than a filter: what serializers, pages and services need.

Which resources an actor may see is the policy's question (`catalog.policy`); these functions
fetch what goes with the rows, in a constant number of queries whatever the page size.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db.models import Value
from django.db.models.fields import CharField

from catalog.models import M2M_FIELDS, CustomPropertyValue, Resource, ResourceChange
from catalog.models.resources import relation_columns
from catalog.policy import resources_visible_to

__all__ = [
    "attach_relation_ids",
    "custom_values_of",
    "relation_ids_of",
    "resource_history",
    "resources_visible_to",
]


def relation_ids_of(pks: Iterable) -> dict:
    """Resource id -> M2M field name -> sorted list of related ids, for every id in `pks`.

    One UNION query over the five through tables instead of five prefetches: only the ids
    are needed.
    """
    pks = list(dict.fromkeys(pks))
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
    return {
        pk: {field: sorted(found[pk].get(field, ()), key=str) for field in M2M_FIELDS} for pk in pks
    }


def attach_relation_ids(resources: Sequence[Resource]) -> Sequence[Resource]:
    """Give each resource a `relation_ids` dict (see `relation_ids_of`), in one query."""
    ids = relation_ids_of(resource.pk for resource in resources)
    for resource in resources:
        resource.relation_ids = ids[resource.pk]
    return resources


def resource_history(resource_id):
    """The changes of one resource, newest first, with who made them."""
    return ResourceChange.objects.filter(resource_id=resource_id).select_related("change_set")


def custom_values_of(resource_id) -> list[dict]:
    """A resource's custom property values, `[{id, name, value}]` by property name."""
    rows = (
        CustomPropertyValue.objects.filter(resource_id=resource_id)
        .order_by("property__name")
        .values_list("property_id", "property__name", "value")
    )
    return [{"id": str(pk), "name": name, "value": value} for pk, name, value in rows]
