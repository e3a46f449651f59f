"""Apply a tracking plan from a file to the catalog: the diff it would make, and the import.

A `Plan` (see `catalog.tracking_plan`) is compared with the integrations it names: events by
name within their integration (the oldest of a name, as ingestion does), properties by name
within their event. The modes say how far the file may go:

- `add`: only creates what the catalog lacks (events, their properties, categories, tags);
- `update`: also changes the fields the file gives of what exists;
- `sync`: also deletes the events of the file's integrations that the file doesn't have, and
  the properties that the file's events don't list.

A field the file says nothing about (None in the plan) is left as it is. An import applies
the whole diff in one transaction, as one change set: one history entry, one email per
follower, undone in one step (`POST /api/v1/changes/{id}/revert`). Problems are found before
anything is written, each with its position in the file.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import (
    EntityType,
    Integration,
    PlanImport,
    PlanImportStatus,
    Resource,
    Tag,
    User,
)
from catalog.models.resources import description_length, relation_columns
from catalog.models.titles import clean_title
from catalog.policy import Action, Visibility, ensure_for, resources_visible_as
from catalog.services.changes import one_change_set
from catalog.services.context import ChangeContext
from catalog.services.ingest import UNCATEGORIZED, Known, TrackedEvent, breaches_of
from catalog.services.locks import own_integrations, tags_turn
from catalog.services.resources import resources_bulk_delete, resources_bulk_write
from catalog.services.workspace import workspace_object_create
from catalog.tracking_plan.formats import FORMATS, read_plan
from catalog.tracking_plan.model import (
    DATA_TYPES,
    Plan,
    PlanEvent,
    PlanFileError,
    PlanProblem,
    PlanProperty,
)
from catalog.tracking_plan.samples import Sample

__all__ = [
    "MAX_EVENTS",
    "MAX_PROPERTIES",
    "MODES",
    "PlanDiff",
    "Sample",
    "plan_check",
    "plan_diff",
    "plan_import",
    "plan_import_enqueue",
    "plan_import_run",
]

logger = logging.getLogger(__name__)

MODES = ("add", "update", "sync")
#: The largest plan one import takes (the issue's 10,000 events and 100,000 properties).
MAX_EVENTS = 10_000
MAX_PROPERTIES = 100_000
#: Problems listed at most; past them a file is hopeless anyway.
MAX_PROBLEMS = 100

#: Plan field -> resource field, for events and for properties.
_EVENT_FIELDS = {
    "description": "description",
    "definition": "definition",
    "pii": "pii",
    "verified": "verified",
    "published": "published",
}
_PROPERTY_FIELDS = {
    **_EVENT_FIELDS,
    "type": "data_type",
    "required": "required",
    "allowed_values": "allowed_values",
    "examples": "examples",
}
#: Relations a plan names by label: plan field -> (resource field, label of the target).
_RELATIONS = {"owners": ("owners", "username"), "tags": ("tags", "title")}


@dataclass
class PlanDiff:
    """What an import changes: entries naming each object (and, for changes, each field's old
    and new value); `change_set` once applied (None when nothing changed)."""

    created: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    deleted: list[dict] = field(default_factory=list)
    notices: list[dict] = field(default_factory=list)
    change_set: Any = None

    def __bool__(self) -> bool:
        return bool(self.created or self.changed or self.deleted)

    def as_dict(self, *, dry_run: bool) -> dict:
        answer = {
            "dry_run": dry_run,
            "created": self.created,
            "changed": self.changed,
            "deleted": self.deleted,
            "notices": self.notices,
        }
        if not dry_run:
            answer["change_set"] = str(self.change_set.pk) if self.change_set else None
        return answer


class _Problems:
    def __init__(self):
        self.items: list[PlanProblem] = []

    def add(self, position: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(PlanProblem(position or "file", message))

    def raise_any(self) -> None:
        if self.items:
            raise PlanFileError(self.items)


#: The longest name of each kind (the models' max_length).
_MAX_NAME = {"tag": Tag._meta.get_field("title").max_length}


def _name(value: str, position: str, problems: _Problems, what: str) -> str:
    try:
        name = clean_title(value)
    except ValidationError as error:
        problems.add(position, f"The {what} name {value[:80]!r}: {' '.join(error.messages)}")
        return value
    longest = _MAX_NAME.get(what, Resource._meta.get_field("title").max_length)
    if len(name) > longest:
        problems.add(
            position, f"The {what} name {name[:40]!r}... is longer than {longest} characters."
        )
    return name


def _check_texts(item: PlanEvent | PlanProperty, problems: _Problems) -> None:
    for name in ("description", "definition"):
        value = getattr(item, name)
        if value is None:
            continue
        if "\x00" in value:
            problems.add(item.position, f"The {name} contains a NUL character.")
            continue
        try:
            description_length(value)
        except ValidationError as error:
            problems.add(item.position, f"The {name}: {' '.join(error.messages)}")


def _check_values(prop: PlanProperty, problems: _Problems) -> None:
    if prop.type is not None and prop.type not in DATA_TYPES:
        problems.add(
            prop.position,
            f"Unknown type {prop.type!r}: use one of {', '.join(DATA_TYPES)}.",
        )
    for name in ("allowed_values", "examples"):
        values = getattr(prop, name)
        if values is not None and not isinstance(values, list):
            problems.add(prop.position, f"The {name.replace('_', ' ')} must be a list.")


@dataclass
class _Scope:
    """The integrations an import touches and what the catalog holds of them."""

    integrations: dict[str, Integration]
    categories: dict[tuple, Resource]
    events: dict[tuple, Resource]
    all_events: list[Resource]
    properties: dict[Any, dict[str, Resource]]
    labels: dict[str, dict[Any, list[str]]]
    new_tags: list[str] = field(default_factory=list)


#: What is compared of a property (read as plain rows: a plan's properties are most of it).
_PROPERTY_COLUMNS = ("id", "title", "parent_id", *_PROPERTY_FIELDS.values())


def _load(integrations: dict[str, Integration]) -> _Scope:
    """Read what the catalog holds of `integrations`: four queries however large. Categories
    and events come as model instances (the writes take them as parents), properties as
    plain rows, which cost a tenth of an instance to make."""
    ids = [i.pk for i in integrations.values()]
    by_id = {i.pk: i for i in integrations.values()}
    rows = Resource.objects.filter(integration_id__in=ids).order_by("created_at", "id")
    categories, events, all_events = {}, {}, []
    upper = rows.exclude(entity_type=EntityType.EVENT_PROPERTY).select_related("parent")
    for resource in upper:
        resource.integration = by_id[resource.integration_id]
        key = (resource.integration_id, resource.title)
        if resource.entity_type == EntityType.EVENT_CATEGORY:
            categories[key] = resource
        else:
            all_events.append(resource)
            events.setdefault(key, resource)
    properties: dict[Any, dict[str, Any]] = defaultdict(dict)
    lower = rows.filter(entity_type=EntityType.EVENT_PROPERTY).values_list(*_PROPERTY_COLUMNS)
    for values in lower:
        row = SimpleNamespace(**dict(zip(_PROPERTY_COLUMNS, values, strict=True)))
        row.pk = row.id
        properties[row.parent_id].setdefault(row.title, row)
    labels = {}
    for plan_field, (resource_field, label) in _RELATIONS.items():
        through, source, target = relation_columns(resource_field)
        found = defaultdict(list)
        pairs = through.objects.filter(**{f"{source}__integration_id__in": ids})
        for pk, text in pairs.values_list(f"{source}_id", f"{target}__{label}"):
            found[pk].append(text)
        labels[plan_field] = {pk: sorted(texts) for pk, texts in found.items()}
    return _Scope(integrations, categories, events, all_events, properties, labels)


def _integrations(plan: Plan, integration: Integration | None, problems: _Problems) -> dict:
    names = {e.integration for e in plan.events if e.integration}
    found = {i.name: i for i in Integration.objects.filter(name__in=names)}
    if integration is not None:
        found[integration.name] = integration
    unnamed = [e for e in plan.events if e.integration is None]
    if unnamed and integration is None:
        count = f"{len(unnamed):,} event{'s' if len(unnamed) > 1 else ''}"
        problems.add(
            unnamed[0].position,
            f"The file doesn't name the integration of its {count} (the first is here): give "
            "the integration to import into with `integration`.",
        )
        return found
    for event in plan.events:
        if event.integration is None:
            event.integration = integration.name
        elif integration is not None and event.integration != integration.name:
            problems.add(
                event.position,
                f"The event is of integration {event.integration!r}, but the import is into "
                f"{integration.name!r}.",
            )
        elif event.integration not in found:
            problems.add(event.position, f"There is no integration named {event.integration!r}.")
    return found


def _people(plan: Plan, problems: _Problems) -> dict[str, User]:
    """Owners by what the file calls them: a username, or an email only one user has."""
    wanted = {name for item in _items(plan) for name in item.owners or ()}
    if not wanted:
        return {}
    users = list(User.objects.filter(Q(username__in=wanted) | Q(email__in=wanted)))
    found = {u.username: u for u in users if u.username in wanted}
    by_email = defaultdict(list)
    for user in users:
        if user.email in wanted:
            by_email[user.email].append(user)
    for email, matches in by_email.items():
        if email not in found and len(matches) == 1:
            found[email] = matches[0]
    for item in _items(plan):
        for name in item.owners or ():
            if name not in found:
                problems.add(item.position, f"No user has the username or email {name!r}.")
        if item.owners is not None:  # compared and shown as usernames, however the file said
            item.owners = sorted({found[n].username for n in item.owners if n in found})
    return {user.username: user for user in found.values()}


def _items(plan: Plan) -> Iterable[PlanEvent | PlanProperty]:
    for event in plan.events:
        yield event
        yield from event.properties


def _check_plan(plan: Plan, problems: _Problems) -> None:
    if len(plan.events) > MAX_EVENTS:
        problems.add("file", f"The file has {len(plan.events):,} events: at most {MAX_EVENTS:,}.")
    count = sum(len(e.properties) for e in plan.events)
    if count > MAX_PROPERTIES:
        problems.add(
            "file", f"The file has {count:,} properties: at most {MAX_PROPERTIES:,} in one import."
        )
    problems.raise_any()
    seen: dict[tuple, str] = {}
    for event in plan.events:
        event.name = _name(event.name, event.position, problems, "event")
        if event.category:
            event.category = _name(event.category, event.position, problems, "category")
        _check_texts(event, problems)
        key = (event.integration, event.name)
        if key in seen:
            problems.add(
                event.position, f"Event {event.name!r} is also at {seen[key]}: name it once."
            )
        seen[key] = event.position
        names: dict[str, str] = {}
        for prop in event.properties:
            prop.name = _name(prop.name, prop.position, problems, "property")
            _check_texts(prop, problems)
            _check_values(prop, problems)
            if prop.name in names:
                problems.add(
                    prop.position,
                    f"Property {prop.name!r} of {event.name!r} is also at {names[prop.name]}.",
                )
            names[prop.name] = prop.position
    for item in _items(plan):
        if item.tags is not None:
            item.tags = sorted({_name(tag, item.position, problems, "tag") for tag in item.tags})


@dataclass
class _Work:
    """The diff as writes: what `resources_bulk_write` and `resources_bulk_delete` take."""

    creates: list[tuple[str, dict]] = field(default_factory=list)
    #: The diff entry of each create, to fill in its id once made.
    created_entries: list[dict] = field(default_factory=list)
    updates: list[tuple[Any, dict]] = field(default_factory=list)
    deletes: list[Any] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)

    def create(self, result: PlanDiff, kind: str, data: dict, entry: dict) -> int:
        """Plan the creation of a resource of `kind`, listed in `result` as `entry` (whose id
        is filled in once made); its index, for children to name as their parent."""
        self.creates.append((kind, data))
        result.created.append(entry)
        self.created_entries.append(entry)
        return len(self.creates) - 1


def _entry(event: PlanEvent, prop: PlanProperty | None = None, resource=None) -> dict:
    entry = {
        "object_type": EntityType.EVENT_PROPERTY if prop else EntityType.EVENT,
        "id": str(resource.pk) if resource is not None else None,
        "integration": event.integration,
        "event": event.name,
    }
    if prop is not None:
        entry["property"] = prop.name
    entry["position"] = (prop or event).position
    return entry


def _compare(
    item: PlanEvent | PlanProperty,
    resource: Resource,
    fields: Mapping[str, str],
    scope: _Scope,
) -> tuple[dict, dict]:
    """(changed fields as {name: {old, new}}, the service's data) of `item` over `resource`."""
    shown, data = {}, {}
    for plan_field, model_field in fields.items():
        new = getattr(item, plan_field)
        if new is None:
            continue
        old = getattr(resource, model_field)
        if old is None and isinstance(new, list):
            old = []
        if old != new:
            shown[plan_field] = {"old": old, "new": new}
            data[model_field] = new
    for plan_field, (model_field, _label) in _RELATIONS.items():
        new = getattr(item, plan_field)
        if new is None:
            continue
        old = scope.labels[plan_field].get(resource.pk, [])
        new = sorted(set(new))
        if old != new:
            shown[plan_field] = {"old": old, "new": new}
            data[model_field] = new  # names until `_to_ids`
    return shown, data


def _create_data(item: PlanEvent | PlanProperty, fields: Mapping[str, str]) -> dict:
    data = {
        model_field: getattr(item, plan_field)
        for plan_field, model_field in fields.items()
        if getattr(item, plan_field) is not None
    }
    if isinstance(item, PlanProperty):
        data.setdefault("data_type", "string")
        data.setdefault("required", False)
    for plan_field, (model_field, _label) in _RELATIONS.items():
        names = getattr(item, plan_field)
        if names:
            data[model_field] = sorted(set(names))  # names until `_to_ids`
    return data


def _create_property(
    work: _Work, result: PlanDiff, event: PlanEvent, prop: PlanProperty, parent
) -> None:
    data = {**_create_data(prop, _PROPERTY_FIELDS), "title": prop.name, "parent": parent}
    work.create(result, EntityType.EVENT_PROPERTY, data, _entry(event, prop))


def _diff(plan: Plan, mode: str, scope: _Scope) -> tuple[PlanDiff, _Work]:
    result, work, problems = PlanDiff(), _Work(), _Problems()
    #: (category id, title) of every event: a move must not meet an event of the same name.
    placed = {(e.parent_id, e.title) for e in scope.all_events}
    for tag in sorted(scope.new_tags):
        work.new_tags.append(tag)
        result.created.append({"object_type": "tag", "id": None, "title": tag})
    new_categories: dict[tuple, int] = {}
    in_file: set = set()
    for event in plan.events:
        integration = scope.integrations[event.integration]
        existing = scope.events.get((integration.pk, event.name))
        category_title = event.category or None
        moved = (
            existing is not None
            and mode != "add"
            and category_title is not None
            and existing.parent.title != category_title
        )
        if existing is None or moved:
            key = (integration.pk, category_title or UNCATEGORIZED)
            category = scope.categories.get(key)
            if category is None and key not in new_categories:
                entry = {
                    "object_type": EntityType.EVENT_CATEGORY,
                    "id": None,
                    "integration": integration.name,
                    "category": key[1],
                    "position": event.position,
                }
                data = {"title": key[1], "integration": integration}
                new_categories[key] = work.create(result, EntityType.EVENT_CATEGORY, data, entry)
            parent = category if category is not None else new_categories[key]
            if moved and category is not None and (category.pk, event.name) in placed:
                problems.add(
                    event.position,
                    f"Category {category.title!r} already has another event {event.name!r}: "
                    "rename or delete one of them before moving this one there.",
                )
        if existing is None:
            data = {**_create_data(event, _EVENT_FIELDS), "title": event.name, "parent": parent}
            event_index = work.create(result, EntityType.EVENT, data, _entry(event))
            for prop in event.properties:
                _create_property(work, result, event, prop, event_index)
            continue
        in_file.add(existing.pk)
        known = scope.properties.get(existing.pk, {})
        if mode != "add":
            shown, data = _compare(event, existing, _EVENT_FIELDS, scope)
            if moved:
                shown["category"] = {"old": existing.parent.title, "new": category_title}
                data["parent"] = parent
            if shown:
                result.changed.append({**_entry(event, resource=existing), "fields": shown})
                work.updates.append((existing.pk, data))
        listed = set()
        for prop in event.properties:
            listed.add(prop.name)
            resource = known.get(prop.name)
            if resource is None:
                _create_property(work, result, event, prop, existing)
            elif mode != "add":
                shown, data = _compare(prop, resource, _PROPERTY_FIELDS, scope)
                if shown:
                    entry = {**_entry(event, prop, resource), "fields": shown}
                    result.changed.append(entry)
                    work.updates.append((resource.pk, data))
        if mode == "sync":
            for title, resource in sorted(known.items()):
                if title not in listed:
                    work.deletes.append(resource.pk)
                    result.deleted.append(
                        {
                            "object_type": EntityType.EVENT_PROPERTY,
                            "id": str(resource.pk),
                            "integration": event.integration,
                            "event": event.name,
                            "property": title,
                        }
                    )
    problems.raise_any()
    if mode == "sync":
        named = {(scope.integrations[e.integration].pk, e.name) for e in plan.events}
        for resource in scope.all_events:
            # A younger event of a name the file has is not deleted: the file can't name it.
            if (
                resource.pk not in in_file
                and (resource.integration_id, resource.title) not in named
            ):
                work.deletes.append(resource.pk)
                result.deleted.append(
                    {
                        "object_type": EntityType.EVENT,
                        "id": str(resource.pk),
                        "integration": resource.integration.name,
                        "event": resource.title,
                        "properties": sorted(scope.properties.get(resource.pk, {})),
                    }
                )
    return result, work


def _prepare(
    ctx: ChangeContext, plan: Plan, integrations: Mapping[str, Integration]
) -> tuple[_Scope, dict[str, dict[str, Any]]]:
    """Check the plan's names, texts and owners, every problem with its position, and read
    what the plan will be compared with."""
    problems = _Problems()
    _check_plan(plan, problems)
    people = _people(plan, problems)
    problems.raise_any()
    tag_names = {name for item in _items(plan) for name in item.tags or ()}
    tags: dict[str, Any] = dict.fromkeys(tag_names)
    tags.update({t.title: t for t in Tag.objects.filter(title__in=tag_names)})
    if any(t is None for t in tags.values()):
        ensure_for(ctx, Action.ADD, Tag)
    used = {e.integration for e in plan.events}
    scope = _load({name: i for name, i in integrations.items() if name in used})
    scope.new_tags = [name for name, tag in tags.items() if tag is None]
    return scope, {"owners": people, "tags": tags}


def _integrations_of(plan: Plan, integration: Integration | None) -> dict[str, Integration]:
    problems = _Problems()
    found = _integrations(plan, integration, problems)
    problems.raise_any()
    return found


def _ensure_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValidationError({"mode": f"Unknown mode {mode!r}: use one of {', '.join(MODES)}."})


def plan_diff(
    *, ctx: ChangeContext, plan: Plan, mode: str = "add", integration: Integration | None = None
) -> PlanDiff:
    """What importing `plan` would change, without changing anything (a dry run)."""
    _ensure_mode(mode)
    ensure_for(ctx, Action.CHANGE, Resource)
    scope, _ids = _prepare(ctx, plan, _integrations_of(plan, integration))
    return _diff(plan, mode, scope)[0]


def plan_import(
    *, ctx: ChangeContext, plan: Plan, mode: str = "add", integration: Integration | None = None
) -> PlanDiff:
    """Import `plan`: apply its diff (see `plan_diff`) as one change set, and answer it."""
    _ensure_mode(mode)
    ensure_for(ctx, Action.CHANGE, Resource)
    with transaction.atomic():
        integrations = _integrations_of(plan, integration)
        # No ingestion batch adds to these integrations meanwhile, and two imports take turns:
        # what is compared is what gets written.
        own_integrations(i.pk for i in integrations.values())
        if any(item.tags for item in _items(plan)):
            tags_turn()
        scope, ids = _prepare(ctx, plan, integrations)
        result, work = _diff(plan, mode, scope)
        if not result:
            return result
        with one_change_set(ctx) as inner:
            for title in work.new_tags:
                ids["tags"][title] = workspace_object_create(
                    ctx=inner, model=Tag, data={"title": title}
                )
            _to_ids(work, ids)
            created, _changed = resources_bulk_write(
                ctx=inner, creates=work.creates, updates=work.updates
            )
            if work.deletes:
                resources_bulk_delete(ctx=inner, resources=work.deletes)
        for entry, resource in zip(work.created_entries, created, strict=True):
            entry["id"] = str(resource.pk)
        for entry in result.created:
            if entry["object_type"] == "tag":
                entry["id"] = str(ids["tags"][entry["title"]].pk)
        result.change_set = inner.collector.change_set
    return result


def _to_ids(work: _Work, ids: Mapping[str, Mapping[str, Any]]) -> None:
    """Owners and tags named in the writes, by id (tags made by the import included)."""
    for _key, data in [*work.creates, *work.updates]:
        for plan_field, (model_field, _label) in _RELATIONS.items():
            if model_field in data:
                data[model_field] = [ids[plan_field][name].pk for name in data[model_field]]


def plan_check(
    *, visibility: Visibility, samples: Iterable[Sample], integration: Integration | None = None
) -> list[dict]:
    """Every sample that breaks the plan a reader with `visibility` sees, with why: what a CI
    job runs before a release. Checked as ingestion checks a call in `block` mode (types,
    allowed values, required properties); an event or property the plan lacks is a breach.
    Three queries however many samples."""
    samples = list(samples)
    names = {clean_title_or_none(s.event) for s in samples} - {None}
    events = resources_visible_as(visibility, EntityType.EVENT).filter(title__in=names)
    properties = resources_visible_as(visibility, EntityType.EVENT_PROPERTY).filter(
        parent__title__in=names, parent__entity_type=EntityType.EVENT
    )
    if integration is not None:
        events = events.filter(integration=integration)
        properties = properties.filter(integration=integration)
    known_events: dict[str, Any] = {}
    for pk, title in events.order_by("created_at", "id").values_list("id", "title"):
        known_events.setdefault(title, pk)
    known: dict[Any, dict[str, Known]] = defaultdict(dict)
    for row in properties.values_list(
        "id", "title", "parent_id", "data_type", "required", "allowed_values"
    ):
        known[row[2]][row[1]] = Known(*row)
    breaches = []
    for index, sample in enumerate(samples):
        name = clean_title_or_none(sample.event)
        pk = known_events.get(name)
        if pk is None:
            errors = [f"Unknown event {sample.event!r}: the plan doesn't have it."]
        else:
            call = TrackedEvent(format="check", name=name, properties=sample.properties)
            errors, unknown = breaches_of(call, known[pk])
            errors += [f"Property {prop!r} is not in the plan." for prop in unknown]
        if errors:
            breaches.append(
                {
                    "index": index,
                    "position": sample.position,
                    "event": sample.event,
                    "errors": errors,
                }
            )
    return breaches


def clean_title_or_none(value) -> str | None:
    """The catalog's form of a name, or None for one it could never hold."""
    if not isinstance(value, str):
        return None
    try:
        return clean_title(value)
    except ValidationError:
        return None


def plan_import_enqueue(
    *,
    ctx: ChangeContext,
    data: bytes,
    format: str,
    mode: str = "add",
    dry_run: bool = False,
    integration: Integration | None = None,
) -> PlanImport:
    """Keep a plan file to import (or, `dry_run`, compare) in the background
    (`plan_import_run`, from a task), for files too large for one request. The caller enqueues
    the task once this commits."""
    _ensure_mode(mode)
    ensure_for(ctx, Action.CHANGE, Resource)
    if format not in FORMATS:
        raise ValidationError({"format": f"Unknown format {format!r}."})
    if ctx.user is None:
        raise PermissionDenied("Only a person (or their API key) can queue an import.")
    return PlanImport.objects.create(
        requested_by=ctx.user,
        api_key=ctx.api_key,
        source=ctx.source,
        request_id=ctx.request_id,
        format=format,
        mode=mode,
        dry_run=dry_run,
        integration=integration,
        size=len(data),
        file=data,
    )


def plan_import_run(pk) -> PlanImport | None:
    """Run a queued import as its requester: the diff, or the problems, are kept on the row
    and the file is dropped. A row another worker took (or that ran already) is left alone;
    None if there is no such row."""
    now = timezone.now()
    rows = PlanImport.objects.filter(pk=pk)
    taken = rows.filter(status=PlanImportStatus.QUEUED).update(
        status=PlanImportStatus.RUNNING, started_at=now, progress={"phase": "reading"}
    )
    job = PlanImport.objects.select_related("requested_by", "api_key", "integration").filter(pk=pk)
    job = job.first()
    if not taken or job is None:
        return job
    ctx = ChangeContext(
        source=job.source, user=job.requested_by, api_key=job.api_key, request_id=job.request_id
    )
    counts: dict[str, int] = {}
    try:
        plan, notices = read_plan(job.format, bytes(job.file))
        counts = {
            "events": len(plan.events),
            "properties": sum(len(e.properties) for e in plan.events),
        }
        # Seen by whoever polls the import while the one transaction of the import runs.
        rows.update(progress={"phase": "applying", **counts})
        service = plan_diff if job.dry_run else plan_import
        diff = service(ctx=ctx, plan=plan, mode=job.mode, integration=job.integration)
    except PlanFileError as error:
        job.problems = [p.as_dict() for p in error.problems]
    except ValidationError as error:
        job.problems = [{"position": "file", "message": m} for m in error.messages]
    except PermissionDenied as error:
        message = str(error) or "The requester may no longer change the catalog."
        job.problems = [{"position": "file", "message": message}]
    except Exception:  # anything else: failed, said so, and logged for the operator
        logger.exception("Plan import %s failed", job.pk)
        message = "The import failed on the server and changed nothing; send the file again."
        job.problems = [{"position": "file", "message": message}]
    else:
        diff.notices = [n.as_dict() for n in notices]
        job.result = diff.as_dict(dry_run=job.dry_run)
    job.status = PlanImportStatus.FAILED if job.problems else PlanImportStatus.DONE
    job.progress = {"phase": job.status, **counts}
    job.finished_at = timezone.now()
    job.file = b""
    job.save(update_fields=["status", "progress", "finished_at", "file", "result", "problems"])
    return job
