"""RudderStack tracking plans as the YAML specs of rudder-cli (`rudder/v1`, and on import the
older `rudder/0.1` / `rudder/v0.1`).

One file is a stream of YAML documents separated by `---`: `kind: properties`,
`kind: categories`, `kind: events` and one `kind: tracking-plan` (`tp` in 0.1), whose event
rules point at events and properties by reference (`"#event:id"`, `"#property:id"`; in 0.1
`$ref: "#/events/<group>/<id>"`). rudder-cli reads one document per file: split an export
at `---` to use it there.

A RudderStack property is shared by events; ours belongs to one event. An export writes one
RudderStack property for every distinct definition of a name: the same name with two
definitions gives two ids (`revenue`, `revenue_2`), both named `revenue`.

rudder-cli refuses unknown keys in a spec's items but ignores unknown keys of a document's
`metadata`: what RudderStack has no field for (definition, PII, examples, owners, tags,
verified, published) is kept there, under `metadata.x-event-catalog.<item id>`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import yaml

from catalog.tracking_plan.formats._checks import (
    Problems,
    check_one_event_per_name,
    checked_bool,
    checked_field,
    checked_name,
    checked_text,
    checked_values,
    decode,
    describe,
)
from catalog.tracking_plan.formats._types import data_type_of, type_keywords
from catalog.tracking_plan.formats._yaml import dump_all
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError, PlanProblem, PlanProperty

MEDIA_TYPE = "application/yaml"
EXTENSION = "yaml"

VERSION = "rudder/v1"
LEGACY_VERSIONS = ("rudder/0.1", "rudder/v0.1")
EXTRAS_KEY = "x-event-catalog"
RUDDER_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
EVENT_TYPES = ("track", "identify", "page", "screen", "group")

KIND_PROPERTIES = "properties"
KIND_CATEGORIES = "categories"
KIND_EVENTS = "events"
KIND_TRACKING_PLAN = "tracking-plan"
KIND_TRACKING_PLAN_LEGACY = "tp"
KIND_CUSTOM_TYPES = "custom-types"
KINDS = (
    KIND_PROPERTIES,
    KIND_CATEGORIES,
    KIND_EVENTS,
    KIND_TRACKING_PLAN,
    KIND_TRACKING_PLAN_LEGACY,
    KIND_CUSTOM_TYPES,
)
#: Item list of each catalog kind's spec, and what its references call it.
ITEM_LISTS = {KIND_PROPERTIES: "properties", KIND_CATEGORIES: "categories", KIND_EVENTS: "events"}
REFERENCE_KINDS = {"property": KIND_PROPERTIES, "category": KIND_CATEGORIES, "event": KIND_EVENTS}
REFERENCE_KINDS_LEGACY = {
    "properties": KIND_PROPERTIES,
    "categories": KIND_CATEGORIES,
    "events": KIND_EVENTS,
}

PROPERTY_EXTRAS = ("definition", "pii", "examples", "verified", "published", "owners", "tags")
EVENT_EXTRAS = ("definition", "pii", "verified", "published", "owners", "tags")

_REFERENCE = re.compile(r"#(property|event|category|custom-type):(.+)")
_LEGACY_REFERENCE = re.compile(r"#/(properties|events|categories|custom-types)/([^/]+)/(.+)")


# Reading YAML safely


#: libyaml's parser where PyYAML has it: ten times as fast on large plans.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, with dates left as strings (a plan holds JSON values only)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_STR = "tag:yaml.org,2002:str"
_PLAIN_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_NO_KEY = object()


def _documents(text: str) -> list[tuple[int, Any]]:
    """The YAML documents of `text`, numbered from 1; aliases are refused (no alias bombs).

    The values are built from the parser's events with a stack, not by PyYAML's recursive
    composer: four times as fast on large plans, and no depth is too deep.
    """
    try:
        return _built_documents(text)
    except yaml.reader.ReaderError as error:
        raise PlanFileError.at(
            _text_position(text, error.position),
            f"Not valid YAML: the control character U+{error.character:04X} is not allowed.",
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "unreadable YAML"
        raise PlanFileError.at(_mark(mark), f"Not valid YAML: {problem}.") from None
    except yaml.YAMLError as error:
        raise PlanFileError.at("", f"Not valid YAML: {error}") from None


def _built_documents(text: str) -> list[tuple[int, Any]]:
    loader = _Loader(text)
    documents: list[tuple[int, Any]] = []
    number = 0
    containers: list[Any] = []
    keys: list[Any] = []
    starts: list[Any] = []
    constructors = loader.yaml_constructors
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag == _STR:
                    value: Any = event.value
                elif tag in constructors and tag is not None:
                    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
                    try:
                        value = constructors[tag](loader, node)
                    except ValueError:
                        raise PlanFileError.at(
                            _mark(event.start_mark),
                            f"Not a usable value: {event.value:.40} is too large.",
                        ) from None
                else:
                    raise _refused_tag(tag, event)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in _PLAIN_COLLECTION_TAGS:
                    raise _refused_tag(event.tag, event)
                containers.append({} if isinstance(event, yaml.MappingStartEvent) else [])
                keys.append(_NO_KEY)
                starts.append(event.start_mark)
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                keys.pop()
                value = containers.pop()
                start = starts.pop()
            elif isinstance(event, yaml.AliasEvent):
                raise PlanFileError.at(
                    _mark(event.start_mark),
                    "YAML aliases (*name) are not accepted: write the value out.",
                )
            elif isinstance(event, yaml.DocumentStartEvent):
                number += 1
                continue
            elif isinstance(event, yaml.StreamEndEvent):
                break
            else:
                continue
            if not containers:
                if value is not None:
                    documents.append((number, value))
                continue
            container = containers[-1]
            if isinstance(container, list):
                container.append(value)
            elif keys[-1] is _NO_KEY:
                if isinstance(value, (dict, list)):
                    raise PlanFileError.at(_mark(start), "A mapping key must be a plain value.")
                keys[-1] = value
            else:
                container[keys[-1]] = value
                keys[-1] = _NO_KEY
    finally:
        loader.dispose()
    return documents


def _refused_tag(tag: Any, event: Any) -> PlanFileError:
    return PlanFileError.at(
        _mark(event.start_mark), f"Not valid YAML: the tag {tag!r:.80} is not accepted."
    )


def _text_position(text: str, index: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    return f"line {text.count(chr(10), 0, index) + 1}, column {index - line_start + 1}"


def _mark(mark: Any) -> str:
    return "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}"


# Reading the plan


class _Item:
    """A property, category or event of the catalog documents, where it is, and its extras."""

    __slots__ = ("data", "extras", "extras_position", "group", "position")

    def __init__(
        self, data: dict[str, Any], position: str, extras: Any, extras_position: str, group: Any
    ):
        self.data = data
        self.position = position
        self.extras = extras
        self.extras_position = extras_position
        self.group = group


class _Reader:
    def __init__(self) -> None:
        self.problems = Problems()
        self.skipped: list[PlanProblem] = []
        self.items: dict[str, dict[str, _Item]] = {kind: {} for kind in ITEM_LISTS}
        self.legacy_items: dict[tuple[str, Any, str], _Item] = {}
        self.custom_types: set[str] = set()
        self.plans: list[tuple[str, dict[str, Any]]] = []

    def read(self, text: str) -> tuple[Plan, list[PlanProblem]]:
        for number, document in _documents(text):
            self.collect(number, document)
        self.problems.raise_if_any()
        if not self.plans:
            raise PlanFileError.at(
                "",
                "No tracking plan: expected a document of kind tracking-plan whose rules "
                "reference the events and properties.",
            )
        if len(self.plans) > 1:
            where = " and ".join(position for position, _ in self.plans)
            raise PlanFileError.at(
                self.plans[1][0], f"One tracking plan per file; found one at {where}."
            )
        position, spec = self.plans[0]
        plan = self.plan_of(position, spec)
        self.problems.raise_if_any()
        return plan, self.skipped

    # The documents

    def collect(self, number: int, document: Any) -> None:
        where = f"document {number}"
        if not isinstance(document, dict):
            self.problems.add(
                where,
                "Each document must be a mapping with version, kind, metadata and spec, "
                f"not {describe(document)}.",
            )
            return
        version = document.get("version")
        if version != VERSION and version not in LEGACY_VERSIONS:
            self.problems.add(
                f"{where}, /version",
                f"The version must be {VERSION} (or {' or '.join(LEGACY_VERSIONS)}), "
                f"not {version!r:.60}.",
            )
            return
        kind = document.get("kind")
        if kind not in KINDS:
            self.problems.add(
                f"{where}, /kind",
                f"Unknown kind {kind!r:.60}: expected one of {', '.join(KINDS)}.",
            )
            return
        metadata = document.get("metadata")
        if not isinstance(metadata, dict):
            self.problems.add(f"{where}, /metadata", "metadata must be a mapping with a name.")
            return
        spec = document.get("spec")
        if not isinstance(spec, dict):
            self.problems.add(f"{where}, /spec", f"spec must be a mapping, not {describe(spec)}.")
            return
        extras = metadata.get(EXTRAS_KEY, {})
        if not isinstance(extras, dict):
            self.problems.add(
                f"{where}, /metadata/{EXTRAS_KEY}", "Must be a mapping from item ids to fields."
            )
            extras = {}
        if kind in (KIND_TRACKING_PLAN, KIND_TRACKING_PLAN_LEGACY):
            self.plans.append((where, spec))
        elif kind == KIND_CUSTOM_TYPES:
            for item in spec.get("types") or []:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self.custom_types.add(item["id"])
        else:
            self.collect_items(where, kind, metadata.get("name"), spec, extras)

    def collect_items(
        self, where: str, kind: str, group: Any, spec: dict[str, Any], extras: dict[str, Any]
    ) -> None:
        list_key = ITEM_LISTS[kind]
        items = spec.get(list_key)
        if not isinstance(items, list):
            self.problems.add(
                f"{where}, /spec/{list_key}",
                f"A document of kind {kind} lists its {list_key} under spec.{list_key}.",
            )
            return
        known = self.items[kind]
        for index, data in enumerate(items):
            position = f"{where}, /spec/{list_key}/{index}"
            if not isinstance(data, dict):
                self.problems.add(position, f"Expected a mapping, not {describe(data)}.")
                continue
            item_id = data.get("id")
            if not isinstance(item_id, str) or not item_id:
                self.problems.add(f"{position}/id", "Each item needs an id (a string).")
                continue
            if item_id in known:
                self.problems.add(
                    f"{position}/id",
                    f'The id "{item_id}" is also used at {known[item_id].position}; '
                    f"ids are unique among the {list_key}.",
                )
                continue
            extras_position = f"{where}, /metadata/{EXTRAS_KEY}/{item_id}"
            item = _Item(data, position, extras.get(item_id), extras_position, group)
            known[item_id] = item
            self.legacy_items[(kind, group, item_id)] = item

    # References

    def resolve(self, reference: Any, expected: str, position: str) -> _Item | None:
        """The item `reference` points at (an `#event:id` string, or a 0.1 `$ref` path)."""
        if isinstance(reference, dict) and "$ref" in reference:
            reference = reference["$ref"]
        if not isinstance(reference, str):
            self.problems.add(
                position,
                f'Expected a reference like "#{expected}:<id>", not {describe(reference)}.',
            )
            return None
        item: _Item | None = None
        match = _REFERENCE.fullmatch(reference)
        legacy = _LEGACY_REFERENCE.fullmatch(reference)
        if match and match.group(1) == expected:
            item = self.items[REFERENCE_KINDS[expected]].get(match.group(2))
        elif legacy and REFERENCE_KINDS_LEGACY.get(legacy.group(1)) == REFERENCE_KINDS[expected]:
            kind = REFERENCE_KINDS[expected]
            item = self.legacy_items.get((kind, legacy.group(2), legacy.group(3)))
        else:
            self.problems.add(
                position,
                f'"{reference:.100}" is not a reference to a {expected}: expected '
                f'"#{expected}:<id>".',
            )
            return None
        if item is None:
            self.problems.add(position, f'"{reference:.100}" points to no {expected} of the file.')
        return item

    # The tracking plan

    def plan_of(self, where: str, spec: dict[str, Any]) -> Plan:
        name = spec.get("display_name", spec.get("name", ""))
        plan_name = checked_text(name, f"{where}, /spec/display_name", "name", self.problems)
        plan = Plan(name=plan_name or "")
        rules = spec.get("rules")
        if rules is None:
            rules = []
        if not isinstance(rules, list):
            self.problems.add(f"{where}, /spec/rules", "The rules must be a list.")
            return plan
        seen_events: dict[int, str] = {}
        seen_names: dict[str, str] = {}
        for index, rule in enumerate(rules):
            position = f"{where}, /spec/rules/{index}"
            event = self.event_of(rule, position, seen_events)
            if event is None:
                continue
            if event.name in seen_names:
                self.problems.add(
                    position,
                    f'Event "{event.name}" is also at {seen_names[event.name]}; '
                    "each event appears once in a tracking plan.",
                )
                continue
            seen_names[event.name] = position
            plan.events.append(event)
        for item in self.items[KIND_EVENTS].values():
            if id(item) not in seen_events and item.data.get("event_type") == "track":
                self.skipped.append(
                    PlanProblem(
                        item.position,
                        f'Event "{item.data.get("name")}" is in no rule of the tracking plan; '
                        "skipped.",
                    )
                )
        return plan

    def event_of(self, rule: Any, position: str, seen_events: dict[int, str]) -> PlanEvent | None:
        if not isinstance(rule, dict):
            self.problems.add(position, f"A rule must be a mapping, not {describe(rule)}.")
            return None
        if rule.get("type", "event_rule") != "event_rule":
            self.skipped.append(
                PlanProblem(position, f"A rule of type {rule.get('type')!r:.60} was skipped.")
            )
            return None
        item = self.resolve(rule.get("event"), "event", f"{position}/event")
        if item is None:
            return None
        if id(item) in seen_events:
            self.problems.add(
                f"{position}/event",
                f"The event of this rule also has the rule at {seen_events[id(item)]}.",
            )
            return None
        seen_events[id(item)] = position
        data = item.data
        event_type = data.get("event_type")
        if event_type not in EVENT_TYPES:
            self.problems.add(
                f"{item.position}/event_type",
                f"event_type must be one of {', '.join(EVENT_TYPES)}, not {event_type!r:.60}.",
            )
            return None
        if event_type != "track":
            self.skipped.append(
                PlanProblem(
                    position,
                    f"The rule of an event of type {event_type} was skipped: only track "
                    "events are events of the catalog.",
                )
            )
            return None
        name = checked_name(data.get("name"), f"{item.position}/name", "event", self.problems)
        if name is None:
            return None
        event = PlanEvent(name=name, position=position, category="")
        if "description" in data:
            event.description = checked_text(
                data["description"], f"{item.position}/description", "description", self.problems
            )
        if data.get("category") is not None:
            category = self.resolve(data["category"], "category", f"{item.position}/category")
            if category is not None:
                event.category = checked_text(
                    category.data.get("name"),
                    f"{category.position}/name",
                    "category name",
                    self.problems,
                )
        self.read_extras(event, item, EVENT_EXTRAS)
        self.add_properties(event, rule.get("properties"), position)
        return event

    def add_properties(self, event: PlanEvent, references: Any, position: str) -> None:
        if references is None:
            return
        if not isinstance(references, list):
            self.problems.add(f"{position}/properties", "The properties of a rule must be a list.")
            return
        seen: dict[str, str] = {}
        for index, reference in enumerate(references):
            where = f"{position}/properties/{index}"
            if not isinstance(reference, dict):
                self.problems.add(where, f"Expected a mapping, not {describe(reference)}.")
                continue
            target = reference.get("property", reference.get("$ref"))
            item = self.resolve(target, "property", where)
            if item is None:
                continue
            plan_property = self.property_of(item, where)
            if plan_property is None:
                continue
            required = reference.get("required", False)
            plan_property.required = checked_bool(
                required, f"{where}/required", "required", self.problems
            )
            if plan_property.name in seen:
                self.problems.add(
                    where,
                    f'Property "{plan_property.name}" of event "{event.name}" is also at '
                    f"{seen[plan_property.name]}.",
                )
                continue
            seen[plan_property.name] = where
            event.properties.append(plan_property)

    def property_of(self, item: _Item, position: str) -> PlanProperty | None:
        data = item.data
        name = checked_name(data.get("name"), f"{item.position}/name", "property", self.problems)
        if name is None:
            return None
        plan_property = PlanProperty(name=name, position=position)
        config = data.get("config", data.get("propConfig"))
        if config is not None and not isinstance(config, dict):
            self.problems.add(f"{item.position}/config", "config must be a mapping.")
            config = None
        config = config or {}
        plan_property.type = self.type_of(data, config, item.position)
        if "description" in data:
            plan_property.description = checked_text(
                data["description"], f"{item.position}/description", "description", self.problems
            )
        if "enum" in config:
            plan_property.allowed_values = checked_values(
                config["enum"], f"{item.position}/config/enum", "The enum", self.problems
            )
        self.read_extras(plan_property, item, PROPERTY_EXTRAS)
        return plan_property

    def type_of(self, data: dict[str, Any], config: dict[str, Any], position: str) -> str | None:
        declared = data.get("types", data.get("type"))
        if declared is None or declared == "":
            return None
        if isinstance(declared, str):
            names = [part.strip() for part in declared.split(",")]
        elif isinstance(declared, list) and all(isinstance(part, str) for part in declared):
            names = list(declared)
        else:
            self.problems.add(f"{position}/type", "type must be a string, types a list of them.")
            return None
        if any(name.startswith("#") for name in names):
            # A custom type: its rules are RudderStack's, the catalog keeps no type.
            return None
        unknown = [name for name in names if name not in RUDDER_TYPES]
        if unknown:
            self.problems.add(
                f"{position}/type",
                f"Unknown type {unknown[0]!r:.60}: expected one of {', '.join(RUDDER_TYPES)} "
                'or a custom type ("#custom-type:<id>").',
            )
            return None
        return data_type_of(names, config.get("format"))

    def read_extras(
        self, target: PlanEvent | PlanProperty, item: _Item, fields: tuple[str, ...]
    ) -> None:
        extras = item.extras
        if extras is None:
            return
        if not isinstance(extras, dict):
            self.problems.add(
                item.extras_position, "The extra fields of an item must be a mapping."
            )
            return
        for field_name in fields:
            if field_name not in extras:
                continue
            where = f"{item.extras_position}/{field_name}"
            checked = checked_field(
                field_name, extras[field_name], where, field_name, self.problems
            )
            setattr(target, field_name, checked)


def read(data: bytes) -> Plan:
    plan, _skipped = read_with_skipped(data)
    return plan


def read_with_skipped(data: bytes) -> tuple[Plan, list[PlanProblem]]:
    """The plan in `data`, and a notice for every rule or event that is not one of its events."""
    return _Reader().read(decode(data))


# Writing


class _Ids:
    """Unique ids made from names: `order_completed`, then `order_completed_2`..."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.next_suffix: dict[str, int] = {}

    def new(self, name: str, fallback: str) -> str:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or fallback
        candidate = base
        while candidate in self.used:
            suffix = self.next_suffix.get(base, 2)
            self.next_suffix[base] = suffix + 1
            candidate = f"{base}_{suffix}"
        self.used.add(candidate)
        return candidate


def _definition_key(prop: PlanProperty) -> tuple[str, str]:
    """What makes two of our properties one RudderStack property: all but required."""
    fields = [getattr(prop, name) for name in ("type", "allowed_values", "description")]
    fields += [getattr(prop, name) for name in PROPERTY_EXTRAS]
    return prop.name, json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)


def write(plan: Plan) -> bytes:
    """Properties, categories, events and the tracking plan, as one YAML stream.

    The file is one tracking plan with one rule per event name: a plan with the same name in
    two integrations is exported one integration at a time (ValueError otherwise).
    """
    property_ids = _Ids()
    properties: list[dict[str, Any]] = []
    property_extras: dict[str, Any] = {}
    id_of_definition: dict[tuple[str, str], str] = {}
    category_ids = _Ids()
    categories: list[dict[str, Any]] = []
    id_of_category: dict[str, str] = {}
    event_ids = _Ids()
    events: list[dict[str, Any]] = []
    event_extras: dict[str, Any] = {}
    rules: list[dict[str, Any]] = []

    check_one_event_per_name(plan.events, "RudderStack")
    for event in plan.events:
        rule_properties = []
        for prop in event.properties:
            key = _definition_key(prop)
            if key not in id_of_definition:
                property_id = property_ids.new(prop.name, "property")
                id_of_definition[key] = property_id
                properties.append(_property_spec(property_id, prop))
                extras = _extras(prop, PROPERTY_EXTRAS)
                if extras:
                    property_extras[property_id] = extras
            rule_properties.append(
                {"property": f"#property:{id_of_definition[key]}", "required": bool(prop.required)}
            )
        event_id = event_ids.new(event.name, "event")
        event_spec: dict[str, Any] = {"id": event_id, "name": event.name, "event_type": "track"}
        if event.description is not None:
            event_spec["description"] = event.description
        if event.category:
            if event.category not in id_of_category:
                id_of_category[event.category] = category_ids.new(event.category, "category")
                categories.append({"id": id_of_category[event.category], "name": event.category})
            event_spec["category"] = f"#category:{id_of_category[event.category]}"
        events.append(event_spec)
        extras = _extras(event, EVENT_EXTRAS)
        if extras:
            event_extras[event_id] = extras
        rule: dict[str, Any] = {
            "type": "event_rule",
            "id": f"{event_id}_rule",
            "event": f"#event:{event_id}",
        }
        if rule_properties:
            rule["properties"] = rule_properties
        rules.append(rule)

    documents = [
        _document(KIND_PROPERTIES, "properties", {"properties": properties}, property_extras),
    ]
    if categories:
        documents.append(_document(KIND_CATEGORIES, "categories", {"categories": categories}, {}))
    documents.append(_document(KIND_EVENTS, "events", {"events": events}, event_extras))
    plan_id = _Ids().new(plan.name, "tracking_plan")
    documents.append(
        _document(
            KIND_TRACKING_PLAN,
            plan_id,
            {"id": plan_id, "display_name": plan.name, "rules": rules},
            {},
        )
    )
    return dump_all(documents).encode("utf-8")


def _document(kind: str, name: str, spec: dict[str, Any], extras: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if extras:
        metadata[EXTRAS_KEY] = extras
    return {"version": VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _property_spec(property_id: str, prop: PlanProperty) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": property_id, "name": prop.name}
    config: dict[str, Any] = {}
    keywords = type_keywords(prop.type)
    if "type" in keywords:
        spec["type"] = keywords["type"]
    if "format" in keywords:
        config["format"] = keywords["format"]
    if prop.description is not None:
        spec["description"] = prop.description
    if prop.allowed_values is not None:
        config["enum"] = prop.allowed_values
    if config:
        spec["config"] = config
    return spec


def _extras(source: PlanEvent | PlanProperty, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(source, name) for name in fields if getattr(source, name) is not None}
