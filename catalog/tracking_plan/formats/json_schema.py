"""The tracking plan as JSON Schema (draft 2020-12): one schema per event, describing the
event's properties object.

The file is a plain JSON array of event schemas. Each element is a complete schema that any
validator takes as it is (`for schema in json.load(file)`), with no wrapper to learn; the
event's name is the schema's `title`. The reader also takes a single event schema on its own,
as found in documentation or another tool's export. The array itself is not a schema, hence
the media type `application/json` rather than `application/schema+json`.

One event's schema::

    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "title": "Order Completed",
      "description": "A customer paid.",
      "x-integration": "web",
      "x-category": "Checkout",
      "x-owners": ["alice"],
      "type": "object",
      "properties": {
        "currency": {"type": "string", "enum": ["EUR", "USD"], "x-pii": false},
        "revenue": {"type": "number"}
      },
      "required": ["currency"]
    }

What JSON Schema has no keyword for travels under an `x-` name that validators ignore:
`x-integration`, `x-category`, `x-definition`, `x-pii`, `x-verified`, `x-published`,
`x-owners`, `x-tags` on the event, and `x-definition`, `x-pii`, `x-verified`, `x-published`,
`x-owners`, `x-tags` on properties; `description`, `enum` and `examples` are JSON Schema's own.
A key left out is a field the file says nothing about (None), except `enum`: a schema without
one allows any value, which is the catalog's empty list of allowed values (so None is written
as no `enum` and read back as []; `"enum": []` would allow nothing at all).

Types: `datetime` is `{"type": "string", "format": "date-time"}`, an unknown type (None) has no
`type` key. When reading, a type list with "null" in it (`["string", "null"]`) is its other
type.

Required: JSON Schema has only the `required` list, so a property in it is required and one
outside it is not. A property whose required is None ("not said") is outside the list and has
`"x-required": null`, so that it doesn't come back as False.

Keywords the catalog has no field for (`minimum`, `pattern`, `items`, `additionalProperties`...)
are allowed and checked, then left out of the plan: an import keeps what the catalog can hold.

Each event's schema is checked against the draft's meta-schema (or the draft its `$schema` names,
for schemas written by other tools); problems are reported with their JSON pointer.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
)

from catalog.tracking_plan.formats._checks import (
    Problems,
    check_duplicates,
    decode,
    load_json,
    name_problem,
    text_problem,
)
from catalog.tracking_plan.formats._types import (
    EXTRA_KEYWORDS,
    data_type_of,
    type_keywords,
    write_extras,
)
from catalog.tracking_plan.model import DATA_TYPES, Plan, PlanEvent, PlanFileError, PlanProperty

MEDIA_TYPE = "application/json"
EXTENSION = "json"

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_JSON_TYPES = frozenset(DATA_TYPES) - {"datetime"}
_INTEGER_LIMIT = 2**63


# Writing


def write(plan: Plan) -> bytes:
    """The plan as a JSON array of event schemas, in the order given."""
    schemas = [_event_schema(event) for event in plan.events]
    text = json.dumps(schemas, indent=2, ensure_ascii=False, sort_keys=False)
    return (text + "\n").encode("utf-8")


def _event_schema(event: PlanEvent) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT, "title": event.name}
    _put(schema, "description", event.description)
    _put(schema, "x-integration", event.integration)
    _put(schema, "x-category", event.category)
    write_extras(schema, event, EXTRA_KEYWORDS)
    schema["type"] = "object"
    schema["properties"] = {prop.name: _property_schema(prop) for prop in event.properties}
    schema["required"] = [prop.name for prop in event.properties if prop.required]
    return schema


def _property_schema(prop: PlanProperty) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    schema |= type_keywords(prop.type)
    if prop.allowed_values:
        schema["enum"] = prop.allowed_values
    _put(schema, "description", prop.description)
    _put(schema, "examples", prop.examples)
    write_extras(schema, prop, EXTRA_KEYWORDS)
    if prop.required is None:
        schema["x-required"] = None
    return schema


def _put(schema: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        schema[key] = value


# Reading


class _OutOfRange:
    """A number JSON can write but the catalog can't keep (1e999, 10**30): reported where it is
    used, with its pointer."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:  # as the meta-schema's messages quote it
        return self.text[:40]


def _parse_float(text: str) -> float | _OutOfRange:
    value = float(text)
    return value if math.isfinite(value) else _OutOfRange(text)


def _parse_int(text: str) -> int | _OutOfRange:
    if len(text) > 20:
        return _OutOfRange(text)
    value = int(text)
    return value if -_INTEGER_LIMIT <= value < _INTEGER_LIMIT else _OutOfRange(text)


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) to `parts`; "/" for the whole document, to be readable."""
    if not parts:
        return "/"
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def read(data: bytes) -> Plan:
    """The plan in a JSON file of event schemas; PlanFileError with the JSON pointer of every
    problem."""
    text = decode(data)
    document = load_json(text, whole_file="/", parse_float=_parse_float, parse_int=_parse_int)
    problems = Problems()
    if isinstance(document, dict):
        schemas: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    elif isinstance(document, list):
        schemas = [((index,), schema) for index, schema in enumerate(document)]
    else:
        raise PlanFileError.at(
            "/", "Expected a JSON array of event schemas (or one event schema object)."
        )
    plan = Plan()
    for path, schema in schemas:
        try:
            event = _read_event(schema, path, problems)
        except RecursionError:
            problems.add(pointer(*path), "The schema is nested too deeply to read.")
            continue
        if event is not None:
            plan.events.append(event)
    check_duplicates(plan.events, problems)
    problems.raise_if_any()
    return plan


def _read_event(schema: Any, path: tuple[str | int, ...], problems: Problems) -> PlanEvent | None:
    position = pointer(*path)
    if not isinstance(schema, dict):
        problems.add(position, f"An event's schema must be a JSON object, not {_kind(schema)}.")
        return None
    count_before = len(problems.items)
    _check_object(schema, path, problems)
    dialect = _dialect(schema, path, problems)
    name = schema.get("title")
    if name is None:
        hint = ""
        if not path and isinstance(schema.get("events"), list):
            hint = " A file of several events is a JSON array of schemas, not an object."
        problems.add(position, f"The schema has no 'title': the title is the event's name.{hint}")
        return None
    if problem := name_problem(name, "event"):
        problems.add(pointer(*path, "title"), problem)
        return None
    if schema.get("type", "object") != "object":
        problems.add(
            pointer(*path, "type"),
            'An event\'s schema describes its properties object: its type must be "object".',
        )
    fields = _Fields(schema, path, problems)
    event = PlanEvent(
        name=name,
        integration=fields.text("x-integration"),
        category=fields.text("x-category"),
        description=fields.text("description"),
        definition=fields.text("x-definition"),
        pii=fields.boolean("x-pii"),
        verified=fields.boolean("x-verified"),
        published=fields.boolean("x-published"),
        owners=fields.names("x-owners"),
        tags=fields.names("x-tags"),
        position=position,
    )
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        problems.add(pointer(*path, "properties"), f"Expected an object, not {_kind(properties)}.")
        return None
    _check_object(properties, (*path, "properties"), problems)
    required = _required(schema, path, properties, problems)
    for prop_name, prop_schema in properties.items():
        prop = _read_property(
            prop_name,
            prop_schema,
            (*path, "properties", prop_name),
            prop_name in required,
            problems,
        )
        if prop is not None:
            event.properties.append(prop)
    if len(problems.items) > count_before:
        return None
    # Last, so that what this module explains comes first and the meta-schema says the rest;
    # and only for keywords this module didn't check itself (the check is slow: ms an event).
    if _has_other_keywords(schema) and not _check_meta_schema(schema, dialect, path, problems):
        return None
    return event


def _required(
    schema: dict[str, Any],
    path: tuple[str | int, ...],
    properties: dict[str, Any],
    problems: Problems,
) -> set[str]:
    required = schema.get("required", [])
    if not isinstance(required, list):
        problems.add(
            pointer(*path, "required"), f"Expected an array of names, not {_kind(required)}."
        )
        return set()
    seen: set[str] = set()
    for index, name in enumerate(required):
        if not isinstance(name, str):
            problems.add(pointer(*path, "required", index), f"Expected a name, not {_kind(name)}.")
        elif name in seen:
            problems.add(pointer(*path, "required", index), f"{name!r} is listed twice.")
        elif name not in properties:
            problems.add(
                pointer(*path, "required", index),
                f"{name!r} is required but is not among the event's properties.",
            )
        if isinstance(name, str):
            seen.add(name)
    return {name for name in required if isinstance(name, str)}


def _read_property(
    name: str,
    schema: Any,
    path: tuple[str | int, ...],
    required: bool,
    problems: Problems,
) -> PlanProperty | None:
    position = pointer(*path)
    if problem := name_problem(name, "property"):
        problems.add(position, problem)
        return None
    if schema is True:  # a property that takes any value
        return PlanProperty(name=name, required=required, allowed_values=[], position=position)
    if not isinstance(schema, dict):
        problems.add(position, "A property's schema must be a JSON object (or true).")
        return None
    _check_object(schema, path, problems)
    fields = _Fields(schema, path, problems)
    if "x-required" in schema:
        if schema["x-required"] is not None:
            problems.add(
                pointer(*path, "x-required"),
                "'x-required' may only be null (not said); list required properties in the "
                "event's 'required'.",
            )
        elif required:
            problems.add(
                pointer(*path, "x-required"),
                "'x-required' is null (not said), yet the event's 'required' lists the property.",
            )
    return PlanProperty(
        name=name,
        type=_type(schema, path, problems),
        required=None if "x-required" in schema else required,
        allowed_values=fields.values("enum") or [],
        pii=fields.boolean("x-pii"),
        description=fields.text("description"),
        definition=fields.text("x-definition"),
        examples=fields.values("examples", plain=False),
        verified=fields.boolean("x-verified"),
        published=fields.boolean("x-published"),
        owners=fields.names("x-owners"),
        tags=fields.names("x-tags"),
        position=position,
    )


def _type(schema: dict[str, Any], path: tuple[str | int, ...], problems: Problems) -> str | None:
    if "type" not in schema:
        return None
    declared = schema["type"]
    types = declared if isinstance(declared, list) else [declared]
    if not types or not all(isinstance(t, str) for t in types):
        problems.add(pointer(*path, "type"), "Expected a type name, or an array of them.")
        return None
    not_null = [t for t in types if t != "null"]
    if len(not_null) > 1:
        problems.add(
            pointer(*path, "type"),
            f"A property has one type in the catalog, not {len(not_null)} "
            f"({', '.join(map(str, not_null))}); leave 'type' out for any type.",
        )
        return None
    data_type = not_null[0] if not_null else "null" if types else None
    if data_type is None:
        return None
    if data_type not in _JSON_TYPES:
        problems.add(
            pointer(*path, "type"),
            f"{data_type!r} is not a JSON Schema type; use one of "
            f"{', '.join(sorted(_JSON_TYPES))} (or string with format date-time).",
        )
        return None
    if not isinstance(schema.get("format", ""), str):
        problems.add(pointer(*path, "format"), f"Expected text, not {_kind(schema['format'])}.")
    return data_type_of([data_type], schema.get("format"))


class _Fields:
    """Reads the optional fields of one schema object, adding a problem for each of the wrong
    kind; a field left out is None."""

    def __init__(self, schema: dict[str, Any], path: tuple[str | int, ...], problems: Problems):
        self.schema = schema
        self.path = path
        self.problems = problems

    def _wrong(self, key: str, expected: str) -> None:
        value = self.schema[key]
        self.problems.add(pointer(*self.path, key), f"Expected {expected}, not {_kind(value)}.")

    def text(self, key: str) -> str | None:
        value = self.schema.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self._wrong(key, "text")
            return None
        if problem := text_problem(value):
            self.problems.add(pointer(*self.path, key), f"The text {problem}.")
            return None
        return value

    def boolean(self, key: str) -> bool | None:
        value = self.schema.get(key)
        if value is None or isinstance(value, bool):
            return value
        self._wrong(key, "true, false or null")
        return None

    def names(self, key: str) -> list[str] | None:
        value = self.schema.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self._wrong(key, "an array of names")
            return None
        for index, item in enumerate(value):
            if problem := text_problem(item):
                self.problems.add(pointer(*self.path, key, index), f"The name {problem}.")
        return value

    def values(self, key: str, *, plain: bool = True) -> list[Any] | None:
        """An array of values: plain ones (text, numbers, true/false, null) unless not `plain`."""
        value = self.schema.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self._wrong(key, "an array")
            return None
        for index, item in enumerate(value):
            if plain and isinstance(item, dict | list):
                self.problems.add(
                    pointer(*self.path, key, index),
                    f"Expected text, a number, true, false or null, not {_kind(item)}.",
                )
            else:
                self._check_value(item, (*self.path, key, index))
        return value

    def _check_value(self, value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, _OutOfRange):
            self.problems.add(
                pointer(*path),
                f"{value.text[:40]} is out of range: numbers must be finite, and whole numbers "
                "fit in 64 bits.",
            )
        elif isinstance(value, str) and (problem := text_problem(value)):
            self.problems.add(pointer(*path), f"The text {problem}.")
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check_value(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._check_value(item, (*path, index))


def _check_object(value: Any, path: tuple[str | int, ...], problems: Problems) -> None:
    for key in getattr(value, "duplicates", ()):
        problems.add(pointer(*path, key), f"The key {key!r} appears more than once here.")


#: Keywords whose every value this module checks; `x-` keywords are annotations, any is valid.
_EVENT_KEYWORDS = frozenset({"$schema", "title", "description", "type", "properties", "required"})
_PROPERTY_KEYWORDS = frozenset({"type", "format", "enum", "description", "examples"})


def _has_other_keywords(schema: dict[str, Any]) -> bool:
    """Whether the meta-schema has anything left to check once this module read `schema`."""
    if _other_keywords(schema, _EVENT_KEYWORDS):
        return True
    return any(
        isinstance(prop, dict) and _other_keywords(prop, _PROPERTY_KEYWORDS)
        for prop in schema.get("properties", {}).values()
    )


def _other_keywords(schema: dict[str, Any], known: frozenset[str]) -> bool:
    return any(key not in known and not key.startswith("x-") for key in schema)


#: The drafts other tools write, by their `$schema` without the trailing "#".
_DRAFTS = {
    cls.META_SCHEMA.get("$id", cls.META_SCHEMA.get("id", "")).rstrip("#"): cls
    for cls in (
        Draft4Validator,
        Draft6Validator,
        Draft7Validator,
        Draft201909Validator,
        Draft202012Validator,
    )
}


def _dialect(schema: dict[str, Any], path: tuple[str | int, ...], problems: Problems) -> Any:
    """The validator class of the draft `$schema` names (2020-12 when it names none), or None
    with a problem when this library doesn't know it."""
    if "$schema" not in schema:
        return Draft202012Validator
    dialect = schema["$schema"]
    if not isinstance(dialect, str):
        problems.add(pointer(*path, "$schema"), f"Expected text, not {_kind(dialect)}.")
        return None
    cls = _DRAFTS.get(dialect.rstrip("#"))
    if cls is None:
        problems.add(
            pointer(*path, "$schema"),
            f"Unknown JSON Schema dialect {dialect[:200]!r}; use {SCHEMA_DIALECT!r}.",
        )
    return cls


def _check_meta_schema(
    schema: dict[str, Any], cls: Any, path: tuple[str | int, ...], problems: Problems
) -> bool:
    """Whether `schema` is a valid schema of its draft, adding a problem for each way it is
    not."""
    found: set[tuple[str, str]] = set()
    try:
        for error in _meta_validator(cls).iter_errors(schema):
            # The 2020-12 meta-schema reaches a subschema through several vocabularies.
            problem = (pointer(*path, *error.absolute_path), error.message[:300])
            if problem not in found:
                found.add(problem)
                problems.add(problem[0], f"Not a valid JSON Schema: {problem[1]}")
    except RecursionError:
        problems.add(pointer(*path), "The schema is nested too deeply to check.")
        return False
    return not found


_META_VALIDATORS: dict[type, Any] = {}


def _meta_validator(cls: Any) -> Any:
    """One validator of each draft's meta-schema, built once: building it is the slow part."""
    if cls not in _META_VALIDATORS:
        _META_VALIDATORS[cls] = cls(cls.META_SCHEMA)
    return _META_VALIDATORS[cls]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | _OutOfRange):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "an array"
    return "an object"
