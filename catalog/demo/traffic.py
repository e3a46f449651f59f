"""Tracking data for the demo catalog: what its integrations sent today and on the days before.

Loaded after the catalog (`load_demo_traffic`, called by `catalog.demo.loader`), in two steps:

1. **The past 30 days.** Ingestion counts what it receives on the day it receives it, so a
   fresh catalog would show no 7- or 30-day volumes and no event "not seen for N days". This
   step writes `DailyVolume` rows for the 30 days before today and `ResourceSeen` first/last
   seen directly, in bulk (`bulk_create`). These are tracking counters, not catalog writes:
   nothing of the catalog changes, so the write pipeline (history, notifications) has no part
   in it, as it has none when ingestion upserts the same rows. Each event has a daily rate,
   with fewer events at weekends (more on mobile), a slow growth and some noise; each
   property arrives with its event (a required one always, an optional one in a share of
   them). A few events are left stale: deprecated ones last seen 40 to 75 days ago, a few
   drafts never seen (planned, not shipped yet), a few others last seen 8 to 20 days ago;
   experiments started in the last two weeks.

2. **Today.** Batches of calls go through `catalog.services.ingest.ingest`, as trackers' calls
   do: known events with properties of the right types and allowed values, made from each
   property's data type, allowed values and examples in the catalog. An integration in `flag`
   mode also gets a few breaches (a wrong type, a missing required property, a value not
   allowed, an unknown property, an unknown event), recorded as violations; the events of
   `UNKNOWN_EVENTS` go to their integration, where `discover` mode adds them to the catalog
   ("Uncategorized", history with the source Ingestion). Ingestion moves the last seen of
   what it receives to now.

A seeded `random.Random` makes the same traffic at every load (ids and dates aside).
"""

import datetime as dt
import math
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from catalog.models import (
    DailyVolume,
    DataType,
    EntityType,
    Integration,
    IntegrationType,
    Resource,
    ResourceSeen,
    ValidationMode,
)
from catalog.services.context import ChangeContext
from catalog.services.ingest import TrackedEvent, ingest, type_matches

__all__ = ["DAYS", "UNKNOWN_EVENTS", "load_demo_traffic"]

SEED = 20240502
#: Days of volumes before today.
DAYS = 30
#: Calls sent today, per integration.
CALLS_TODAY = 130
#: Calls per ingested batch.
BATCH = 50
#: Events the catalog doesn't know, by integration: (name, properties).
UNKNOWN_EVENTS: dict[str, list[tuple[str, dict]]] = {
    "Web app": [
        (
            "Gift Card Redeemed",
            {"gift_card_id": "gc_7Hq2", "amount_cents": 2500, "currency_code": "EUR"},
        ),
        ("Dark Mode Toggled", {"enabled": True, "page_path": "/settings/appearance"}),
    ],
    "Backend": [("order_archived", {"order_id": "ord_5521", "archived_by": "retention-job"})],
}
#: The wire format each kind of integration sends in (as `catalog.tracking_api.formats` names them).
FORMATS = {IntegrationType.SEGMENT: "segment", IntegrationType.AMPLITUDE: "prime"}
#: What weekends weigh, mobile apps aside (people shop on their phones on Sundays).
WEEKEND = {IntegrationType.AMPLITUDE: 1.15}
#: How many events of each integration are left unseen, by kind: gone (deprecated, last seen
#: 40 to 75 days ago), never seen (a draft), quiet (last seen 8 to 20 days ago).
GONE = 1
NEVER_SEEN = 1
QUIET = 1
#: How often an event arrives, by a word of its name (the first match counts): views are many,
#: purchases fewer, failures few.
RATE_HINTS = [
    (
        ("fail", "crash", "delet", "denied", "disput", "lock", "suspicious", "bounce", "refund",
         "cancel", "gdpr", "expired", "unsubscribe", "low", "return"),
        0.05,
    ),
    (
        ("completed", "paid", "order", "purchase", "charge", "invoice", "subscription", "trial",
         "signed up", "account created", "installed"),
        0.3,
    ),
    (
        ("viewed", "opened", "screen", "page", "backgrounded", "received", "shown", "sent",
         "delivered", "signed in", "login_succeeded"),
        4.0,
    ),
]  # fmt: skip


@dataclass
class _Prop:
    pk: Any
    title: str
    data_type: str
    required: bool
    allowed: list | None
    examples: list | None
    #: How often the property comes with its event.
    share: float = 1.0


@dataclass
class _Event:
    pk: Any
    integration: Integration
    title: str
    deprecated: bool
    draft: bool
    experiment: bool
    props: list[_Prop] = field(default_factory=list)
    #: Arrivals per day, lately.
    rate: float = 0.0
    #: Days ago it was first and last seen; None: never.
    first: int | None = None
    last: int | None = None


def load_demo_traffic(
    integrations: Iterable[Integration], *, now: dt.datetime | None = None
) -> dict[str, int]:
    """Give the integrations' events 30 days of volumes and today's traffic (see the module
    docstring); returns how many calls were sent today, and how many volume rows written."""
    rng = random.Random(SEED)
    now = now or timezone.now()
    integrations = list(integrations)
    events = _events(integrations, rng)
    _plan_lifetimes(events, rng)
    volumes = _write_history(events, rng, now)
    sent = discovered = 0
    for integration in integrations:
        own = [e for e in events if e.integration.pk == integration.pk]
        calls = _today(integration, own, rng, now)
        for start in range(0, len(calls), BATCH):
            batch = calls[start : start + BATCH]
            for index, call in enumerate(batch):
                call.index = index
            result = ingest(ctx=ChangeContext.for_write_key(integration), events=batch)
            sent += result.accepted
            discovered += result.discovered
    return {"received": sent, "discovered": discovered, "daily_volumes": volumes}


def _events(integrations: list[Integration], rng: random.Random) -> list[_Event]:
    """The integrations' events with their properties, in a fixed order: three queries."""
    resources = Resource.objects.filter(integration__in=integrations)
    deprecated = set(
        resources.filter(tags__title="deprecated").values_list("pk", flat=True).distinct()
    )
    experiments = set(
        resources.filter(tags__title="experiment").values_list("pk", flat=True).distinct()
    )
    by_pk = {i.pk: i for i in integrations}
    events = {}
    rows = resources.filter(entity_type=EntityType.EVENT).values_list(
        "pk", "integration_id", "parent__title", "title", "published"
    )
    for pk, integration_id, _category, title, published in sorted(
        rows, key=lambda row: (by_pk[row[1]].name, row[2], row[3])
    ):
        events[pk] = _Event(
            pk,
            by_pk[integration_id],
            title,
            deprecated=pk in deprecated,
            draft=not published,
            experiment=pk in experiments,
        )
    props = resources.filter(entity_type=EntityType.EVENT_PROPERTY).values_list(
        "pk", "parent_id", "title", "data_type", "required", "allowed_values", "examples"
    )
    for pk, parent_id, *spec in sorted(props, key=lambda row: row[2]):
        if parent_id in events:
            events[parent_id].props.append(_Prop(pk, *spec))
    for event in events.values():
        # Mostly tens to hundreds a day; thousands of views, a handful of failures.
        title = event.title.lower()
        hint = next((share for words, share in RATE_HINTS if any(w in title for w in words)), 1)
        event.rate = hint * rng.lognormvariate(math.log(60), 0.8)
        for prop in event.props:
            prop.share = 1.0 if prop.required else rng.choice((0.35, 0.6, 0.8, 0.95, 1.0))
    return list(events.values())


def _plan_lifetimes(events: list[_Event], rng: random.Random) -> None:
    """When each event was first and last seen, in days before today (0: today)."""
    for integration in {e.integration.pk: e.integration for e in events}.values():
        own = [e for e in events if e.integration.pk == integration.pk]
        # A deprecated event stopped a while ago (the others still come from old app versions,
        # less and less); a draft was never shipped.
        deprecated = [e for e in own if e.deprecated]
        for event in rng.sample(deprecated, min(GONE, len(deprecated))):
            event.last = rng.randint(40, 75)
            event.first = event.last + rng.randint(90, 300)
        for event in deprecated:
            event.rate *= 0.2
        drafts = [e for e in own if e.draft and not e.deprecated]
        for event in rng.sample(drafts, min(NEVER_SEEN, len(drafts))):
            event.first = event.last = None
            event.rate = 0.0
        live = [e for e in own if e.last is None and e.rate]
        for event in live:
            event.first = rng.randint(3, 14) if event.experiment else rng.randint(60, 400)
            event.last = 1
        # A few stopped arriving last week or the one before: a broken release, a moved button.
        for event in rng.sample(live, min(QUIET, len(live))):
            event.last = rng.randint(8, 20)
            event.first = max(event.first, event.last + 30)


def _at(now: dt.datetime, days_ago: int, rng: random.Random) -> dt.datetime:
    """A moment of the UTC day `days_ago` days before `now`'s (before now, for today)."""
    day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day -= dt.timedelta(days=days_ago)
    latest = (now - day).total_seconds() - 120 if days_ago == 0 else 86399
    return day + dt.timedelta(seconds=rng.uniform(0, max(latest, 0)))


def _write_history(events: list[_Event], rng: random.Random, now: dt.datetime) -> int:
    """DailyVolume rows for the `DAYS` days before today and ResourceSeen rows, in bulk."""
    today = now.astimezone(dt.UTC).date()
    volumes: list[tuple[Any, dt.date, int]] = []
    seen: list[ResourceSeen] = []
    for event in events:
        if event.first is None:
            continue
        weekend = WEEKEND.get(event.integration.type, 0.65)
        first_at, last_at = _at(now, event.first, rng), _at(now, event.last, rng)
        seen.append(
            ResourceSeen(resource_id=event.pk, first_seen_at=first_at, last_seen_at=last_at)
        )
        sent_props = set()
        for days_ago in range(event.last, min(event.first, DAYS) + 1):
            day = today - dt.timedelta(days=days_ago)
            factor = weekend if day.weekday() >= 5 else 1.0
            growth = 1 + 0.004 * (DAYS - days_ago)
            # At least one a day from its first to its last seen.
            count = max(1, round(event.rate * factor * growth * max(0.2, rng.gauss(1, 0.15))))
            volumes.append((event.pk, day, count))
            for prop in event.props:
                prop_count = round(count * prop.share)
                if prop_count:
                    volumes.append((prop.pk, day, prop_count))
                    sent_props.add(prop.pk)
        for prop in event.props:
            if prop.pk in sent_props or event.last > DAYS:
                seen.append(
                    ResourceSeen(resource_id=prop.pk, first_seen_at=first_at, last_seen_at=last_at)
                )
    ResourceSeen.objects.bulk_create(seen, batch_size=500)
    _insert_volumes(volumes)
    return len(volumes)


def _insert_volumes(rows: list[tuple[Any, dt.date, int]]) -> None:
    """Insert (resource id, day, count) rows into DailyVolume with one `executemany`.

    About 23,000 rows: `bulk_create` would spend most of a second making model instances and
    compiling every value on its own, as much as the rest of the demo load. The values are
    prepared by the model's own fields, once per resource and per day, as Django would.
    """
    fields = [DailyVolume._meta.get_field(name) for name in ("resource", "day", "count")]
    resource, day = fields[0], fields[1]
    resources = {pk: resource.get_db_prep_save(pk, connection) for pk, _, _ in rows}
    days = {d: day.get_db_prep_save(d, connection) for _, d, _ in rows}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"INSERT INTO {quote(DailyVolume._meta.db_table)} ({columns}) VALUES (%s, %s, %s)"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(resources[pk], days[d], count) for pk, d, count in rows])


def _today(
    integration: Integration, events: list[_Event], rng: random.Random, now: dt.datetime
) -> list[TrackedEvent]:
    """Today's calls of `integration`: its live events, in proportion to their rates, then the
    breaches (for `flag` mode) and unknown events, mixed in."""
    live = [e for e in events if e.last == 1]
    if not live:
        return []
    users = [f"usr_{rng.randrange(16**6):06x}" for _ in range(40)]
    fmt = FORMATS.get(integration.type, "flameup")
    weights = [e.rate for e in live]
    calls = [
        _call(fmt, event.title, _properties(event, rng, now), users, rng, now)
        for event in rng.choices(live, weights=weights, k=CALLS_TODAY)
    ]
    extra = []
    if integration.validation_mode == ValidationMode.FLAG:
        for title, props in _breaches(live, rng, now):
            extra += [
                _call(fmt, title, dict(props), users, rng, now) for _ in range(rng.randint(2, 5))
            ]
    for title, props in UNKNOWN_EVENTS.get(integration.name, ()):
        extra += [_call(fmt, title, dict(props), users, rng, now) for _ in range(rng.randint(2, 4))]
    if fmt == "segment":  # Sign-ins tell who the visitor is: kept in the event log.
        extra += [
            _call(fmt, "", {"plan": "pro"}, users, rng, now, type="identify") for _ in range(5)
        ]
    for call in extra:
        calls.insert(rng.randrange(len(calls) + 1), call)
    return calls


def _call(
    fmt: str,
    name: str,
    properties: dict,
    users: list[str],
    rng: random.Random,
    now: dt.datetime,
    type: str = "track",
) -> TrackedEvent:
    user = rng.choice(users)
    if isinstance(properties.get("user_id"), str):
        properties["user_id"] = user
    return TrackedEvent(
        format=fmt,
        type=type,
        name=name,
        properties=properties,
        sent_at=_at(now, 0, rng),
        user_id=user,
        message_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)) if fmt == "segment" else "",
    )


def _properties(event: _Event, rng: random.Random, now: dt.datetime) -> dict:
    return {
        prop.title: _value(prop, rng, now)
        for prop in event.props
        if prop.required or rng.random() < prop.share
    }


def _value(prop: _Prop, rng: random.Random, now: dt.datetime) -> Any:
    """A value of the property's data type: an allowed one, an example, or one made up."""
    if prop.allowed:
        return rng.choice(prop.allowed)
    examples = [value for value in prop.examples or () if type_matches(prop.data_type, value)]
    kind = prop.data_type
    if kind == DataType.STRING:
        if prop.title.endswith("_id"):
            return f"{prop.title[:3]}_{rng.randrange(16**8):08x}"
        return (
            rng.choice(examples)
            if examples
            else f"{prop.title.replace('_', ' ')} {rng.randint(1, 99)}"
        )
    if kind == DataType.NUMBER:
        base = rng.choice(examples) if examples else 40
        return round(base * rng.uniform(0.4, 1.8), 2)
    if kind == DataType.INTEGER:
        return rng.choice(examples) if examples else rng.randint(1, 12)
    if kind == DataType.BOOLEAN:
        return rng.random() < 0.5
    if kind == DataType.DATETIME:
        return _at(now, rng.randint(0, 2), rng).strftime("%Y-%m-%dT%H:%M:%SZ")
    if examples:
        return rng.choice(examples)
    if kind == DataType.OBJECT:
        return {"id": f"obj_{rng.randrange(16**6):06x}"}
    if kind == DataType.ARRAY:
        return [f"item_{rng.randrange(100)}" for _ in range(rng.randint(1, 3))]
    return None


def _breaches(live: list[_Event], rng: random.Random, now: dt.datetime) -> list[tuple[str, dict]]:
    """One call of each way to break the plan, on events that allow it: a wrong type, a
    missing required property, a value not allowed, an unknown property."""

    def pick(test):
        found = [(e, p) for e in live for p in e.props if test(e, p)]
        return rng.choice(found) if found else (None, None)

    breaches = []
    numeric = (DataType.NUMBER, DataType.INTEGER)
    event, prop = pick(lambda e, p: p.data_type in numeric and not p.allowed)
    if event:  # A number sent as text, as a template engine does.
        props = _properties(event, rng, now) | {prop.title: str(_value(prop, rng, now))}
        breaches.append((event.title, props))
    event, prop = pick(lambda e, p: p.required)
    if event:
        props = {k: v for k, v in _properties(event, rng, now).items() if k != prop.title}
        breaches.append((event.title, props))
    event, prop = pick(lambda e, p: p.allowed and all(isinstance(v, str) for v in p.allowed))
    if event:  # A value in the wrong case, as a new service sends it.
        wrong = str(prop.allowed[0]).upper()
        if wrong in prop.allowed:
            wrong = f"{prop.allowed[0]}_v2"
        breaches.append((event.title, _properties(event, rng, now) | {prop.title: wrong}))
    event = rng.choice(live)
    if "trace_id" not in {p.title for p in event.props}:
        props = _properties(event, rng, now) | {"trace_id": f"{rng.getrandbits(64):016x}"}
        breaches.append((event.title, props))
    return breaches
