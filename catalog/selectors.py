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
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields import BigIntegerField, DateTimeField, Field
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from catalog.models import (
    M2M_FIELDS,
    ApiKey,
    ChangeSet,
    CustomPropertyValue,
    DailyVolume,
    EntityType,
    LoggedEvent,
    ObjectChange,
    ObjectType,
    Resource,
    ResourceSeen,
    User,
    Violation,
    ViolationDay,
)
from catalog.models.resources import relation_columns
from catalog.models.titles import normalize_title
from catalog.policy import (
    Visibility,
    changes_visible_to,
    collections_visible_as,
    resource_visibility,
    resources_visible_as,
    resources_visible_to,
)
from catalog.rawsql import as_uuid, aware, column, pg_array
from catalog.tracking_plan.model import Plan, PlanEvent, PlanProperty

__all__ = [
    "TRACKED_TYPES",
    "Tracking",
    "active_api_key",
    "attach_relation_ids",
    "attach_tracking",
    "audit_log",
    "custom_values_of",
    "daily_volumes_of",
    "existing_ids",
    "hide_unseen_labels",
    "history_of",
    "mask_pii",
    "not_seen_for",
    "relation_ids_of",
    "resources_visible_to",
    "title_order",
    "tracking_from",
    "tracking_of",
    "tracking_plan_of",
    "uuids_in",
    "violation_days_of",
    "violations_of",
    "visible_resource",
    "volume_since",
    "with_details",
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
        with connection.cursor() as cursor:
            cursor.execute(_relation_ids_sql(connection.vendor), {"ids": _ids_param(pks)})
            rows = cursor.fetchall()
        for resource_id, field, related_id in rows:
            found[as_uuid(resource_id)][field].append(as_uuid(related_id))
    return {pk: _sorted_fields(found.get(as_uuid(pk))) for pk in pks}


def _ids_param(pks: list) -> str:
    """Resource ids as the one parameter that `_among` reads: a uuid[] literal on PostgreSQL
    (psycopg would otherwise adapt every element on its own), elsewhere a JSON array of the
    32 hex digits that SQLite stores a UUID as."""
    if connection.vendor == "postgresql":
        return pg_array("uuid", pks)
    return json.dumps([uuid.UUID(str(pk)).hex for pk in pks])


def _among(vendor: str) -> str:
    """`IN` the ids of the named parameter `ids` (see `_ids_param`), as SQL for `vendor`."""
    if vendor == "postgresql":
        return "= ANY(%(ids)s::uuid[])"
    return "IN (SELECT value FROM json_each(%(ids)s))"


def _sorted_fields(ids: dict | None) -> dict:
    if not ids:
        return {field: [] for field in M2M_FIELDS}
    # UUIDs sort as their text does (fixed-width hex), without making the text.
    return {field: sorted(ids.get(field, ())) for field in M2M_FIELDS}


@functools.cache
def _relation_ids_sql(vendor: str) -> str:
    """The `relation_ids_of` query for `vendor`: (resource id, field name, related id) rows
    of every M2M field, for the resource ids of its one named parameter `ids` (PostgreSQL:
    a uuid[] literal; elsewhere: a JSON array of hex strings, read with json_each)."""
    quote = connection.ops.quote_name
    among = _among(vendor)
    parts = []
    for field in M2M_FIELDS:
        through, source, target = relation_columns(field)
        meta = through._meta
        parts.append(
            f"SELECT {column(meta, source)}, '{field}', {column(meta, target)} "
            f"FROM {quote(meta.db_table)} WHERE {column(meta, source)} {among}"
        )
    return " UNION ALL ".join(parts)


def attach_relation_ids(resources: Sequence[Resource]) -> Sequence[Resource]:
    """Give each resource a `relation_ids` dict (see `relation_ids_of`), in one query, or
    none for rows that `with_details` fetched with theirs."""
    missing = [resource for resource in resources if not _took_details(resource)]
    ids = relation_ids_of(resource.pk for resource in missing)
    for resource in missing:
        resource.relation_ids = ids[resource.pk]
    return resources


def history_of(object_id):
    """The changes of one object (a resource, a tag, a user...), newest first, with who made
    them."""
    return ObjectChange.objects.filter(object_id=object_id).select_related("change_set")


def audit_log(
    user, *, sets: QuerySet | None = None, object_type: str | None = None, object_id=None
) -> QuerySet:
    """The change sets holding a change `user` may read (of `object_type` and `object_id`, if
    given), newest first, each with `visible_changes`: those changes, in the order they were
    made; `sets` narrows the change sets first (by actor, source, time). A page costs one query
    for the sets and one for their changes, whatever its size.

    A delete's `state` stays behind: it is for undo, and can be the largest column.
    """
    changes = changes_visible_to(user)
    if object_type is not None:
        changes = changes.filter(object_type=object_type)
    if object_id is not None:
        changes = changes.filter(object_id=object_id)
    sets = (ChangeSet.objects.all() if sets is None else sets).order_by("-created_at", "-id")
    sees_all = user is not None and user.is_active and user.is_catalog_admin
    if not sees_all or object_type is not None or object_id is not None:
        # Every set holds a change: only a narrower reader needs to ask which.
        sets = sets.filter(Exists(changes.filter(change_set=OuterRef("pk"))))
    return sets.prefetch_related(
        Prefetch(
            "changes", queryset=changes.defer("state").order_by("id"), to_attr="visible_changes"
        )
    )


#: What a diff names a related object by when its reader may not see it.
HIDDEN_LABEL = "(not visible to you)"


def hide_unseen_labels(visibility: Visibility, changes: Iterable[ObjectChange]) -> None:
    """Take out of the changes' diffs the titles of parents and collections a reader with
    `visibility` may not see (a draft category an event moved from, an unpublished collection
    it joined): the `{id, label}` pair keeps its id, its label says it is hidden. At most two
    queries, none for editors and admins, who see everything."""
    changes = list(changes)
    if visibility == Visibility.EVERYTHING or not changes:
        return
    wanted: dict[str, set[str]] = {"parent": set(), "collections": set()}
    for change in changes:
        for name in wanted:
            # A collection's parent is a collection, not a resource.
            kind = "collections" if change.object_type == ObjectType.COLLECTION else name
            for pair in _pairs(change.diff.get(name)):
                wanted[kind].add(str(pair.get("id")))
    seen = set()
    if wanted["parent"]:
        visible = resources_visible_as(visibility).filter(pk__in=uuids_in(wanted["parent"]))
        seen |= {str(pk) for pk in visible.values_list("pk", flat=True)}
    if wanted["collections"]:
        visible = collections_visible_as(visibility).filter(pk__in=uuids_in(wanted["collections"]))
        seen |= {str(pk) for pk in visible.values_list("pk", flat=True)}
    for change in changes:
        diff = dict(change.diff)
        for name in wanted:
            if name in diff:
                diff[name] = _hide(diff[name], seen)
        change.diff = diff


def _pairs(value) -> list[dict]:
    """The `{id, label}` pairs in a diff's [old, new] (each a pair, a list of them or None)."""
    found = []
    for side in value or ():
        for item in side if isinstance(side, list) else [side]:
            if isinstance(item, dict):
                found.append(item)
    return found


def _hide(value, seen: set[str]):
    def one(item):
        if isinstance(item, dict) and str(item.get("id")) not in seen:
            return {"id": item.get("id"), "label": HIDDEN_LABEL, "hidden": True}
        return item

    return [
        [one(item) for item in side] if isinstance(side, list) else one(side)
        for side in value or ()
    ]


def uuids_in(values: Iterable) -> set[uuid.UUID]:
    """The values that are UUIDs, as UUIDs; the others are left out (a filter on them would
    fail in the database, and they name nothing)."""
    ids = set()
    for value in values:
        try:
            ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    return ids


def existing_ids(model, ids: Iterable) -> set[str]:
    """Which of `ids` (any values) name rows of `model` that exist, as strings: what a
    restore or an undo may link to again (one query; none when no value is a UUID)."""
    wanted = uuids_in(ids)
    if not wanted:
        return set()
    rows = model._default_manager.filter(pk__in=wanted).values_list("pk", flat=True)
    return {str(pk) for pk in rows}


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


def utc_today() -> dt.date:
    """Today in UTC, the calendar of the daily volumes."""
    return timezone.now().astimezone(dt.UTC).date()


def volume_windows(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first day (UTC) of the 7-day and of the 30-day volume, both including today."""
    today = today or utc_today()
    return today - dt.timedelta(days=6), today - dt.timedelta(days=29)


def tracking_of(pks: Iterable, *, today: dt.date | None = None) -> dict:
    """Resource id -> `Tracking`, for every id in `pks`, in one query.

    One row per id: its ResourceSeen row (at most one) and its DailyVolume sums of the last 7
    and 30 days (the unique (resource, day) index finds them). Like `relation_ids_of`, the SQL
    is built once per process and the ids travel as one parameter: composing the equivalent
    queryset cost more than running it.
    """
    pks = list(dict.fromkeys(pks))
    if not pks:
        return {}
    since_7d, since_30d = volume_windows(today)
    params = {"ids": _ids_param(pks), "since_7d": since_7d, "since_30d": since_30d}
    with connection.cursor() as cursor:
        cursor.execute(_tracking_sql(connection.vendor), params)
        rows = cursor.fetchall()
    found = {
        as_uuid(resource_id): Tracking(aware(first), aware(last), int(v7 or 0), int(v30 or 0))
        for resource_id, first, last, v7, v30 in rows
    }
    return {pk: found.get(as_uuid(pk), Tracking()) for pk in pks}


def daily_volumes_of(pks: Iterable, *, days: int = 30, today: dt.date | None = None) -> dict:
    """Resource id -> its arrivals on each of the last `days` UTC days, oldest first (zeros
    included), for every id of `pks`, in one query: what a page's daily charts draw.

    `pks` is a page of rows (at most a few hundred ids), never a whole selection."""
    return _daily_series(DailyVolume.objects, "resource_id", pks, days=days, today=today)


def violation_days_of(pks: Iterable, *, days: int = 14, today: dt.date | None = None) -> dict:
    """Violation id -> its occurrences on each of the last `days` UTC days, oldest first
    (zeros included), in one query for a page of ids."""
    return _daily_series(ViolationDay.objects, "violation_id", pks, days=days, today=today)


def _daily_series(rows: QuerySet, key: str, pks: Iterable, *, days: int, today) -> dict:
    """`key` -> a count per day of the last `days` days, from `rows` of (key, day, count)."""
    pks = list(dict.fromkeys(pks))
    today = today or utc_today()
    since = today - dt.timedelta(days=days - 1)
    series = {pk: [0] * days for pk in pks}
    if not pks:
        return series
    rows = rows.filter(**{f"{key}__in": pks}, day__gte=since, day__lte=today)
    for pk, day, count in rows.values_list(key, "day", "count"):
        series[pk][(day - since).days] = int(count)
    return series


@functools.cache
def _tracking_sql(vendor: str) -> str:
    """The `tracking_of` query for `vendor`: (id, first seen, last seen, 7-day volume, 30-day
    volume) for each id of the `ids` parameter (see `_ids_param`).

    One row per id, each looked up by index. On PostgreSQL the volumes come from a LATERAL
    subquery; a UNION of the two tables' rows, as `relation_ids_of` reads, was planned as a
    parallel query from about 200 ids and then took 9-11 ms instead of 1.5-2. SQLite has no
    LATERAL and takes two correlated sums.
    """
    quote = connection.ops.quote_name
    seen, volume = ResourceSeen._meta, DailyVolume._meta
    day, count, resource = (
        column(volume, "day"),
        column(volume, "count"),
        column(volume, "resource"),
    )
    seen_join = f"LEFT JOIN {quote(seen.db_table)} s ON s.{column(seen, 'resource')} = i.id"
    first_last = f"s.{column(seen, 'first_seen_at')}, s.{column(seen, 'last_seen_at')}"
    if vendor == "postgresql":
        return (
            f"SELECT i.id, {first_last}, v.volume_7d, v.volume_30d "
            "FROM unnest(%(ids)s::uuid[]) AS i(id) "
            f"{seen_join} "
            "LEFT JOIN LATERAL ("
            f"SELECT SUM(CASE WHEN {day} >= %(since_7d)s THEN {count} ELSE 0 END) AS volume_7d, "
            f"SUM({count}) AS volume_30d FROM {quote(volume.db_table)} "
            f"WHERE {resource} = i.id AND {day} >= %(since_30d)s"
            ") v ON true"
        )

    def total(since: str) -> str:
        return (
            f"(SELECT SUM({count}) FROM {quote(volume.db_table)} "
            f"WHERE {resource} = i.id AND {day} >= %({since})s)"
        )

    return (
        f"SELECT i.id, {first_last}, {total('since_7d')}, {total('since_30d')} "
        "FROM (SELECT value AS id FROM json_each(%(ids)s)) AS i "
        f"{seen_join}"
    )


def attach_tracking(resources: Sequence[Resource], *, today=None) -> Sequence[Resource]:
    """Give each event and property of `resources` a `tracking` (see `tracking_of`), in one
    query (none for rows that `with_details` fetched with theirs); categories get none, and
    cost nothing."""
    tracked = [
        resource
        for resource in resources
        if resource.entity_type in TRACKED_TYPES and not _took_details(resource)
    ]
    found = tracking_of((resource.pk for resource in tracked), today=today)
    for resource in tracked:
        resource.tracking = found[resource.pk]
    return resources


# --- A page and what it shows, in one query ------------------------------------------------


def with_details(queryset: QuerySet, *, today: dt.date | None = None) -> QuerySet:
    """`queryset` whose rows bring their M2M ids and tracking along, on PostgreSQL: what
    `attach_relation_ids` and `attach_tracking` would fetch, then find already there.

    They are correlated subqueries in the select list, which the server evaluates after
    ORDER BY and LIMIT, for the page's rows only: a page in one query instead of three (at
    100,000 events: 1 row 2.4 -> 1.2 ms, 50 rows 4.9 -> 4.5 ms, 200 rows 17.3 -> 15.6 ms).
    Elsewhere `queryset` is returned as it is: SQLite evaluates such subqueries for every
    row it sorts, and a query costs it no round trip.

    For reads only: the values are those of the query, and a write after it would leave
    them stale. The SQL refers to the resource table by its name, so the result must not be
    nested in another query (a count masks the annotations; `pk__in` would not).
    """
    if connection.vendor != "postgresql":
        return queryset
    since_7d, since_30d = volume_windows(today)
    relations, first_seen, last_seen, volume = _details_sql()
    return queryset.annotate(
        **{alias: RawSQL(sql, (), output_field=Field()) for alias, sql in relations.items()},
        details_first_seen_at=RawSQL(first_seen, (), output_field=DateTimeField()),
        details_last_seen_at=RawSQL(last_seen, (), output_field=DateTimeField()),
        details_volume_7d=RawSQL(volume, (since_7d,), output_field=BigIntegerField()),
        details_volume_30d=RawSQL(volume, (since_30d,), output_field=BigIntegerField()),
    )


#: The annotation `with_details` gives each M2M field's ids (uuid[]).
_DETAIL_IDS = {field: f"details_{field}" for field in M2M_FIELDS}


@functools.cache
def _details_sql() -> tuple[dict[str, str], str, str, str]:
    """`with_details`' subqueries (PostgreSQL): {alias: the sorted ids of an M2M field},
    first seen, last seen, and the volume since its one parameter."""
    quote = connection.ops.quote_name
    outer = f"{quote(Resource._meta.db_table)}.{column(Resource._meta, 'id')}"
    relations = {}
    for field, alias in _DETAIL_IDS.items():
        through, source, target = relation_columns(field)
        meta = through._meta
        relations[alias] = (
            f"ARRAY(SELECT {column(meta, target)} FROM {quote(meta.db_table)} "
            f"WHERE {column(meta, source)} = {outer} ORDER BY 1)"
        )
    seen, volume = ResourceSeen._meta, DailyVolume._meta

    def seen_at(name: str) -> str:
        return (
            f"(SELECT {column(seen, name)} FROM {quote(seen.db_table)} "
            f"WHERE {column(seen, 'resource')} = {outer})"
        )

    since = (
        f"(SELECT SUM({column(volume, 'count')}) FROM {quote(volume.db_table)} "
        f"WHERE {column(volume, 'resource')} = {outer} AND {column(volume, 'day')} >= %s)"
    )
    return relations, seen_at("first_seen_at"), seen_at("last_seen_at"), since


def _took_details(resource: Resource) -> bool:
    """Whether `with_details` fetched `resource`; if so, its annotations are now its
    `relation_ids` and (for the tracked kinds) its `tracking`."""
    values = resource.__dict__
    if "details_volume_7d" not in values:
        return False
    resource.relation_ids = {field: values[alias] for field, alias in _DETAIL_IDS.items()}
    resource.tracking = Tracking(
        values["details_first_seen_at"],
        values["details_last_seen_at"],
        int(values["details_volume_7d"] or 0),
        int(values["details_volume_30d"] or 0),
    )
    return True


def visible_resource(
    user, pk, entity_type: str | None = None, *, today: dt.date | None = None
) -> Resource | None:
    """The resource `pk` (of `entity_type`, if given) with its details, if `user` may read
    it: what `with_details(resources_visible_to(user, entity_type)).get(pk=pk)` finds, or None.

    The read of every detail route. Composing and compiling that queryset cost twice as long
    as running it (an event by id at 100,000 events: 1.3-1.8 ms against 0.6-0.7 ms), so it is
    compiled once for each visibility, kind and day (`_by_id_query`) and only the id changes.
    """
    visibility = resource_visibility(user)
    if visibility == Visibility.NOTHING:
        return None  # its queryset is empty, and has no SQL to compile
    sql, params, at = _by_id_query(visibility, entity_type, today or utc_today())
    params = list(params)
    params[at] = Resource._meta.pk.get_db_prep_value(pk, connection)
    return next(iter(Resource.objects.raw(sql, params)), None)


#: The id `_by_id_query` compiles its lookup with, and then finds among the parameters.
_ANY_ID = uuid.UUID("00000000-0000-4000-8000-00000000c0de")


@functools.lru_cache(maxsize=32)
def _by_id_query(
    visibility: Visibility, entity_type: str | None, today: dt.date
) -> tuple[str, tuple, int]:
    """`visible_resource`'s query for a reader with `visibility`, on `today`: its SQL, its
    parameters, and where the id goes among them."""
    queryset = with_details(resources_visible_as(visibility, entity_type), today=today)
    sql, params = queryset.filter(pk=_ANY_ID).order_by().query.sql_with_params()
    placeholder = Resource._meta.pk.get_db_prep_value(_ANY_ID, connection)
    (at,) = (index for index, param in enumerate(params) if param == placeholder)
    return sql, tuple(params), at


def _volume_since(day: dt.date) -> Coalesce:
    total = (
        DailyVolume.objects.filter(resource=OuterRef("pk"), day__gte=day)
        .order_by()
        .values("resource")
        .annotate(total=Sum("count"))
        .values("total")
    )
    return Coalesce(Subquery(total), Value(0), output_field=BigIntegerField())


def volume_since(day: dt.date) -> Coalesce:
    """A resource's arrivals from `day` (UTC) on, as an expression of its row (0 when none):
    a correlated sum over the (resource, day) index, for a list sorted by volume in one
    statement."""
    return _volume_since(day)


def title_order(prefix: str = "", *, descending: bool = False) -> tuple:
    """`order_by` terms that sort titles the way a person reads a list: case-insensitive
    (`charge_disputed` among the C's), then byte-wise (`Signup` before `signup`), then by id,
    so pages never overlap. `prefix` reaches a related row's title ("parent__")."""
    lowered, title, pk = Lower(f"{prefix}title"), F(f"{prefix}title"), F(f"{prefix}id")
    if descending:
        return lowered.desc(), title.desc(), pk.desc()
    return lowered.asc(), title.asc(), pk.asc()


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


#: What a page shows instead of a PII-flagged property's value.
PII_MASK = "•••• (PII)"


def mask_pii(events: Sequence[LoggedEvent]) -> Sequence[LoggedEvent]:
    """Give each received event `shown_properties`: its properties, with the value of every
    property that the catalog flags as PII (on that integration's event of that name)
    replaced by `PII_MASK`, so a page can show payloads without the personal data in them.

    Two queries for the whole page of events (three with identify or group calls). A property
    is masked whole, nested values included; a PII-flagged event has every property masked.
    """
    names = {(event.integration_id, normalize_title(event.name)) for event in events if event.name}
    pii: dict = defaultdict(set)
    if names:
        flagged = Resource.objects.filter(
            Q(pii=True) | Q(parent__pii=True),
            entity_type=EntityType.EVENT_PROPERTY,
            integration_id__in={integration for integration, _name in names},
            # Said outright, the parent's kind lets PostgreSQL find the few events by their
            # titles first: property titles repeat, and without it the planner scanned all
            # properties (750 -> 71 ms for a page of 1,000,000 properties, bench/pages.py).
            parent__entity_type=EntityType.EVENT,
            parent__title__in={name for _integration, name in names},
        ).values_list("integration_id", "parent__title", "title")
        for integration_id, event_name, title in flagged:
            pii[integration_id, event_name].add(title)
        whole = Resource.objects.filter(
            pii=True,
            entity_type=EntityType.EVENT,
            integration_id__in={integration for integration, _name in names},
            title__in={name for _integration, name in names},
        ).values_list("integration_id", "title")
        for integration_id, event_name in whole:
            pii[integration_id, event_name].add(None)
    # Calls that name no event (identify, group) carry traits, not an event's properties: a
    # trait is masked when a property of that name is flagged PII anywhere in the integration.
    unnamed = [event for event in events if not event.name and isinstance(event.properties, dict)]
    traits = {normalize_title(str(key)) for event in unnamed for key in event.properties}
    if traits:
        flagged = Resource.objects.filter(
            pii=True,
            entity_type=EntityType.EVENT_PROPERTY,
            integration_id__in={event.integration_id for event in unnamed},
            title__in=traits,
        ).values_list("integration_id", "title")
        for integration_id, title in flagged:
            pii[integration_id, ""].add(title)
    for event in events:
        flagged_names = pii.get((event.integration_id, normalize_title(event.name or "")), ())
        properties = event.properties if isinstance(event.properties, dict) else {}
        event.shown_properties = {
            key: PII_MASK
            if None in flagged_names or normalize_title(str(key)) in flagged_names
            else value
            for key, value in properties.items()
        }
    return events


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


# --- API keys ------------------------------------------------------------------------------


def active_api_key(prefix: str) -> ApiKey | None:
    """The unrevoked key with `prefix` of an active user, with that user loaded, or None: the
    one place that says which API keys work.

    Every API request asks this, so it is one raw query built once per process: the user's
    row with the key's columns beside it (`_API_KEY_COLUMNS`). The queryset equivalent
    (`select_related`) cost twice as much to compose and compile as to run.
    """
    user = next(iter(User.objects.raw(_api_key_sql(connection.vendor), [prefix, True])), None)
    if user is None:
        return None
    values = {name: getattr(user, alias) for name, alias in _API_KEY_COLUMNS.items()}
    for alias in _API_KEY_COLUMNS.values():
        delattr(user, alias)
    values.update(
        id=as_uuid(values["id"]),
        created_at=aware(values["created_at"]),
        last_used_at=aware(values["last_used_at"]),
        user_id=user.pk,
        prefix=prefix,
        revoked_at=None,
    )
    # from_db takes every field in the model's order when given as many values as fields.
    names = [field.attname for field in ApiKey._meta.concrete_fields]
    key = ApiKey.from_db(user._state.db, names, [values[name] for name in names])
    key.user = user
    return key


#: The key's columns that `active_api_key` reads beside the user's, and their aliases there
#: (the user has an `id` too).
_API_KEY_COLUMNS = {
    "id": "key_id",
    "name": "key_name",
    "key_hash": "key_hash",
    "created_at": "key_created_at",
    "last_used_at": "key_last_used_at",
}


@functools.cache
def _api_key_sql(vendor: str) -> str:
    """`active_api_key`'s query: every column of the user and `_API_KEY_COLUMNS` of the key;
    parameters: the prefix and True."""
    quote = connection.ops.quote_name
    user, key = User._meta, ApiKey._meta
    read = ", ".join(
        f"k.{column(key, name)} AS {quote(alias)}" for name, alias in _API_KEY_COLUMNS.items()
    )
    return (
        f"SELECT u.*, {read} FROM {quote(user.db_table)} u JOIN {quote(key.db_table)} k "
        f"ON k.{column(key, 'user')} = u.{column(user, 'id')} "
        f"WHERE k.{column(key, 'prefix')} = %s AND k.{column(key, 'revoked_at')} IS NULL "
        f"AND u.{column(user, 'is_active')} = %s"
    )


def _labels_of(field: str, label: str, kinds: Sequence[str], integration) -> dict:
    """Resource id -> sorted labels (usernames, tag names) of its `field` relation, for the
    resources of `kinds` (of `integration`, if given): one query."""
    through, source, target = relation_columns(field)
    rows = through.objects.filter(**{f"{source}__entity_type__in": kinds})
    if integration is not None:
        rows = rows.filter(**{f"{source}__integration": integration})
    found = defaultdict(list)
    for resource_id, name in rows.values_list(f"{source}_id", f"{target}__{label}"):
        found[resource_id].append(name)
    return {pk: sorted(names) for pk, names in found.items()}


def tracking_plan_of(visibility: Visibility, integration=None) -> Plan:
    """The tracking plan a reader with `visibility` may read (of `integration`, if given),
    every field filled:
    events by integration, category and name, their properties by name. Six queries
    however large the plan, and no list of ids sent to the database."""
    kinds = (EntityType.EVENT, EntityType.EVENT_PROPERTY)
    events_seen = resources_visible_as(visibility, EntityType.EVENT)
    properties_seen = resources_visible_as(visibility, EntityType.EVENT_PROPERTY)
    if integration is not None:
        events_seen = events_seen.filter(integration=integration)
        properties_seen = properties_seen.filter(integration=integration)
    common = ("description", "definition", "pii", "verified", "published")
    owners = _labels_of("owners", "username", kinds, integration)
    tags = _labels_of("tags", "title", kinds, integration)
    events: dict = {}
    named: set = set()
    rows = events_seen.order_by("created_at", "id").values_list(
        "id", "title", "integration__name", "parent__title", *common
    )
    for pk, name, integration_name, category, *values in rows:
        # A name twice in one integration (in two categories): the oldest is the event, as
        # for ingestion and imports; a file can't say which of two of one name it means.
        if (integration_name, name) in named:
            continue
        named.add((integration_name, name))
        events[pk] = PlanEvent(
            name=name,
            integration=integration_name,
            category=category or "",
            **dict(zip(common, values, strict=True)),
            owners=owners.get(pk, []),
            tags=tags.get(pk, []),
        )
    columns = ("data_type", "required", "allowed_values", "examples", *common)
    for pk, name, parent_id, *values in properties_seen.order_by().values_list(
        "id", "title", "parent_id", *columns
    ):
        event = events.get(parent_id)
        if event is None:  # under an event the reader doesn't see (or another integration)
            continue
        fields = dict(zip(columns, values, strict=True))
        fields["type"] = fields.pop("data_type")
        event.properties.append(
            PlanProperty(name=name, **fields, owners=owners.get(pk, []), tags=tags.get(pk, []))
        )
    ordered = sorted(events.values(), key=lambda e: (e.integration, e.category, e.name))
    for event in ordered:
        event.properties.sort(key=lambda p: p.name)
    name = integration.name if integration is not None else ""
    return Plan(events=ordered, name=name)
