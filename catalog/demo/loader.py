"""Loading the demo catalog (`catalog.toml`, read by `catalog.demo.data`) into the database.

Why this module writes resources without `catalog.services.resources`: seeding is a bulk load of
a fresh database, like a fixture, and it is the one place that bypasses the per-object service
functions on purpose. Going through `resource_create` costs several queries per resource (and,
once history and notifications exist, would record a change set per resource and email the demo
subscribers about changes nobody made); loading in bulk keeps `manage.py serve` quick. What a
service would check still holds: every row passes `clean_fields()` and `clean()` (choices,
lengths, the parent's kind and integration, JSON lists) before the insert, and the database's
constraints check the rest (foreign keys, unique titles). The bulk load records no history
and no notifications. Then the file's few `[[edits]]` go through `resource_update` like any
change, as a demo account with `notify=False`: those resources get a History with a real
user's name, and nobody is emailed. Users go through `catalog.services.workspace.user_create`
like every other account (with the system's change context: a fresh database has no admin
yet), the demo accounts with their passwords (`catalog.demo.accounts`); teams, tags,
collections and integrations are fetched or created directly as well.

Then, as a separate step, the catalog gets tracking data (`catalog.demo.traffic`): 30 days of
volumes and first/last seen, written directly as the counters they are, and today's traffic,
sent through ingestion like any tracker's, which records violations and discovers a few events.
With a file to keep the demo accounts in, the loader also makes a write key for the Web app
(through `write_key_create`, like any write key) and keeps its secret in the same file, for
`manage.py serve` to print with an example.

The content is fixed and the choices (flags, owners, tags...) come from a seeded
`random.Random`, so two loads into empty databases give the same catalog (ids aside).
"""

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.demo.accounts import new_password, save_demo_accounts
from catalog.demo.data import (
    SEP,
    CategorySpec,
    DemoCatalogError,
    DemoData,
    DemoDataError,
    EventSpec,
    IntegrationSpec,
    PropertySpec,
    UserSpec,
    read_demo_data,
)
from catalog.demo.traffic import load_demo_traffic
from catalog.models import (
    ChangeSource,
    Collection,
    DataType,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    IntegrationType,
    Resource,
    Role,
    Tag,
    Team,
    User,
    WriteKey,
)
from catalog.services.context import ChangeContext
from catalog.services.resources import resource_update
from catalog.services.workspace import user_create
from catalog.services.writekeys import write_key_create

__all__ = ["SEED", "load_demo_catalog"]

SEED = 20240501
DEMO_WRITE_KEY_NAME = "Demo (printed by manage.py serve)"
_KINDS = {
    "event_categories": EntityType.EVENT_CATEGORY,
    "events": EntityType.EVENT,
    "event_properties": EntityType.EVENT_PROPERTY,
}


def _payload(integration_type: str, event: str, props: dict[str, Any]) -> dict:
    """An example of the event on the wire, in the integration's own format."""
    if integration_type == IntegrationType.SEGMENT:
        return {"type": "track", "event": event, "userId": "usr_8Kq2Lm", "properties": props}
    if integration_type == IntegrationType.AMPLITUDE:
        return {"event_type": event, "user_id": "usr_8Kq2Lm", "event_properties": props}
    return {"event": event, "occurred_at": "2024-05-14T09:21:07Z", "data": props}


def _example_value(prop: PropertySpec) -> Any:
    if prop.examples:
        return prop.examples[0]
    if prop.allowed:
        return prop.allowed[0]
    return True if prop.data_type == DataType.BOOLEAN else None


def _category_definition(spec: CategorySpec, integration: Integration) -> str:
    kind = integration.get_type_display()
    lines = [spec.description, ""] if spec.description else []
    lines += [
        f"Sent by the **{integration.name}** integration ({kind}); the **{spec.team}** team "
        "looks after these events.",
        "",
        "## Events",
        "",
    ]
    lines += [f"- **{event.title}**: {event.description}" for event in spec.events]
    return "\n".join(lines)


def _event_definition(
    integration: Integration, spec: EventSpec, props: list[PropertySpec], deprecated: bool
) -> str:
    """The event's own introduction (or when it fires) and an example payload. No table of
    its properties: the event's page shows them (type, required, allowed values) from the
    data, which a copy in the text would only contradict once they change."""
    lines = []
    if deprecated:
        lines += ["> **Deprecated.** Kept for old dashboards; do not use it in new analyses.", ""]
    lines += [spec.definition or f"**When it fires:** {spec.description}", ""]
    example = {prop.name: _example_value(prop) for prop in props}
    payload = json.dumps(_payload(integration.type, spec.title, example), indent=2)
    lines += [f"## Example ({integration.get_type_display()})", "", "```json", payload, "```"]
    return "\n".join(lines)


def _property_definition(prop: PropertySpec) -> str:
    if prop.definition:
        return prop.definition
    parts = [prop.description]
    if prop.pii:
        parts.append(
            "**Personal data.** Hashed in the warehouse, never forwarded to ad platforms, and "
            "erased within 30 days of a deletion request."
        )
    if prop.allowed:
        values = ", ".join(f"`{value}`" for value in prop.allowed)
        parts.append(f"One of: {values}. Anything else is reported as a violation.")
    if prop.data_type == DataType.DATETIME:
        parts.append("ISO 8601 with a time zone, e.g. `2024-05-14T09:21:07Z`.")
    return "\n\n".join(parts)


def _get_or_create(model: type, key: str, value: str, defaults: dict) -> Any:
    obj, _ = model.objects.get_or_create(**{key: value}, defaults=defaults)
    return obj


def _links(field: str, pairs: Iterable[tuple[Any, Any]]) -> int:
    """Insert many-to-many rows of `Resource.<field>` in bulk; `pairs` are (resource, target)."""
    m2m = Resource._meta.get_field(field)
    through = m2m.remote_field.through
    source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
    rows = [
        through(**{f"{source}_id": resource.pk, f"{target}_id": other.pk})
        for resource, other in pairs
    ]
    through.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _user(spec: UserSpec, teams: dict[str, Team], password: str | None = None):
    """(user, created): the user `spec` names, created with `password` (or none, to sign in
    with API keys only) unless the username is taken; either way a member of its teams."""
    user = User.objects.filter(username=spec.username).first()
    created = user is None
    if created:
        user = user_create(
            ctx=ChangeContext.for_system(),
            username=spec.username,
            role=spec.role,
            email=f"{spec.username}@example.com",
            password=password,
            first_name=spec.first_name,
            last_name=spec.last_name,
        )
    for name in spec.teams:
        teams[name].members.add(user)
    return user, created


def _accounts(
    specs: Iterable[UserSpec], teams: dict[str, Team], *, keep: bool, admin_password: str | None
) -> tuple[dict[str, User], list[tuple[User, str | None]]]:
    """The accounts to sign in with, and the new ones with the password to keep: a random one,
    or None for the admin's `admin_password` (the operator knows it). With nothing to `keep`
    them in, new accounts get no password."""
    accounts, new = {}, []
    for spec in specs:
        given = admin_password if spec.role == Role.ADMIN else None
        password = given or (new_password() if keep else None)
        user, created = _user(spec, teams, password)
        accounts[spec.username] = user
        if created:
            new.append((user, None if given else password))
    return accounts, new


def _demo_write_keys(integrations: Mapping[str, Integration]) -> list[tuple[WriteKey, str]]:
    """A write key for the demo's Segment integration ("Web app"), made as any write key is, for
    `manage.py serve` to print with an example: (key, secret)."""
    segment = [i for i in integrations.values() if i.type == IntegrationType.SEGMENT]
    integration = (segment or list(integrations.values()))[0]
    ctx = ChangeContext.for_system(notify=False)
    return [write_key_create(ctx=ctx, integration=integration, name=DEMO_WRITE_KEY_NAME)]


def _apply_edits(
    data: DemoData, by_path: Mapping[str, Resource], people: Mapping[str, User], tags: Mapping
) -> None:
    """Make the file's `[[edits]]` through the change pipeline, as their users, emailing
    nobody: the resources' history shows them like any change made in the catalog."""
    for number, edit in enumerate(data.edits, 1):
        actor = people[edit.by]
        if actor.is_active and actor.can_edit_catalog:
            ctx = ChangeContext(source=ChangeSource.COMMAND, user=actor, notify=False)
        else:  # A user of that name was there before the demo, and may not edit.
            ctx = ChangeContext.for_system(notify=False)
        resource = by_path[edit.resource]
        changes = dict(edit.changes)
        if edit.add_tags:
            current = list(resource.tags.values_list("pk", flat=True))
            changes["tags"] = [*current, *(tags[name].pk for name in edit.add_tags)]
        try:
            resource_update(ctx=ctx, resource=resource, data=changes)
        except ValidationError as error:
            where = f'{data.file_name}: [[edits]] #{number} "{edit.resource}"'
            raise DemoDataError(f"{where}: {' '.join(error.messages)}") from error


@transaction.atomic
def load_demo_catalog(
    *,
    data: DemoData | None = None,
    accounts_file: Path | None = None,
    admin_password: str | None = None,
) -> dict[str, int]:
    """Load the demo catalog and return how many objects of each kind it has.

    `data` defaults to the shipped `catalog.toml` (a DemoDataError names what is wrong in it).
    Integrations, teams, tags, collections and users are reused when they exist by name;
    resources are always new, so DemoCatalogError is raised if a demo integration has any.
    The demo accounts it creates get random passwords, written to `accounts_file` (see
    `catalog.demo.accounts`), or `admin_password` for the admin; without a file, they get none.
    The file also keeps the secret of the demo's write key, which is made only with a file.
    Then the integrations get tracking data (`catalog.demo.traffic`); the counts include what
    ingestion discovered.
    """
    if data is None:
        data = read_demo_data()
    rng = random.Random(SEED)
    names = [spec.name for spec in data.integrations]
    if Resource.objects.filter(integration__name__in=names).exists():
        raise DemoCatalogError(
            "The demo integrations already have resources; the demo catalog is loaded."
        )

    teams = {
        name: _get_or_create(Team, "name", name, {"description": d})
        for name, d in data.teams.items()
    }
    tags = {
        name: _get_or_create(
            Tag, "title", name, {"description": spec.description, "color": spec.color}
        )
        for name, spec in data.tags.items()
    }
    collections = {
        spec.title: _get_or_create(
            Collection, "title", spec.title, {"description": spec.description}
        )
        for spec in data.collections
    }
    specs: dict[str, IntegrationSpec] = {spec.name: spec for spec in data.integrations}
    integrations = {
        spec.name: _get_or_create(
            Integration,
            "name",
            spec.name,
            {
                "type": spec.type,
                "description": spec.description,
                "validation_mode": spec.validation_mode,
            },
        )
        for spec in data.integrations
    }
    accounts, new_accounts = _accounts(
        data.accounts, teams, keep=accounts_file is not None, admin_password=admin_password
    )
    users = {spec.username: _user(spec, teams)[0] for spec in data.users}
    everyone = list(users.values())
    people = {**accounts, **users}
    members = {team: [users[u.username] for u in data.users if team in u.teams] for team in teams}
    # Editors in the file (checked: every category's team has one), whatever an account of
    # that name that was there before may do.
    editors_by_team = {
        team: [users[u.username] for u in data.users if u.role == Role.EDITOR and team in u.teams]
        for team in teams
    }
    for spec in data.integrations:
        integrations[spec.name].teams.add(*(teams[t] for t in spec.teams))
    in_collection: dict[str, list[Collection]] = {}
    for spec in data.collections:
        for path in spec.events:
            in_collection.setdefault(path, []).append(collections[spec.title])

    resources: list[Resource] = []
    by_path: dict[str, Resource] = {}
    owners, subscribers, team_links, tag_links, collection_links = [], [], [], [], []
    for category_spec in data.categories:
        integration_name = category_spec.integration
        integration = integrations[integration_name]
        context_spec = specs[integration_name]
        team = teams[category_spec.team]
        editors = editors_by_team[category_spec.team]
        category = EventCategory(
            title=category_spec.title,
            description=category_spec.description,
            definition=(
                category_spec.definition or _category_definition(category_spec, integration)
            ),
            integration=integration,
            verified=True,
            published=True,
        )
        resources.append(category)
        by_path[SEP.join([integration_name, category.title])] = category
        owners += [(category, editors[0])]
        subscribers += [(category, user) for user in members[category_spec.team]]
        team_links.append((category, team))
        tag_links += [(category, tags[t]) for t in category_spec.tags]

        for event_spec in category_spec.events:
            always = list(context_spec.always)
            context = [p for p in context_spec.context if p not in always]
            extra = rng.sample(context, rng.randint(1, min(3, len(context))))
            prop_names = list(dict.fromkeys(always + list(event_spec.properties) + extra))
            props = [data.properties[name] for name in prop_names]
            deprecated = rng.random() < 0.06
            published = not deprecated and rng.random() < 0.85
            verified = published and rng.random() < 0.65
            if event_spec.definition:  # A steward wrote it: reviewed, and for everyone.
                deprecated, published, verified = False, True, True
            event = Event(
                title=event_spec.title,
                description=event_spec.description,
                integration=integration,
                parent=category,
                pii=any(prop.pii for prop in props),
                verified=verified,
                published=published,
            )
            if event_spec.definition or verified or rng.random() < 0.3:
                event.definition = _event_definition(integration, event_spec, props, deprecated)
            resources.append(event)
            owners += [(event, user) for user in rng.sample(editors, rng.randint(1, len(editors)))]
            subscribers += [(event, user) for user in rng.sample(everyone, rng.randint(0, 3))]
            team_links.append((event, team))
            event_tags = list(category_spec.tags)
            if deprecated:
                event_tags.append("deprecated")
            elif rng.random() < 0.08:
                event_tags.append("experiment")
            if event.pii:
                event_tags.append("gdpr")
            tag_links += [(event, tags[t]) for t in event_tags]
            path = SEP.join([integration_name, category_spec.title, event_spec.title])
            by_path[path] = event
            collection_links += [(event, c) for c in in_collection.get(path, [])]

            for spec in props:
                prop = EventProperty(
                    title=spec.name,
                    description=spec.description,
                    integration=integration,
                    parent=event,
                    pii=spec.pii,
                    verified=verified and rng.random() < 0.9,
                    published=published,
                    data_type=spec.data_type,
                    required=spec.required,
                    allowed_values=list(spec.allowed) if spec.allowed else None,
                    examples=list(spec.examples) if spec.examples else None,
                )
                if spec.definition or spec.pii or spec.allowed or rng.random() < 0.15:
                    prop.definition = _property_definition(spec)
                resources.append(prop)
                by_path[SEP.join([path, prop.title])] = prop
                if spec.pii:
                    tag_links.append((prop, tags["gdpr"]))
                    owners.append((prop, people[data.privacy_owner]))
                if rng.random() < 0.05:
                    subscribers.append((prop, rng.choice(everyone)))

    subscribers += [
        (by_path[path], people[spec.username])
        for spec in (*data.accounts, *data.users)
        for path in spec.follows
    ]
    # Owners follow what they own, as the change pipeline has new owners do.
    subscribers = list({(r.pk, u.pk): (r, u) for r, u in [*owners, *subscribers]}.values())

    for resource in resources:
        # What a service would validate, minus the queries per row (foreign keys exist, titles
        # are unique): the database's constraints check those during the insert.
        resource.clean_fields(exclude={"integration", "parent"})
        resource.clean()
    Resource.objects.bulk_create(resources, batch_size=500)
    _links("owners", owners)
    _links("subscribers", subscribers)
    _links("teams", team_links)
    _links("tags", tag_links)
    _links("collections", collection_links)
    _apply_edits(data, by_path, people, tags)

    # A separate step: the catalog is complete; now what its integrations sent.
    traffic = load_demo_traffic(integrations.values())
    # Ingestion adds what it discovers to the catalog: count the catalog again.
    found = Counter(
        Resource.objects.filter(integration__in=integrations.values()).values_list(
            "entity_type", flat=True
        )
    )
    counts = {key: found[kind] for key, kind in _KINDS.items()}

    write_keys = []
    if accounts_file is not None:
        write_keys = _demo_write_keys(integrations)
        save_demo_accounts(accounts_file, new_accounts, write_keys)

    return {
        "integrations": len(integrations),
        **counts,
        "users": len(people),
        "accounts": len(new_accounts),
        "teams": len(teams),
        "tags": len(tags),
        "collections": len(collections),
        "owners": len(owners),
        "subscribers": len(subscribers),
        "edits": len(data.edits),
        **traffic,
        "write_keys": len(write_keys),
    }
