"""The ingestion pipeline: received events checked against the catalog, counted and logged.

Every wire format (catalog.tracking_api.formats) turns a request into `TrackedEvent`s; `ingest` does
the rest for a whole batch in a constant number of queries:

1. match each track call to its integration's event by name, and its properties;
2. apply the integration's validation mode — `discover` adds unknown events and properties to
   the catalog (unverified, unpublished, in "Uncategorized", through the bulk write pipeline
   with source `ingest`: history, no emails), within the integration's limits of new events
   and properties a day and properties per event (past them, names are violations); `flag`
   accepts everything and records violations; `block` accepts only registered events with
   their required properties of the right types, trims unregistered properties and reports
   the rejected events;
3. drop retries (a `messageId` seen in the last 24 hours for the integration);
4. store the accepted calls in the event log, add to daily volumes and first/last seen, and
   add to the violation counts and their days (a resolved violation that happens again
   reopens) — all with upserts, so concurrent senders lose no count, while holding the
   integration's lock, so a steward's delete waits for the batch or the batch for it
   (`catalog.services.locks`); an event deleted meanwhile is counted as unknown.
"""

import datetime as dt
import json
import logging
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from catalog.models import (
    ChangeAction,
    ChangeSource,
    DailyVolume,
    DataType,
    EntityType,
    IngestedMessage,
    Integration,
    ObjectChange,
    Resource,
    ResourceSeen,
    ValidationMode,
    Violation,
    ViolationDay,
    ViolationKind,
)
from catalog.rawsql import as_uuid, pg_array
from catalog.services.context import ChangeContext
from catalog.services.eventlog import event_row, log_rows
from catalog.services.locks import discovery_turn, share_integration
from catalog.services.resources import resources_bulk_create

logger = logging.getLogger(__name__)

#: Where discovered events go until a steward files them.
UNCATEGORIZED = "Uncategorized"
#: Longest event or property name the catalog keeps (a resource title).
MAX_NAME = 255
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass
class TrackedEvent:
    """One call as a wire format delivered it, before the catalog was asked."""

    format: str
    type: str = "track"
    name: str = ""
    properties: dict = field(default_factory=dict)
    sent_at: dt.datetime | None = None
    user_id: str = ""
    anonymous_id: str = ""
    message_id: str = ""
    #: Its position in the request, so a rejection can say which one it was.
    index: int = 0


@dataclass
class Rejection:
    index: int
    name: str
    errors: list[str]

    def as_dict(self) -> dict:
        return {"index": self.index, "event": self.name, "errors": self.errors}


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    discovered: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: The event log ids of the accepted calls, by their index in the request.
    event_ids: dict[int, str] = field(default_factory=dict)


def infer_type(value: Any) -> str:
    """The catalog data type a JSON value suggests (for discovered properties)."""
    if value is None:
        return DataType.NULL
    if isinstance(value, bool):
        return DataType.BOOLEAN
    if isinstance(value, int):
        return DataType.INTEGER
    if isinstance(value, float):
        return DataType.NUMBER
    if isinstance(value, dict):
        return DataType.OBJECT
    if isinstance(value, list):
        return DataType.ARRAY
    if isinstance(value, str) and _DATETIME.match(value):
        return DataType.DATETIME
    return DataType.STRING


def type_matches(data_type: str, value: Any) -> bool:
    """Whether `value` is of the catalog's `data_type` (null is checked as "missing")."""
    if data_type == DataType.STRING:
        return isinstance(value, str)
    if data_type == DataType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if data_type == DataType.INTEGER:
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    if data_type == DataType.BOOLEAN:
        return isinstance(value, bool)
    if data_type == DataType.OBJECT:
        return isinstance(value, dict)
    if data_type == DataType.ARRAY:
        return isinstance(value, list)
    if data_type == DataType.DATETIME:
        return isinstance(value, str) and bool(_DATETIME.match(value))
    return True  # null: anything may stand in for nothing


def _allowed(allowed_values, value) -> bool:
    if not allowed_values:
        return True
    try:
        return value in allowed_values
    except TypeError:
        return False


@dataclass(slots=True)
class Known:
    """A catalog event or property as ingestion needs it (lighter than a model instance)."""

    pk: Any
    title: str
    parent_id: Any
    data_type: str | None = None
    required: bool | None = None
    allowed_values: list | None = None


#: Bumped (in the shared cache) whenever a change set commits, so that every process's copy of
#: the tracking plan knows to read it again.
PLAN_VERSION_KEY = "catalog:plan-version"


def plan_version():
    """The catalog's change counter; None until the first change (or after the cache lost it)."""
    return cache.get(PLAN_VERSION_KEY)


def forget_plan(**_signal) -> None:
    """Tell every process that its copy of the tracking plan is stale (`catalog_changed`)."""
    try:
        cache.incr(PLAN_VERSION_KEY)
    except ValueError:  # not there yet: start it (or count this if another process just did)
        if not cache.add(PLAN_VERSION_KEY, 1, timeout=None):
            cache.incr(PLAN_VERSION_KEY)


#: Seconds a process trusts what it read of an integration's plan when nothing said it changed
#: (catalog writes say so through the shared cache at once; see `forget_plan`).
PLAN_MAX_AGE = 10.0
#: Event names a process remembers per integration before it starts afresh.
PLAN_MAX_NAMES = 20_000


class _Plan:
    """What one process has read of an integration's plan: events by name (None for a name
    the catalog doesn't have), their properties, and when each was last seen."""

    def __init__(self, version):
        self.version = version
        self.loaded_at = time.monotonic()
        self.events: dict[str, Known | None] = {}
        self.properties: dict[object, dict[str, Known]] = {}
        self.last_seen: dict[object, dt.datetime | None] = {}

    def fresh(self, version) -> bool:
        return (
            self.version == version
            and time.monotonic() - self.loaded_at < PLAN_MAX_AGE
            and len(self.events) < PLAN_MAX_NAMES
        )

    def load(self, integration: Integration, names: set[str]) -> None:
        """Read the events of `names` and their properties: two queries.

        Threads of one process share the plan: what is read is published in one step at the
        end, properties before their events, so no batch sees an event without them.
        """
        # Titles are unique per category, not per integration: the oldest event of a name
        # stands for it, so the choice never changes between batches.
        rows = (
            Resource.objects.filter(
                integration=integration, entity_type=EntityType.EVENT, title__in=names
            )
            .order_by("created_at", "id")
            .values_list("id", "title", "parent_id", "seen__last_seen_at")
        )
        events: dict[str, Known | None] = dict.fromkeys(names)
        properties: dict[object, dict[str, Known]] = {}
        last_seen: dict[object, dt.datetime | None] = {}
        for pk, title, parent_id, seen in rows:
            if events[title] is None:
                events[title] = Known(pk, title, parent_id)
                properties[pk] = {}
                last_seen[pk] = seen
        if properties:
            rows = Resource.objects.filter(
                parent_id__in=list(properties), entity_type=EntityType.EVENT_PROPERTY
            ).values_list(
                "id",
                "title",
                "parent_id",
                "data_type",
                "required",
                "allowed_values",
                "seen__last_seen_at",
            )
            for *row, seen in rows:
                properties[row[2]][row[1]] = Known(*row)
                last_seen[row[0]] = seen
        self.properties.update(properties)
        self.last_seen.update(last_seen)
        self.events.update(events)


#: Each process's plans, by integration id.
_plans: dict[object, _Plan] = {}


def forget_plans() -> None:
    """Forget what this process read of the plans (tests; after writing outside services)."""
    _plans.clear()


class _Catalog:
    """The integration's events named in a batch, with their properties, as this batch sees
    them. Read through the process's `_Plan`, so a batch of known names costs no query;
    what discovery adds stays in the batch's own copy until the catalog says it changed."""

    def __init__(self, integration: Integration, names: set[str]):
        version = plan_version()
        plan = _plans.get(integration.pk)
        if plan is None or not plan.fresh(version):
            plan = _plans[integration.pk] = _Plan(version)
        missing = names - plan.events.keys()
        if missing:
            plan.load(integration, missing)
        self.plan = plan
        self.integration_pk = integration.pk
        #: (event, property or "") -> why discovery left the name out, for its violation.
        self.refused: dict[tuple[str, str], str] = {}
        #: The limits discovery stopped at in this batch.
        self.limit_reached: list[str] = []
        self.events: dict[str, Any] = {
            name: plan.events[name] for name in names if plan.events[name] is not None
        }
        self.properties: dict[object, dict[str, Any]] = defaultdict(dict)
        for event in self.events.values():
            self.properties[event.pk] = dict(plan.properties.get(event.pk, {}))
        self.last_seen = plan.last_seen

    def forget_vanished(self) -> bool:
        """Drop the events and properties deleted since the plan was read; True if any were.

        Called in the batch's transaction while it holds its integration's lock, so no delete
        can happen between this check and the batch's writes (see `catalog.services.locks`):
        a just-deleted event is an unknown one, and nothing is written that points at it.
        """
        ids = [event.pk for event in self.events.values()]
        ids += [prop.pk for props in self.properties.values() for prop in props.values()]
        if not ids:
            return False
        existing = set(Resource.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if len(existing) == len(ids):
            return False
        self.events = {n: e for n, e in self.events.items() if e.pk in existing}
        self.properties = defaultdict(
            dict,
            {
                event_pk: {n: p for n, p in props.items() if p.pk in existing}
                for event_pk, props in self.properties.items()
                if event_pk in existing
            },
        )
        # What this process read of the plan is out of date: the next batch reads it again.
        _plans.pop(self.integration_pk, None)
        return True

    def seen(self, pks, when) -> None:
        """Once committed, remember that `pks` were seen at `when`."""
        last_seen = self.last_seen
        transaction.on_commit(lambda: last_seen.update(dict.fromkeys(pks, when)))


class _Tally:
    """What a batch adds to the counters, keyed so that upserts lock rows in one order."""

    def __init__(self):
        self.volumes: dict[object, int] = defaultdict(int)
        self.violations: dict[tuple, dict] = {}
        #: Catalog event id -> a call of it in the batch (for `deleted`).
        self.calls: dict[object, TrackedEvent] = {}

    def deleted(self, pks) -> None:
        """`pks` were deleted after the batch read the plan: their calls were counted as
        nothing, and each such event is recorded as unknown, as it now is."""
        for pk in pks:
            event = self.calls.get(pk)
            if event is not None:
                message = f"Unknown event {event.name!r}: it was deleted from the catalog."
                self.violation(event, ViolationKind.UNKNOWN_EVENT, message)

    def limit_reached(self, limits: Sequence[str], names: int) -> None:
        """One violation of the integration (no event) says discovery stopped, and where;
        it counts the names left out."""
        key = ("", "", ViolationKind.DISCOVERY_LIMIT)
        self.violations[key] = {
            "count": names,
            "event_id": None,
            "message": "Discovery stopped at its limits ("
            + "; ".join(limits)
            + "): the unknown events and properties past them were recorded as violations, "
            "not added. An admin can raise the limits on the integration.",
            "example": None,
        }

    def violation(self, event: TrackedEvent, kind: str, message: str, *, prop="", resource=None):
        key = (event.name, prop, kind)
        entry = self.violations.get(key)
        if entry is None:
            entry = self.violations[key] = {"count": 0, "event_id": None}
        entry["count"] += 1
        entry["message"] = message
        entry["example"] = event
        entry["property"] = prop
        if resource is not None:
            entry["event_id"] = resource.pk


def _check(
    event: TrackedEvent, resource: Resource | None, known: Mapping[str, Resource], tally: _Tally
) -> tuple[list[str], list[str]]:
    """The event's breaches of its plan: (errors that block, names of unknown properties)."""
    errors, unknown = [], []
    props = event.properties
    for name, value in props.items():
        prop = known.get(name)
        if prop is None:
            unknown.append(name)
            continue
        if value is None:
            continue
        if not type_matches(prop.data_type, value):
            message = f"Property {name!r} must be {prop.data_type}, not {infer_type(value)}."
            tally.violation(event, ViolationKind.WRONG_TYPE, message, prop=name, resource=resource)
            errors.append(message)
        elif not _allowed(prop.allowed_values, value):
            message = f"Property {name!r} has a value that is not allowed: {value!r}"[:500]
            tally.violation(event, ViolationKind.NOT_ALLOWED, message, prop=name, resource=resource)
            errors.append(message)
    for name, prop in known.items():
        if prop.required and props.get(name) is None:
            message = f"Required property {name!r} is missing."
            kind = ViolationKind.MISSING_REQUIRED
            tally.violation(event, kind, message, prop=name, resource=resource)
            errors.append(message)
    return errors, unknown


def breaches_of(event: TrackedEvent, known: Mapping[str, Known]) -> tuple[list[str], list[str]]:
    """What `event` breaks of its event's `known` properties (errors, unknown property names),
    as a call in `block` mode would be told: for checking samples against the plan."""
    return _check(event, None, known, _Tally())


def ingest(*, ctx: ChangeContext, events: Sequence[TrackedEvent]) -> IngestResult:
    """Check, count and log a batch of calls for the context's integration (see the module
    docstring); what discovery adds is recorded with `ctx` like any other write."""
    integration = ctx.integration
    if integration is None:
        raise ValueError("Ingestion needs the change context of an integration's write key.")
    result = IngestResult()
    if not events:
        return result
    now = timezone.now()
    mode = integration.validation_mode
    tracks = [e for e in events if e.type == "track"]
    catalog = _Catalog(integration, {e.name for e in tracks})
    tally = _Tally()

    if mode == ValidationMode.DISCOVER:
        result.discovered = _discover(ctx, tracks, catalog, now)

    with transaction.atomic():
        # Deletes of this integration's resources wait for the batch, and it for them.
        share_integration(integration.pk)
        accepted = _checked(events, catalog, tally, mode, result)
        accepted, result.duplicates = _drop_retries(integration, accepted, now)
        rows = []
        integration_id = as_uuid(integration.pk)
        for event, resource in accepted:
            row_id = uuid.uuid4()
            result.event_ids[event.index] = str(row_id)
            rows.append(
                event_row(
                    id=row_id,
                    integration_id=integration_id,
                    received_at=now,
                    sent_at=event.sent_at,
                    type=event.type,
                    name=event.name,
                    user_id=event.user_id,
                    anonymous_id=event.anonymous_id,
                    message_id=event.message_id,
                    properties=event.properties,
                    format=event.format,
                )
            )
            if resource is None:
                continue
            tally.volumes[resource.pk] += 1
            tally.calls[resource.pk] = event
            known = catalog.properties.get(resource.pk, {})
            for name in event.properties:
                prop = known.get(name)
                if prop is not None:
                    tally.volumes[prop.pk] += 1
        log_rows(rows)
        catalog.seen(_count(integration, tally, now, catalog.last_seen), now)
    result.accepted = len(accepted)
    return result


def _checked(
    events: Sequence[TrackedEvent], catalog: "_Catalog", tally: _Tally, mode: str, result
) -> list[tuple[TrackedEvent, Any]]:
    """Apply the validation mode: the calls to keep, each with its catalog event (None for
    other calls and unknown events); rejections go to `result`, violations to `tally`."""
    accepted: list[tuple[TrackedEvent, Any]] = []
    for event in events:
        if event.type != "track":
            accepted.append((event, None))
            continue
        resource = catalog.events.get(event.name)
        if resource is None:
            message = catalog.refused.get((event.name, ""))
            if message is None:
                message = f"Unknown event {event.name!r}: it isn't in the catalog."
                if mode == ValidationMode.BLOCK:
                    message = f"Unknown event {event.name!r}: register it in the catalog first."
            tally.violation(event, ViolationKind.UNKNOWN_EVENT, message)
            if mode == ValidationMode.BLOCK:
                result.rejected.append(Rejection(event.index, event.name, [message]))
            else:
                accepted.append((event, None))
            continue
        known = catalog.properties.get(resource.pk, {})
        errors, unknown = _check(event, resource, known, tally)
        for name in unknown:
            message = catalog.refused.get((event.name, name))
            if message is None:
                message = f"Unknown property {name!r} of {event.name!r}."
            tally.violation(
                event, ViolationKind.UNKNOWN_PROPERTY, message, prop=name, resource=resource
            )
        if mode == ValidationMode.BLOCK:
            if errors:
                result.rejected.append(Rejection(event.index, event.name, errors))
                continue
            if unknown:  # as seed 002: what the plan doesn't know is trimmed
                event.properties = {k: v for k, v in event.properties.items() if k in known}
        accepted.append((event, resource))
    if catalog.limit_reached:
        tally.limit_reached(catalog.limit_reached, len(catalog.refused))
    return accepted


def _unknown_names(
    tracks: Sequence[TrackedEvent], catalog: "_Catalog"
) -> tuple[dict[str, None], dict[tuple[str, str], str]]:
    """The batch's events the catalog doesn't have, and its new (event, property) pairs with
    the type their first non-null value suggests, in the order they came."""
    new_events: dict[str, None] = {}
    new_props: dict[tuple[str, str], str] = {}
    for event in tracks:
        resource = catalog.events.get(event.name)
        if resource is None:
            new_events.setdefault(event.name)
            known = {}
        else:
            known = catalog.properties.get(resource.pk, {})
        for name, value in event.properties.items():
            if name not in known and (event.name, name) not in new_props:
                new_props[(event.name, name)] = infer_type(value)
            elif (event.name, name) in new_props and new_props[(event.name, name)] == "null":
                new_props[(event.name, name)] = infer_type(value)  # a later, better example
    return new_events, new_props


def _discover(
    ctx: ChangeContext,
    tracks: Sequence[TrackedEvent],
    catalog: "_Catalog",
    now: dt.datetime,
) -> int:
    """Add the batch's unknown events and properties to the catalog, within the integration's
    limits (see `_Budget`); returns how many were added."""
    integration = ctx.integration
    new_events, new_props = _unknown_names(tracks, catalog)
    if not new_events and not new_props:
        return 0
    with transaction.atomic():
        share_integration(integration.pk)
        discovery_turn(integration.pk)
        if catalog.forget_vanished():  # deleted a moment ago: new again
            new_events, new_props = _unknown_names(tracks, catalog)
        budget = _Budget(integration, catalog, now)
        new_events = {name: None for name in new_events if budget.take_event(name)}
        new_props = {
            key: kind
            for key, kind in new_props.items()
            if (key[0] in new_events or key[0] in catalog.events) and budget.take_property(*key)
        }
        catalog.refused = budget.refused
        catalog.limit_reached = budget.reached
        if budget.reached:
            logger.warning(
                "Integration %s: discovery stopped at its limits (%s); %d names not added.",
                integration,
                "; ".join(budget.reached),
                len(budget.refused),
            )
        if not new_events and not new_props:
            return 0
        return _add_discovered(ctx, catalog, new_events, new_props)


#: New names (events and properties) one batch adds at most, so that no request spends
#: seconds creating resources (about 0.6 ms each on PostgreSQL); the rest are added when
#: they come again, in later batches, until the daily limits.
MAX_DISCOVERED_PER_BATCH = 1_000


class _Budget:
    """What discovery may still add: in this batch, `MAX_DISCOVERED_PER_BATCH` names; today,
    the integration's daily limits of new events and properties less what ingestion added
    since midnight (UTC); and its limit of properties per event. Names past a limit are kept
    with the reason, for their violations."""

    def __init__(self, integration: Integration, catalog: "_Catalog", now: dt.datetime):
        self.integration = integration
        self.catalog = catalog
        midnight = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(), dt.UTC)
        added = dict(
            ObjectChange.objects.filter(
                change_set__integration=integration,
                change_set__source=ChangeSource.INGEST,
                change_set__created_at__gte=midnight,
                action=ChangeAction.CREATE,
            )
            .values_list("object_type")
            .annotate(Count("id"))
        )
        self.events_left = integration.max_new_events_per_day - added.get(EntityType.EVENT, 0)
        self.properties_left = integration.max_new_properties_per_day - added.get(
            EntityType.EVENT_PROPERTY, 0
        )
        self.batch_left = MAX_DISCOVERED_PER_BATCH
        self.per_event: dict[str, int] = {}  # event name -> properties it has or will have
        self.refused: dict[tuple[str, str], str] = {}
        self.reached: list[str] = []

    def _reach(self, limit: str) -> None:
        if limit not in self.reached:
            self.reached.append(limit)

    def _batch_full(self) -> str | None:
        """Why this batch adds no more names, if it doesn't."""
        if self.batch_left > 0:
            return None
        self._reach(f"{MAX_DISCOVERED_PER_BATCH:,} new names a batch")
        return (
            f"this batch already added {MAX_DISCOVERED_PER_BATCH:,} new names, the most one "
            "batch adds (it is added when it comes again)"
        )

    def take_event(self, name: str) -> bool:
        reason = self._batch_full()
        if reason is None and self.events_left <= 0:
            limit = self.integration.max_new_events_per_day
            self._reach(f"{limit:,} new events a day")
            reason = (
                f"ingestion already added {limit:,} new events to {self.integration} today "
                "(its daily limit)"
            )
        if reason is None:
            self.events_left -= 1
            self.batch_left -= 1
            return True
        self.refused[(name, "")] = f"Unknown event {name!r}: not added to the catalog, as {reason}."
        return False

    def take_property(self, event_name: str, name: str) -> bool:
        if event_name not in self.per_event:
            known = self.catalog.events.get(event_name)
            self.per_event[event_name] = (
                len(self.catalog.properties.get(known.pk, {})) if known is not None else 0
            )
        reason = self._batch_full() or self._property_limit(event_name)
        if reason is None:
            self.properties_left -= 1
            self.batch_left -= 1
            self.per_event[event_name] += 1
            return True
        self.refused[(event_name, name)] = (
            f"Unknown property {name!r} of {event_name!r}: not added to the catalog, as {reason}."
        )
        return False

    def _property_limit(self, event_name: str) -> str | None:
        """Why no property may be added to `event_name` today, if none may."""
        per_event = self.integration.max_properties_per_event
        if self.per_event[event_name] >= per_event:
            self._reach(f"{per_event:,} properties per event")
            return f"{event_name!r} has {per_event:,} properties (the integration's limit)"
        if self.properties_left <= 0:
            limit = self.integration.max_new_properties_per_day
            self._reach(f"{limit:,} new properties a day")
            return (
                f"ingestion already added {limit:,} new properties to {self.integration} "
                "today (its daily limit)"
            )
        return None


def _add_discovered(
    ctx: ChangeContext,
    catalog: "_Catalog",
    new_events: Mapping[str, None],
    new_props: Mapping[tuple[str, str], str],
) -> int:
    """Create the chosen events and properties through the bulk write pipeline."""
    integration = ctx.integration
    items: list[tuple[str, dict]] = []
    created_events: dict[str, int] = {}  # name -> its item's index
    if new_events:
        category: Resource | int | None = _uncategorized(integration)
        if category is None:
            description = "Events found by ingestion, waiting to be filed."
            items.append(
                (
                    EntityType.EVENT_CATEGORY,
                    {
                        "title": UNCATEGORIZED,
                        "integration": integration,
                        "description": description,
                    },
                )
            )
            category = 0
        for name in new_events:
            data = {"title": name, "parent": category, "integration": integration}
            items.append((EntityType.EVENT, data))
            created_events[name] = len(items) - 1
    for (event_name, prop), data_type in new_props.items():
        known = catalog.events.get(event_name)
        if known is not None:  # the row exists: a stand-in instance saves loading it
            parent = Resource(
                id=known.pk,
                entity_type=EntityType.EVENT,
                title=known.title,
                parent_id=known.parent_id,
                integration=integration,
            )
        else:
            parent = created_events[event_name]
        items.append(
            (
                EntityType.EVENT_PROPERTY,
                {
                    "title": prop,
                    "parent": parent,
                    "integration": integration,
                    "data_type": data_type,
                    "required": False,
                },
            )
        )
    rows, made = resources_bulk_create(ctx=ctx, items=items)
    for row in rows:
        if row.entity_type == EntityType.EVENT:
            catalog.events[row.title] = row
        elif row.entity_type == EntityType.EVENT_PROPERTY:
            catalog.properties[row.parent_id][row.title] = row
    return made


def _uncategorized(integration: Integration) -> Resource | None:
    """The integration's "Uncategorized" category, if it has one."""
    return Resource.objects.filter(
        integration=integration, entity_type=EntityType.EVENT_CATEGORY, title=UNCATEGORIZED
    ).first()


def _drop_retries(integration: Integration, accepted: list, now) -> tuple[list, int]:
    """Keep the calls whose `messageId` wasn't received in the last 24 hours (nor earlier in
    this batch); record the new ids. One statement."""
    seen_in_batch: set[str] = set()
    fresh, ids = [], []
    duplicates = 0
    for event, resource in accepted:
        if event.message_id:
            if event.message_id in seen_in_batch:
                duplicates += 1
                continue
            seen_in_batch.add(event.message_id)
            ids.append(event.message_id[:MAX_NAME])
        fresh.append((event, resource))
    if not ids:
        return fresh, duplicates
    table = IngestedMessage._meta.db_table
    ids.sort()
    # A stale id (older than a day, not yet purged) counts as new again.
    new = {
        row[0]
        for row in _upsert(
            table,
            {
                "integration_id": ("uuid", [integration.pk] * len(ids)),
                "message_id": ("text", ids),
                "received_at": ("timestamptz", [now] * len(ids)),
            },
            conflict="integration_id, message_id",
            update=f"received_at = excluded.received_at WHERE {table}.received_at < %s",
            update_params=[_time(now - dt.timedelta(hours=24))],
            returning="message_id",
        )
    }
    kept = [(e, r) for e, r in fresh if not e.message_id or e.message_id[:MAX_NAME] in new]
    return kept, duplicates + len(fresh) - len(kept)


def _time(value):
    """A datetime as the database stores it (SQLite: naive UTC text, as Django writes it)."""
    return connection.ops.adapt_datetimefield_value(value)


def _adapt(kind: str, value):
    if value is None:
        return None
    if kind == "uuid":
        return uuid.UUID(str(value)).hex
    if kind == "timestamptz":
        return _time(value)
    if kind == "date":
        return connection.ops.adapt_datefield_value(value)
    return value


def _upsert(
    table: str,
    columns: Mapping[str, tuple[str, list]],
    *,
    conflict: str,
    update: str,
    update_params=(),
    returning: str | None = None,
    resources: Mapping[str, str] | None = None,
) -> list:
    """INSERT ... ON CONFLICT (`conflict`) DO UPDATE SET `update`, for many rows at once.

    `columns` maps each column to its PostgreSQL type and its values. On PostgreSQL the rows
    travel as one array per column (`unnest`), so the statement has a handful of parameters
    however many rows; SQLite gets a VALUES list.

    `resources` names the columns holding catalog resource ids, which a steward may have
    deleted since the batch read the plan: rows whose resource is gone are left out
    ("skip") or keep NULL there ("null"), in the same statement (the batch holds its
    integration's lock, so no delete runs meanwhile: see `catalog.services.locks`).
    """
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind, _ in columns.values())
        source = f"SELECT * FROM unnest({arrays})"
        params = [pg_array(kind, values) for kind, values in columns.values()]
    else:
        rows = list(zip(*(values for _, values in columns.values()), strict=True))
        kinds = [kind for kind, _ in columns.values()]
        source = "VALUES " + ", ".join(["(" + ", ".join(["%s"] * len(kinds)) + ")"] * len(rows))
        params = [
            _adapt(kind, value) for row in rows for kind, value in zip(kinds, row, strict=True)
        ]
    resources = resources or {}
    found = f"SELECT r.id FROM {Resource._meta.db_table} r WHERE r.id = v.%s"
    selected = ", ".join(
        f"({found % name})" if resources.get(name) == "null" else f"v.{name}" for name in columns
    )
    # SQLite needs a WHERE to tell an upsert's SELECT from its ON CONFLICT clause.
    where = " AND ".join(
        f"EXISTS ({found % name})" for name, how in resources.items() if how == "skip"
    )
    sql = (
        f"WITH v ({names}) AS ({source}) INSERT INTO {table} ({names}) "
        f"SELECT {selected} FROM v WHERE {where or 'true'} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {update}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *update_params])
        return cursor.fetchall() if returning else []


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if connection.vendor == "postgresql" else f"MAX({a}, {b})"


#: `last_seen_at` moves at most this often: a hot event's row isn't rewritten by every batch.
SEEN_PRECISION = dt.timedelta(minutes=1)


def _count(integration: Integration, tally: _Tally, now, last_seen: Mapping) -> list:
    """Add the batch to volumes, first/last seen and violations: one upsert each, rows in a
    fixed order so that concurrent batches can't deadlock. First/last seen is written only
    for what wasn't seen in the last `SEEN_PRECISION` (as the catalog read said); returns
    those written."""
    day = now.astimezone(dt.UTC).date()
    stale: list = []
    if tally.volumes:
        keys = sorted(tally.volumes, key=as_uuid)
        table = DailyVolume._meta.db_table
        written = _upsert(
            table,
            {
                "resource_id": ("uuid", keys),
                "day": ("date", [day] * len(keys)),
                "count": ("bigint", [tally.volumes[pk] for pk in keys]),
            },
            conflict="resource_id, day",
            update=f"count = {table}.count + excluded.count",
            returning="resource_id",
            resources={"resource_id": "skip"},
        )
        if len(written) < len(keys):
            kept = {as_uuid(row[0]) for row in written}
            tally.deleted([pk for pk in keys if as_uuid(pk) not in kept])
            keys = [pk for pk in keys if as_uuid(pk) in kept]
        recent = now - SEEN_PRECISION
        stale = [pk for pk in keys if (last_seen.get(pk) or recent) <= recent]
        if stale:
            table = ResourceSeen._meta.db_table
            _upsert(
                table,
                {
                    "resource_id": ("uuid", stale),
                    "first_seen_at": ("timestamptz", [now] * len(stale)),
                    "last_seen_at": ("timestamptz", [now] * len(stale)),
                },
                conflict="resource_id",
                update=f"last_seen_at = excluded.last_seen_at WHERE {table}.last_seen_at < %s",
                update_params=[_time(recent)],
                resources={"resource_id": "skip"},
            )
    if tally.violations:
        _within_violation_limit(integration, tally)
        table = Violation._meta.db_table
        keys = sorted(tally.violations)
        entries = [tally.violations[key] for key in keys]
        written = _upsert(
            table,
            {
                "integration_id": ("uuid", [integration.pk] * len(keys)),
                "event_id": ("uuid", [entry["event_id"] for entry in entries]),
                "event_name": ("text", [key[0][:MAX_NAME] for key in keys]),
                "property_name": ("text", [key[1][:MAX_NAME] for key in keys]),
                "kind": ("text", [key[2] for key in keys]),
                "count": ("bigint", [entry["count"] for entry in entries]),
                "first_seen_at": ("timestamptz", [now] * len(keys)),
                "last_seen_at": ("timestamptz", [now] * len(keys)),
                "message": ("text", [entry["message"] for entry in entries]),
                "example": (
                    "jsonb",
                    [
                        json.dumps(
                            _example(entry["example"], entry.get("property", ""))
                            if entry["example"]
                            else {},
                            ensure_ascii=False,
                        )
                        for entry in entries
                    ],
                ),
            },
            conflict="integration_id, event_name, property_name, kind",
            update=(
                f"count = {table}.count + excluded.count, "
                f"last_seen_at = {_greatest(f'{table}.last_seen_at', 'excluded.last_seen_at')}, "
                "message = excluded.message, example = excluded.example, "
                f"event_id = COALESCE(excluded.event_id, {table}.event_id), "
                # It happened again: a resolved violation reopens.
                "resolved_at = NULL, resolved_by_id = NULL"
            ),
            returning="id, event_name, property_name, kind",
            resources={"event_id": "null"},
        )
        _count_violation_days(written, tally, keys, entries, day)
    return stale


def _count_violation_days(written, tally: _Tally, keys, entries, day) -> None:
    """Add the batch's occurrences to each violation's count of the day (its trend): one
    upsert, rows in the order of the violations' ids."""
    counts = {
        (key[0][:MAX_NAME], key[1][:MAX_NAME], key[2]): entry["count"]
        for key, entry in zip(keys, entries, strict=True)
    }
    by_id = sorted((row[0], counts[tuple(row[1:])]) for row in written)
    if not by_id:
        return
    table = ViolationDay._meta.db_table
    _upsert(
        table,
        {
            "violation_id": ("bigint", [pk for pk, _ in by_id]),
            "day": ("date", [day] * len(by_id)),
            "count": ("bigint", [count for _, count in by_id]),
        },
        conflict="violation_id, day",
        update=f"count = {table}.count + excluded.count",
    )


def _within_violation_limit(integration: Integration, tally: _Tally) -> None:
    """Keep the integration's distinct violations to INGEST_MAX_VIOLATIONS: past it, the
    batch's new (event, property, kind) are counted in one `violation_limit` row instead of
    a row each. One count while there is room; the integration's keys only once it is near."""
    limit = settings.INGEST_MAX_VIOLATIONS
    rows = Violation.objects.filter(integration=integration)
    held = rows.count()
    if held + len(tally.violations) <= limit:
        return
    existing = set(rows.values_list("event_name", "property_name", "kind"))
    overflow = ("", "", ViolationKind.VIOLATION_LIMIT)
    room = max(0, limit - 1 - held) if overflow not in existing else max(0, limit - held)
    folded = 0
    for key in sorted(tally.violations):
        stored = (key[0][:MAX_NAME], key[1][:MAX_NAME], key[2])
        if key == overflow or stored in existing:
            continue
        if room > 0:
            room -= 1
            continue
        folded += tally.violations.pop(key)["count"]
    if folded:
        entry = tally.violations.setdefault(
            overflow, {"count": 0, "event_id": None, "example": None}
        )
        entry["count"] += folded
        entry["message"] = (
            f"{integration} holds {limit:,} distinct violations, the limit: further ones are "
            "counted here together. Delete resolved violations to make room."
        )


def _example(event: TrackedEvent, prop: str = "") -> dict:
    """The event that broke the plan, as a violation keeps it: for a property's violation
    only that property (a sender of thousands of new names would otherwise store the whole
    event once per name)."""
    if prop:
        properties = {prop: event.properties[prop]} if prop in event.properties else {}
    else:
        properties = event.properties
    return {
        "event": event.name,
        "type": event.type,
        "properties": properties,
        "user_id": event.user_id,
        "anonymous_id": event.anonymous_id,
        "message_id": event.message_id,
        "sent_at": event.sent_at.isoformat() if event.sent_at else None,
    }
