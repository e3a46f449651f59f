"""The demo catalog's content: `catalog.toml` next to this module, read and checked.

`read_demo_data()` parses the file with the standard library's tomllib and checks its shape
before anything touches the database: each table has the keys it should, with values of the
right type, and every name it refers to (a team, a tag, a property, a user, a resource's path)
is defined in the file. A problem raises DemoDataError, whose message names the place in the
file, such as::

    catalog.toml: [[categories]] #4 "Checkout" > [[categories.events]] #10 "Order Completed"
    > properties: no property 'revnue'
"""

import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from catalog.models import (
    EDITABLE_FIELDS,
    DataType,
    EntityType,
    IntegrationType,
    Role,
    ValidationMode,
)

__all__ = ["DATA_FILE", "DemoCatalogError", "DemoData", "DemoDataError", "read_demo_data"]

DATA_FILE = Path(__file__).with_name("catalog.toml")
#: Tags the loader gives by rule: to deprecated events, to experiments, to personal data.
RULE_TAGS = ("deprecated", "experiment", "gdpr")
#: What separates the parts of a resource's path: "Web app / Checkout / Order Completed".
SEP = " / "


class DemoCatalogError(Exception):
    """The demo catalog can't be loaded: it is there already, or its data file is wrong."""


class DemoDataError(DemoCatalogError):
    """The data file can't be read, is not TOML, or is not shaped as the loader needs."""


@dataclass(frozen=True)
class PropertySpec:
    name: str
    data_type: str
    description: str
    required: bool = False
    pii: bool = False
    allowed: list | None = None
    examples: list | None = None
    definition: str = ""


@dataclass(frozen=True)
class EventSpec:
    title: str
    description: str
    properties: tuple[str, ...]
    #: Markdown that introduces the event; the loader adds an example payload (not a table of
    #: its properties: the event's page shows them).
    definition: str = ""


@dataclass(frozen=True)
class TagSpec:
    color: str  # "#RRGGBB"
    description: str


@dataclass(frozen=True)
class CategorySpec:
    integration: str
    title: str
    team: str
    tags: tuple[str, ...]
    description: str
    events: tuple[EventSpec, ...]
    definition: str = ""


@dataclass(frozen=True)
class IntegrationSpec:
    name: str
    type: str
    description: str
    teams: tuple[str, ...]
    #: Context properties: every event gets `always` and one to three of the others.
    context: tuple[str, ...]
    always: tuple[str, ...]
    #: What ingestion does with what the catalog doesn't know (see `ValidationMode`).
    validation_mode: str = ValidationMode.DISCOVER


@dataclass(frozen=True)
class UserSpec:
    username: str
    role: str
    first_name: str = ""
    last_name: str = ""
    teams: tuple[str, ...] = ()
    #: Paths of the resources the user follows.
    follows: tuple[str, ...] = ()


@dataclass(frozen=True)
class CollectionSpec:
    title: str
    description: str
    #: Paths of the events in the collection.
    events: tuple[str, ...]


@dataclass(frozen=True)
class EditSpec:
    """A change made after the load, through the change pipeline, by the user `by`."""

    by: str
    resource: str
    #: Fields and their new values.
    changes: dict[str, Any]
    add_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoData:
    """The whole file, checked; dictionaries keep the file's order."""

    privacy_owner: str
    teams: dict[str, str]
    tags: dict[str, TagSpec]
    #: People of the demo workspace, without passwords: they own and follow resources.
    users: tuple[UserSpec, ...]
    #: Accounts to sign in with, which get passwords (see `catalog.demo.accounts`).
    accounts: tuple[UserSpec, ...]
    integrations: tuple[IntegrationSpec, ...]
    properties: dict[str, PropertySpec]
    categories: tuple[CategorySpec, ...]
    collections: tuple[CollectionSpec, ...]
    edits: tuple[EditSpec, ...]
    #: The file's name, for messages.
    file_name: str = DATA_FILE.name


def read_demo_data(path: Path | None = None) -> DemoData:
    """Read and check the demo catalog's data file (by default the shipped `catalog.toml`);
    raise DemoDataError naming the place of a problem."""
    path = DATA_FILE if path is None else Path(path)
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file)
    except OSError as error:
        raise DemoDataError(f"Can't read the demo catalog {path}: {error.strerror}.") from error
    except tomllib.TOMLDecodeError as error:
        raise DemoDataError(f"{path.name}: not valid TOML: {error}.") from error
    return _Reader(path.name).demo_data(raw)


# The kinds of values a key may hold.


@dataclass(frozen=True)
class _Kind:
    name: str
    test: Callable[[Any], bool]


def _json_value(value: Any) -> bool:
    """Whether `value` can be stored as JSON (TOML's dates and times can't; nor can nan)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str | bool | int):
        return True
    if isinstance(value, list):
        return all(_json_value(item) for item in value)
    if isinstance(value, dict):
        return all(_json_value(item) for item in value.values())
    return False


TEXT = _Kind("a string", lambda v: isinstance(v, str))
NAMES = _Kind(
    "a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)
)
VALUES = _Kind(
    "a non-empty list of strings, numbers, true/false, lists or inline tables (no dates)",
    lambda v: isinstance(v, list) and bool(v) and _json_value(v),
)
COLOR = _Kind(
    'a colour as "#RRGGBB"',
    lambda v: isinstance(v, str) and re.fullmatch(r"#[0-9A-Fa-f]{6}", v) is not None,
)
FLAG = _Kind("true or false", lambda v: isinstance(v, bool))
TABLE = _Kind("a table", lambda v: isinstance(v, dict))
TABLES = _Kind(
    "an array of tables, [[...]]",
    lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
)
#: What an edit may change, besides adding tags.
EDIT_FIELDS = {
    "title": TEXT,
    "description": TEXT,
    "definition": TEXT,
    "pii": FLAG,
    "verified": FLAG,
    "published": FLAG,
    "required": FLAG,
    "data_type": TEXT,
    "allowed_values": VALUES,
    "examples": VALUES,
}
_PATH_HINT = '"Integration / Category / Event", with " / property" for a property'


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    names = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a date or time" if hasattr(value, "isoformat") else type(value).__name__


def _entry(parent: str, array: str, number: int, item: Any, label_key: str) -> str:
    """How the `number`th table of `[[array]]` is named in a message: `[[teams]] #2 "Mobile"`."""
    label = item.get(label_key) if isinstance(item, dict) else None
    place = f"[[{array}]] #{number}" + (f' "{label}"' if isinstance(label, str) else "")
    return f"{parent} > {place}" if parent else place


class _Reader:
    """Checks the parsed file, table by table; `where` is the place a message names."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name

    def fail(self, where: str, problem: str) -> NoReturn:
        raise DemoDataError(f"{self.file_name}: {where}: {problem}")

    def table(
        self,
        value: Any,
        where: str,
        required: Mapping[str, _Kind],
        optional: Mapping[str, _Kind] | None = None,
    ) -> dict:
        """`value` as a table with the `required` keys and maybe the `optional` ones."""
        known = {**required, **(optional or {})}
        if not isinstance(value, dict):
            self.fail(where, f"must be a table, not {_describe(value)}")
        for key in value:
            if key not in known:
                self.fail(where, f"unknown key {key!r}; the keys are: {', '.join(known)}")
        for key in required:
            if key not in value:
                self.fail(where, f"{key!r} is missing")
        for key, item in value.items():
            if not known[key].test(item):
                self.fail(f"{where} > {key}", f"must be {known[key].name}, not {_describe(item)}")
        return value

    def tables(self, raw: Mapping, array: str, label_key: str, *, parent: str = "", name=""):
        """(where, table) for each table of the array `array` of `raw`; a nested array is
        shown by its `name` ("categories.events") inside the `parent` table."""
        for number, item in enumerate(raw.get(array, ()), 1):
            yield _entry(parent, name or array, number, item, label_key), item

    def known(self, names: Iterable[str], defined: Mapping, where: str, what: str) -> None:
        for name in names:
            if name not in defined:
                self.fail(where, f"no {what} {name!r}")

    def new(self, name: str, seen: Mapping | set, where: str, what: str) -> None:
        if name in seen:
            self.fail(where, f"a second {what} {name!r}")
        if SEP in name or not name.strip():
            self.fail(where, f"a {what} name must not be empty nor contain {SEP!r}")

    def resources(self, paths: Iterable[str], defined, where: str, what="resource") -> None:
        for path in paths:
            if path not in defined:
                self.fail(where, f"no {what} {path!r} (name one as {_PATH_HINT})")

    def choice(self, value: str, choices: Iterable[str], where: str) -> None:
        if value not in choices:
            self.fail(where, f"{value!r} is not one of: {', '.join(choices)}")

    def demo_data(self, raw: dict) -> DemoData:
        self.table(
            raw,
            "the top level",
            {
                "privacy_owner": TEXT,
                "teams": TABLES,
                "tags": TABLE,
                "users": TABLES,
                "integrations": TABLES,
                "properties": TABLE,
                "categories": TABLES,
                "collections": TABLES,
            },
            {"accounts": TABLES, "edits": TABLES},
        )
        teams = self.teams(raw)
        tags = self.tag_table(raw["tags"])
        usernames: dict[str, UserSpec] = {}
        accounts = self.users(raw, "accounts", teams, usernames)
        users = self.users(raw, "users", teams, usernames)
        self.known([raw["privacy_owner"]], usernames, "privacy_owner", "user")
        properties = self.properties(raw["properties"])
        integrations = self.integrations(raw, teams, properties)
        categories = self.categories(raw, integrations, teams, tags, properties, users)
        paths = self.paths(categories, integrations)
        for array in ("accounts", "users"):
            for where, item in self.tables(raw, array, "username"):
                self.resources(item.get("follows", ()), paths, f"{where} > follows")
        events = {path for path, kind in paths.items() if kind == EntityType.EVENT}
        return DemoData(
            privacy_owner=raw["privacy_owner"],
            teams=teams,
            tags=tags,
            users=users,
            accounts=accounts,
            integrations=tuple(integrations.values()),
            properties=properties,
            categories=categories,
            collections=self.collections(raw, events),
            edits=self.edits(raw, paths, usernames, tags),
            file_name=self.file_name,
        )

    def teams(self, raw: Mapping) -> dict[str, str]:
        teams: dict[str, str] = {}
        for where, item in self.tables(raw, "teams", "name"):
            table = self.table(item, where, {"name": TEXT}, {"description": TEXT})
            self.new(table["name"], teams, where, "team")
            teams[table["name"]] = table.get("description", "")
        return teams

    def tag_table(self, raw: Mapping) -> dict[str, TagSpec]:
        tags = self.table(raw, "[tags]", {}, dict.fromkeys(raw, TABLE))
        missing = [name for name in RULE_TAGS if name not in tags]
        if missing:
            self.fail("[tags]", f"the loader gives these tags by rule; define them: {missing}")
        specs = {}
        for name, item in tags.items():
            where = f"[tags] > {name}"
            table = self.table(item, where, {"color": COLOR, "description": TEXT})
            specs[name] = TagSpec(color=table["color"], description=table["description"])
        return specs

    def users(self, raw: Mapping, array: str, teams: Mapping, seen: dict[str, UserSpec]):
        """The users of `[[array]]`, added to `seen` (accounts and users share usernames)."""
        users = []
        for where, item in self.tables(raw, array, "username"):
            table = self.table(
                item,
                where,
                {"username": TEXT, "role": TEXT},
                {"first_name": TEXT, "last_name": TEXT, "teams": NAMES, "follows": NAMES},
            )
            self.new(table["username"], seen, where, "user")
            self.choice(table["role"], Role.values, f"{where} > role")
            self.known(table.get("teams", ()), teams, f"{where} > teams", "team")
            user = UserSpec(
                username=table["username"],
                role=table["role"],
                first_name=table.get("first_name", ""),
                last_name=table.get("last_name", ""),
                teams=tuple(table.get("teams", ())),
                follows=tuple(table.get("follows", ())),
            )
            users.append(user)
            seen[user.username] = user
        return tuple(users)

    def properties(self, raw: Mapping) -> dict[str, PropertySpec]:
        properties = {}
        for name, item in raw.items():
            where = f"[properties.{name}]"
            self.new(name, {}, where, "property")
            table = self.table(
                item,
                where,
                {"type": TEXT, "description": TEXT},
                {
                    "required": FLAG,
                    "pii": FLAG,
                    "allowed": VALUES,
                    "examples": VALUES,
                    "definition": TEXT,
                },
            )
            self.choice(table["type"], DataType.values, f"{where} > type")
            properties[name] = PropertySpec(
                name=name,
                data_type=table["type"],
                description=table["description"],
                required=table.get("required", False),
                pii=table.get("pii", False),
                allowed=table.get("allowed"),
                examples=table.get("examples"),
                definition=table.get("definition", "").strip(),
            )
        return properties

    def integrations(
        self, raw: Mapping, teams: Mapping, properties: Mapping
    ) -> dict[str, IntegrationSpec]:
        integrations: dict[str, IntegrationSpec] = {}
        for where, item in self.tables(raw, "integrations", "name"):
            table = self.table(
                item,
                where,
                {"name": TEXT, "type": TEXT, "context": NAMES, "always": NAMES},
                {"description": TEXT, "teams": NAMES, "validation_mode": TEXT},
            )
            self.new(table["name"], integrations, where, "integration")
            self.choice(table["type"], IntegrationType.values, f"{where} > type")
            mode = table.get("validation_mode", ValidationMode.DISCOVER)
            self.choice(mode, ValidationMode.values, f"{where} > validation_mode")
            self.known(table.get("teams", ()), teams, f"{where} > teams", "team")
            for key in ("context", "always"):
                self.known(table[key], properties, f"{where} > {key}", "property")
            if not set(table["context"]) - set(table["always"]):
                self.fail(f"{where} > context", "name at least one property not in 'always'")
            integrations[table["name"]] = IntegrationSpec(
                name=table["name"],
                type=table["type"],
                description=table.get("description", ""),
                teams=tuple(table.get("teams", ())),
                context=tuple(table["context"]),
                always=tuple(table["always"]),
                validation_mode=mode,
            )
        return integrations

    def categories(
        self,
        raw: Mapping,
        integrations: Mapping,
        teams: Mapping,
        tags: Mapping,
        properties: Mapping,
        users: Iterable[UserSpec],
    ) -> tuple[CategorySpec, ...]:
        editors = {team for user in users if user.role == Role.EDITOR for team in user.teams}
        categories: dict[tuple[str, str], CategorySpec] = {}
        for where, item in self.tables(raw, "categories", "title"):
            table = self.table(
                item,
                where,
                {"integration": TEXT, "title": TEXT, "team": TEXT, "events": TABLES},
                {"tags": NAMES, "description": TEXT, "definition": TEXT},
            )
            key = (table["integration"], table["title"])
            self.known([key[0]], integrations, f"{where} > integration", "integration")
            self.new(key[1], {k[1] for k in categories if k[0] == key[0]}, where, "category")
            self.known([table["team"]], teams, f"{where} > team", "team")
            if table["team"] not in editors:
                self.fail(f"{where} > team", "the team has no editor in [[users]] to own it")
            self.known(table.get("tags", ()), tags, f"{where} > tags", "tag")
            events: dict[str, EventSpec] = {}
            for event_where, event in self.tables(
                table, "events", "title", parent=where, name="categories.events"
            ):
                self.table(
                    event,
                    event_where,
                    {"title": TEXT, "properties": NAMES},
                    {"description": TEXT, "definition": TEXT},
                )
                self.new(event["title"], events, event_where, "event")
                where_props = f"{event_where} > properties"
                self.known(event["properties"], properties, where_props, "property")
                events[event["title"]] = EventSpec(
                    title=event["title"],
                    description=event.get("description", ""),
                    properties=tuple(event["properties"]),
                    definition=event.get("definition", "").strip(),
                )
            categories[key] = CategorySpec(
                integration=table["integration"],
                title=table["title"],
                team=table["team"],
                tags=tuple(table.get("tags", ())),
                description=table.get("description", ""),
                events=tuple(events.values()),
                definition=table.get("definition", "").strip(),
            )
        return tuple(categories.values())

    def collections(self, raw: Mapping, events: set[str]) -> tuple[CollectionSpec, ...]:
        collections: dict[str, CollectionSpec] = {}
        for where, item in self.tables(raw, "collections", "title"):
            table = self.table(item, where, {"title": TEXT, "events": NAMES}, {"description": TEXT})
            self.new(table["title"], collections, where, "collection")
            self.resources(table["events"], events, f"{where} > events", "event")
            collections[table["title"]] = CollectionSpec(
                title=table["title"],
                description=table.get("description", ""),
                events=tuple(table["events"]),
            )
        return tuple(collections.values())

    @staticmethod
    def paths(categories: Iterable[CategorySpec], integrations: Mapping) -> dict[str, str]:
        """The path of every resource the loader makes, with its kind; of the properties, only
        those an event always has (the loader adds a few others at random)."""
        paths = {}
        for category in categories:
            category_path = SEP.join([category.integration, category.title])
            paths[category_path] = EntityType.EVENT_CATEGORY
            always = integrations[category.integration].always
            for event in category.events:
                event_path = SEP.join([category_path, event.title])
                paths[event_path] = EntityType.EVENT
                for name in (*always, *event.properties):
                    paths[SEP.join([event_path, name])] = EntityType.EVENT_PROPERTY
        return paths

    def edits(
        self, raw: Mapping, paths: Mapping[str, str], users: Mapping[str, UserSpec], tags: Mapping
    ) -> tuple[EditSpec, ...]:
        edits = []
        for where, item in self.tables(raw, "edits", "resource"):
            table = self.table(
                item, where, {"by": TEXT, "resource": TEXT}, {**EDIT_FIELDS, "add_tags": NAMES}
            )
            self.known([table["by"]], users, f"{where} > by", "user")
            if users[table["by"]].role not in (Role.EDITOR, Role.ADMIN):
                self.fail(f"{where} > by", "only editors and admins may edit the catalog")
            self.resources([table["resource"]], paths, f"{where} > resource")
            kind = paths[table["resource"]]
            changes = {k: v for k, v in table.items() if k in EDIT_FIELDS}
            for key in changes:
                if key not in EDITABLE_FIELDS[kind]:
                    self.fail(f"{where} > {key}", "only event properties have this field")
            if "data_type" in changes:
                self.choice(changes["data_type"], DataType.values, f"{where} > data_type")
            if "definition" in changes:
                changes["definition"] = changes["definition"].strip()
            self.known(table.get("add_tags", ()), tags, f"{where} > add_tags", "tag")
            if not changes and not table.get("add_tags"):
                self.fail(where, "changes nothing: set a field, or add_tags")
            edits.append(
                EditSpec(
                    by=table["by"],
                    resource=table["resource"],
                    changes=changes,
                    add_tags=tuple(table.get("add_tags", ())),
                )
            )
        return tuple(edits)
