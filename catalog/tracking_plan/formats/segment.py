"""Segment Protocols tracking plan rules, as Segment's Public API reads and writes them.

`GET /tracking-plans/{id}/rules` answers `{"data": {"rules": [...]}}`; `PUT` and `PATCH` of the
same path take `{"rules": [...]}`, which is what `write` gives, so an export can be sent to
Segment as it is. Each rule is `{"type": "TRACK", "key": <event name>, "version": 1,
"jsonSchema": <draft-07 schema of the whole call>}`; the event's properties are the schema of
the call's `properties` object.

Only TRACK rules are events of the catalog: COMMON, IDENTIFY, GROUP, PAGE and SCREEN rules
are skipped, and so are all but the highest version of an event; `read_with_skipped` says which.
What Segment has no field for (category, definition, PII, owners, tags, verified, published)
is kept under `x-` keywords inside the schemas, which JSON Schema validators ignore.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jsonschema import Draft7Validator

from catalog.tracking_plan.formats._checks import (
    Problems,
    check_one_event_per_name,
    checked_field,
    checked_name,
    checked_text,
    checked_values,
    decode,
    describe,
    load_json,
)
from catalog.tracking_plan.formats._types import (
    EXTRA_KEYWORDS,
    data_type_of,
    type_keywords,
    write_extras,
)
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError, PlanProblem, PlanProperty

MEDIA_TYPE = "application/json"
EXTENSION = "json"

SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
RULE_TYPES = ("TRACK", "COMMON", "IDENTIFY", "GROUP", "PAGE", "SCREEN")
JSON_SCHEMA_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")

#: Our fields that Segment has no place for -> their keyword in a property's schema, and in an
#: event's.
PROPERTY_EXTRAS = EXTRA_KEYWORDS
EVENT_EXTRAS = {"category": "x-category"} | EXTRA_KEYWORDS

#: What `Draft7Validator.check_schema` does, but telling every error rather than the first.
_META_VALIDATOR = Draft7Validator(
    Draft7Validator.META_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER
)


# Reading


def read(data: bytes) -> Plan:
    plan, _skipped = read_with_skipped(data)
    return plan


def read_with_skipped(data: bytes) -> tuple[Plan, list[PlanProblem]]:
    """The plan in `data`, and a notice for every rule that is not one of its events."""
    document = load_json(decode(data), whole_file="", parse_float=_finite_float)
    problems = Problems()
    skipped: list[PlanProblem] = []
    try:
        rules, prefix = _rules_of(document)
        chosen = _chosen_track_rules(rules, prefix, problems, skipped)
        events = []
        for position, rule in chosen.values():
            event = _event_of(rule, position, problems)
            if event is not None:
                events.append(event)
    except RecursionError:
        raise PlanFileError.at("", "The rules are nested too deeply to be read.") from None
    problems.raise_if_any()
    return Plan(events=events), skipped


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"The number {text[:40]} is too large.")
    return value


def _rules_of(document: Any) -> tuple[list[Any], str]:
    """The list of rules and the JSON pointer to it, in any of the shapes Segment uses."""
    if isinstance(document, list):
        return document, ""
    if isinstance(document, dict):
        if "rules" in document:
            rules, prefix = document["rules"], "/rules"
        elif isinstance(document.get("data"), dict) and "rules" in document["data"]:
            rules, prefix = document["data"]["rules"], "/data/rules"
        else:
            raise PlanFileError.at(
                "",
                'Expected Segment tracking plan rules: {"rules": [...]}, '
                '{"data": {"rules": [...]}} or a list of rules.',
            )
        if not isinstance(rules, list):
            raise PlanFileError.at(prefix, f"The rules must be a list, not {describe(rules)}.")
        return rules, prefix
    raise PlanFileError.at(
        "",
        f'Expected {{"rules": [...]}} or a list of Segment rules, not {describe(document)}.',
    )


def _chosen_track_rules(
    rules: list[Any], prefix: str, problems: Problems, skipped: list[PlanProblem]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The TRACK rule of each event name (its highest version), in the order names appear."""
    chosen: dict[str, tuple[str, dict[str, Any]]] = {}
    versions: dict[str, int] = {}
    for index, rule in enumerate(rules):
        position = f"{prefix}/{index}"
        if not isinstance(rule, dict):
            problems.add(position, f"A rule must be an object, not {describe(rule)}.")
            continue
        rule_type = rule.get("type")
        if rule_type not in RULE_TYPES:
            problems.add(
                f"{position}/type",
                f"The rule type must be one of {', '.join(RULE_TYPES)}, not {rule_type!r:.60}.",
            )
            continue
        if rule_type != "TRACK":
            skipped.append(
                PlanProblem(
                    position,
                    f"The {rule_type} rule was skipped: only TRACK rules are catalog events.",
                )
            )
            continue
        name = checked_name(rule.get("key"), f"{position}/key", "event", problems)
        version = _version_of(rule.get("version"), f"{position}/version", problems)
        if name is None or version is None:
            continue
        if name not in chosen:
            chosen[name], versions[name] = (position, rule), version
            continue
        other_position, _ = chosen[name]
        if version == versions[name]:
            problems.add(
                position,
                f'Version {version} of event "{name}" is also at {other_position}; '
                "each version of an event appears once.",
            )
            continue
        if version > versions[name]:
            skipped_position, skipped_version = other_position, versions[name]
            chosen[name], versions[name] = (position, rule), version
        else:
            skipped_position, skipped_version = position, version
        skipped.append(
            PlanProblem(
                skipped_position,
                f'Version {skipped_version} of event "{name}" was skipped: the highest '
                f"version ({versions[name]}) is imported.",
            )
        )
    return chosen


def _version_of(value: Any, position: str, problems: Problems) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.add(position, f"The version must be a whole number, not {describe(value)}.")
        return None
    if value != int(value) or value < 1:
        problems.add(position, f"The version must be a whole number from 1, not {value}.")
        return None
    return int(value)


def _event_of(rule: dict[str, Any], position: str, problems: Problems) -> PlanEvent | None:
    name = rule["key"]
    schema = rule.get("jsonSchema")
    schema_position = f"{position}/jsonSchema"
    if schema is None:
        return PlanEvent(name=name, position=position)
    if not isinstance(schema, dict):
        problems.add(schema_position, f"jsonSchema must be an object, not {describe(schema)}.")
        return None
    if not _plainly_valid(schema):
        invalid = False
        for error in _META_VALIDATOR.iter_errors(schema):
            invalid = True
            problems.add(schema_position + _pointer(error.absolute_path), _schema_message(error))
        if invalid:
            return None
    event = PlanEvent(name=name, position=position)
    if "description" in schema:
        event.description = checked_text(
            schema["description"], f"{schema_position}/description", "event description", problems
        )
    _read_extras(event, schema, EVENT_EXTRAS, schema_position, problems)

    call_properties = schema.get("properties", {})
    payload = call_properties.get("properties") if isinstance(call_properties, dict) else None
    payload_position = f"{schema_position}/properties/properties"
    if payload is None or payload is True:
        return event
    if not isinstance(payload, dict):
        problems.add(payload_position, "The schema of the properties must be an object.")
        return None
    fields = payload.get("properties", {})
    fields_position = f"{payload_position}/properties"
    for duplicate in getattr(fields, "duplicates", []):
        problems.add(
            fields_position + _pointer([duplicate]),
            f'Property "{duplicate}" appears more than once in event "{name}".',
        )
    required = set(payload.get("required", []))
    for property_name, property_schema in fields.items():
        property_position = fields_position + _pointer([property_name])
        plan_property = _property_of(property_name, property_schema, property_position, problems)
        if plan_property is not None:
            plan_property.required = property_name in required
            event.properties.append(plan_property)
    return event


def _property_of(name: str, schema: Any, position: str, problems: Problems) -> PlanProperty | None:
    if checked_name(name, position, "property", problems) is None:
        return None
    plan_property = PlanProperty(name=name, position=position)
    if isinstance(schema, bool):
        # `true` accepts anything: a property of no particular type.
        return plan_property
    plan_property.type = _type_of(schema, position)
    if "description" in schema:
        plan_property.description = checked_text(
            schema["description"], f"{position}/description", "property description", problems
        )
    if "enum" in schema:
        plan_property.allowed_values = checked_values(
            schema["enum"], f"{position}/enum", "The allowed values (enum)", problems
        )
    if "examples" in schema:
        plan_property.examples = checked_values(
            schema["examples"], f"{position}/examples", "The examples", problems
        )
    _read_extras(plan_property, schema, PROPERTY_EXTRAS, position, problems)
    return plan_property


def _type_of(schema: dict[str, Any], position: str) -> str | None:
    """The catalog's type of a property schema (a valid draft-07 schema)."""
    declared = schema.get("type")
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else list(declared)
    return data_type_of(names, schema.get("format"))


def _read_extras(
    target: PlanEvent | PlanProperty,
    schema: dict[str, Any],
    extras: dict[str, str],
    position: str,
    problems: Problems,
) -> None:
    for field_name, keyword in extras.items():
        if keyword not in schema:
            continue
        checked = checked_field(
            field_name, schema[keyword], f"{position}/{keyword}", keyword, problems
        )
        setattr(target, field_name, checked)


_DRAFT7_KEYWORDS = frozenset(Draft7Validator.META_SCHEMA["properties"])
_TEXT_KEYWORDS = frozenset(("$schema", "$comment", "title", "description", "format"))


def _plainly_valid(schema: Any) -> bool:
    """Whether `schema` is made only of the keywords tracking plans use, each well formed.

    Such a schema is valid draft 7 without asking the metaschema, which takes ten times as
    long: a plan of 100,000 properties is read in seconds. Anything else is checked in full.
    """
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    for keyword, value in schema.items():
        if keyword not in _DRAFT7_KEYWORDS:
            continue  # x- keywords, Segment's "labels": JSON Schema ignores them
        if keyword in _TEXT_KEYWORDS:
            plain = isinstance(value, str)
        elif keyword == "type":
            plain = value in JSON_SCHEMA_TYPES or (
                isinstance(value, list)
                and bool(value)
                and all(name in JSON_SCHEMA_TYPES for name in value)
                and len(set(value)) == len(value)
            )
        elif keyword in ("enum", "examples"):
            plain = isinstance(value, list)
        elif keyword == "required":
            plain = (
                isinstance(value, list)
                and all(isinstance(name, str) for name in value)
                and len(set(value)) == len(value)
            )
        elif keyword == "properties":
            plain = isinstance(value, dict) and all(map(_plainly_valid, value.values()))
        elif keyword == "additionalProperties":
            plain = isinstance(value, bool)
        else:
            plain = False
        if not plain:
            return False
    return True


def _schema_message(error: Any) -> str:
    path = list(error.absolute_path)
    if path and path[-1] == "type" and error.validator == "anyOf":
        return (
            f"Unknown type {_shortened(repr(error.instance))}: expected one of "
            f"{', '.join(JSON_SCHEMA_TYPES)} (a date-time is a string with "
            '"format": "date-time").'
        )
    return f"Not a valid JSON Schema (draft 7): {_shortened(error.message)}"


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _shortened(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


# Writing


def write(plan: Plan) -> bytes:
    """`{"rules": [...]}`: one TRACK rule, version 1, per event.

    A Segment tracking plan has one rule per event name: a plan with the same name in two
    integrations is exported one integration at a time (ValueError otherwise).
    """
    check_one_event_per_name(plan.events, "Segment")
    rules = [
        {"type": "TRACK", "key": event.name, "version": 1, "jsonSchema": _schema(event)}
        for event in plan.events
    ]
    text = json.dumps({"rules": rules}, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _schema(event: PlanEvent) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT, "type": "object"}
    if event.description is not None:
        schema["description"] = event.description
    write_extras(schema, event, EVENT_EXTRAS)
    payload: dict[str, Any] = {
        "type": "object",
        "properties": {prop.name: _property_schema(prop) for prop in event.properties},
    }
    required = [prop.name for prop in event.properties if prop.required]
    if required:
        payload["required"] = required
    schema["properties"] = {"context": {}, "traits": {}, "properties": payload}
    schema["required"] = ["properties"]
    return schema


def _property_schema(prop: PlanProperty) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    if prop.description is not None:
        schema["description"] = prop.description
    schema |= type_keywords(prop.type)
    if prop.allowed_values is not None:
        schema["enum"] = prop.allowed_values
    if prop.examples is not None:
        schema["examples"] = prop.examples
    write_extras(schema, prop, PROPERTY_EXTRAS)
    return schema
