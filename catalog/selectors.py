"""The reads that are more than a filter: what serializers, pages and services need.

Which resources an actor may see is the policy's question (`catalog.policy`); these functions
fetch what goes with the rows, in a constant number of queries whatever the page size.
"""

import datetime as dt
import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.fields import BigIntegerField
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import (
    M2M_FIELDS,
    CustomPropertyValue,
    DailyVolume,
    EntityType,
    Resource,
    ResourceChange,
    Violation,
)
from catalog.models.resources import relation_columns
from catalog.policy import resources_visible_to

__all__ = [
    "TRACKED_TYPES",
    "Tracking",
    "attach_relation_ids",
    "attach_tracking",
    "custom_values_of",
    "not_seen_for",
    "relation_ids_of",
    "resource_history",
    "resources_visible_to",
    "tracking_from",
    "tracking_of",
    "violations_of",
    "with_tracking",
]


def relation_ids_of(pks: Iterable) -> dict:
    """Resource id -> M2M field name -> sorted list of related ids, for every id in `pks`.

    One UNION ALL query over the through tables instead of one prefetch each: only the ids
    are needed. Its SQL is built once per process and database vendor (`_relation_ids_sql`)
    and the ids travel as one parameter, so a call costs the query and little else; composing
    and compiling the querysets took longer than running them.
    """
    pks = list(dict.fromkeys(pks))
    found: dict = defaultdict(lambda: defaultdict(list))  # pk -> field -> ids
    if pks:
        postgres = connection.vendor == "postgresql"
        if postgres:
            # One array literal: psycopg would otherwise adapt every element on its own.
            ids = "{" + ",".join(str(pk) for pk in pks) + "}"
        else:
            # UUIDs are stored as 32 hex digits there, and come back as such.
            ids = json.dumps([uuid.UUID(str(pk)).hex for pk in pks])
        with connection.cursor() as cursor:
            cursor.execute(_relation_ids_sql(connection.vendor), {"ids": ids})
            rows = cursor.fetchall()
        if postgres:
            for resource_id, field, related_id in rows:
                found[resource_id][field].append(related_id)
        else:
            for resource_id, field, related_id in rows:
                found[uuid.UUID(resource_id)][field].append(uuid.UUID(related_id))
    return {pk: _sorted_fields(found.get(pk)) for pk in pks}


def _sorted_fields(ids: dict | None) -> dict:
    if not ids:
        return {field: [] for field in M2M_FIELDS}
    return {field: sorted(ids.get(field, ()), key=str) for field in M2M_FIELDS}


@functools.cache
def _relation_ids_sql(vendor: str) -> str:
    """The `relation_ids_of` query for `vendor`: (resource id, field name, related id) rows
    of every M2M field, for the resource ids of its one named parameter `ids` (PostgreSQL:
    a uuid[] literal; elsewhere: a JSON array of hex strings, read with json_each)."""
    quote = connection.ops.quote_name
    if vendor == "postgresql":
        among = "= ANY(%(ids)s::uuid[])"
    else:
        among = "IN (SELECT value FROM json_each(%(ids)s))"
    parts = []
    for field in M2M_FIELDS:
        through, source, target = relation_columns(field)
        meta = through._meta
        parts.append(
            f"SELECT {quote(meta.get_field(source).column)}, '{field}', "
            f"{quote(meta.get_field(target).column)} FROM {quote(meta.db_table)} "
            f"WHERE {quote(meta.get_field(source).column)} {among}"
        )
    return " UNION ALL ".join(parts)


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


# --- What arrives: first/last seen and volumes (written by the ingestion pipeline) ----------

#: The kinds that trackers send, so the kinds with volumes and first/last seen.
TRACKED_TYPES = (EntityType.EVENT, EntityType.EVENT_PROPERTY)


@dataclass(frozen=True)
class Tracking:
    """When a resource first and last arrived (None: never), and how often lately."""

    first_seen_at: dt.datetime | None = None
    last_seen_at: dt.datetime | None = None
    #: Arrivals today and the 6 days before (UTC days).
    volume_7d: int = 0
    #: Arrivals today and the 29 days before.
    volume_30d: int = 0


def volume_windows(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first day (UTC) of the 7-day and of the 30-day volume, both including today."""
    if today is None:
        today = timezone.now().astimezone(dt.UTC).date()
    return today - dt.timedelta(days=6), today - dt.timedelta(days=29)


def tracking_of(pks: Iterable, *, today: dt.date | None = None) -> dict:
    """Resource id -> `Tracking`, for every id in `pks`, in one query.

    ResourceSeen is joined (one row at most per resource) and DailyVolume only for the last
    30 days (its unique (resource, day) index finds them), summed per resource with a
    conditional sum for the last 7.
    """
    pks = list(dict.fromkeys(pks))
    if not pks:
        return {}
    since_7d, since_30d = volume_windows(today)
    rows = (
        Resource.objects.filter(pk__in=pks)
        .alias(
            recent=FilteredRelation("daily_volumes", condition=Q(daily_volumes__day__gte=since_30d))
        )
        .order_by()
        .values_list("pk", "seen__first_seen_at", "seen__last_seen_at")
        .annotate(
            volume_7d=Sum("recent__count", filter=Q(recent__day__gte=since_7d), default=0),
            volume_30d=Sum("recent__count", default=0),
        )
    )
    found = {pk: Tracking(first, last, int(v7), int(v30)) for pk, first, last, v7, v30 in rows}
    return {pk: found.get(pk, Tracking()) for pk in pks}


def attach_tracking(resources: Sequence[Resource], *, today=None) -> Sequence[Resource]:
    """Give each event and property of `resources` a `tracking` (see `tracking_of`), in one
    query; categories get none, and cost nothing."""
    tracked = [resource for resource in resources if resource.entity_type in TRACKED_TYPES]
    found = tracking_of((resource.pk for resource in tracked), today=today)
    for resource in tracked:
        resource.tracking = found[resource.pk]
    return resources


def _volume_since(day: dt.date) -> Coalesce:
    total = (
        DailyVolume.objects.filter(resource=OuterRef("pk"), day__gte=day)
        .order_by()
        .values("resource")
        .annotate(total=Sum("count"))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(0), output_field=BigIntegerField())


def with_tracking(queryset: QuerySet, *, today: dt.date | None = None) -> QuerySet:
    """`queryset` fetching what `tracking_from` needs in its own query, for a page that shows
    one resource: no extra query, where `attach_tracking` costs one per list."""
    since_7d, since_30d = volume_windows(today)
    return queryset.select_related("seen").annotate(
        volume_7d=_volume_since(since_7d), volume_30d=_volume_since(since_30d)
    )


def tracking_from(resource: Resource) -> Tracking:
    """The `Tracking` of a resource fetched by a `with_tracking` queryset."""
    seen = getattr(resource, "seen", None)  # None when never seen
    return Tracking(
        seen.first_seen_at if seen else None,
        seen.last_seen_at if seen else None,
        int(resource.volume_7d),
        int(resource.volume_30d),
    )


def not_seen_for(queryset: QuerySet, days: int) -> QuerySet:
    """The resources of `queryset` last seen more than `days` days ago, or never."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    return queryset.filter(Q(seen__isnull=True) | Q(seen__last_seen_at__lt=cutoff))


def violations_of(*, event=None, integration=None, kind: str | None = None) -> QuerySet:
    """Violations of an event or an integration, the most recently seen first."""
    violations = Violation.objects.all()
    if event is not None:
        violations = violations.filter(event=event)
    if integration is not None:
        violations = violations.filter(integration=integration)
    if kind:
        violations = violations.filter(kind=kind)
    return violations.order_by("-last_seen_at", "id")
