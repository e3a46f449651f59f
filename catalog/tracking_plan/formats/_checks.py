"""Checks every format of a plan makes the same way: decoding the bytes, a list of problems
that stops growing at a readable size, names, text, duplicates and JSON-like values."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from catalog.tracking_plan.model import PlanEvent, PlanFileError, PlanProblem

#: A file with more problems than this is reported by its first ones: nobody reads further.
MAX_PROBLEMS = 100
MAX_NAME_LENGTH = 255

_BOM = b"\xef\xbb\xbf"


class Problems:
    """The problems found so far in one file; raises at once when there are MAX_PROBLEMS."""

    def __init__(self) -> None:
        self.items: list[PlanProblem] = []

    def add(self, position: str, message: str) -> None:
        self.items.append(PlanProblem(position, message))
        if len(self.items) >= MAX_PROBLEMS:
            raise PlanFileError(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise PlanFileError(self.items)


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte order mark, and no NUL characters
    (the database's text columns can't hold them). Positions are "byte N", counted from 0
    in the file as it is (a byte order mark included)."""
    skipped = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanFileError.at(
            f"byte {skipped + error.start}",
            "The file is not UTF-8 text; save it as UTF-8 and try again.",
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise PlanFileError.at(f"byte {nul}", "The file contains a NUL character.")
    if not text.strip():
        raise PlanFileError.at("byte 0", "The file is empty.")
    return text


def load_json(
    text: str,
    whole_file: str,
    parse_float: Callable[[str], Any] = float,
    parse_int: Callable[[str], Any] = int,
) -> Any:
    """The JSON value of `text`, its objects noting repeated keys (see json_object); NaN and
    Infinity, and any number a parse function refuses (ValueError), are not usable. Problems of
    the whole file are placed at `whole_file`."""
    try:
        return json.loads(
            text,
            object_pairs_hook=json_object,
            parse_float=parse_float,
            parse_int=parse_int,
            parse_constant=_refuse_constant,
        )
    except json.JSONDecodeError as error:
        raise PlanFileError.at(
            f"line {error.lineno}, column {error.colno}", f"Not valid JSON: {error.msg}."
        ) from None
    except RecursionError:
        raise PlanFileError.at(whole_file, "The JSON is nested too deeply to be read.") from None
    except ValueError as error:
        # Integers with thousands of digits, 1e999, NaN.
        raise PlanFileError.at(whole_file, f"Not a usable JSON number: {error}") from None


def _refuse_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number.")


class JsonObject(dict[str, Any]):
    """A JSON object that had the same key more than once (the last one counts)."""

    duplicates: list[str]


def json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The `object_pairs_hook` of `json.loads` that notes repeated keys: an object that had
    some is a JsonObject whose `duplicates` lists them."""
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    noted = JsonObject(result)
    seen: set[str] = set()
    noted.duplicates = []
    for key, _ in pairs:
        if key in seen:
            noted.duplicates.append(key)
        seen.add(key)
    return noted


def text_problem(value: str) -> str | None:
    """What makes `value` unstorable (a NUL, a lone surrogate from a JSON escape), if anything."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an invalid character (an unpaired surrogate)"
    return None


def name_problem(name: object, what: str) -> str | None:
    """Why `name` can't be the name of an event or a property, or None if it can."""
    if not isinstance(name, str):
        return f"The {what} name must be a string, not {describe(name)}."
    if not name.strip():
        return f"The {what} name is empty."
    if len(name) > MAX_NAME_LENGTH:
        return f"The {what} name is {len(name)} characters long; at most {MAX_NAME_LENGTH} fit."
    problem = text_problem(name)
    if problem:
        return f"The {what} name {problem}."
    return None


def check_duplicates(events: Iterable[PlanEvent], problems: Problems) -> None:
    """Two events of one name in one integration, or two properties of one name in one event,
    each named with both positions."""
    seen_events: dict[tuple[str | None, str], PlanEvent] = {}
    for event in events:
        key = (event.integration, event.name)
        first = seen_events.setdefault(key, event)
        if first is not event:
            where = f" in integration {event.integration!r}" if event.integration else ""
            problems.add(
                event.position,
                f"Event {event.name!r}{where} is already defined at {first.position}.",
            )
        seen_properties: dict[str, str] = {}
        for prop in event.properties:
            first_position = seen_properties.setdefault(prop.name, prop.position)
            if first_position != prop.position:
                problems.add(
                    prop.position,
                    f"Property {prop.name!r} of event {event.name!r} is already defined at "
                    f"{first_position}.",
                )


# Checked values of the vendor formats (Segment, RudderStack): each gives the value, or None
# and a problem.

#: The fields of events and properties that are true or false, and lists of names.
BOOLEAN_FIELDS = frozenset({"pii", "verified", "published"})
NAME_LIST_FIELDS = frozenset({"owners", "tags"})


def checked_field(
    field_name: str, value: Any, position: str, label: str, problems: Problems
) -> Any:
    """`value` if it suits the event or property field `field_name` (called `label` in the
    file): true/false, a list of names, examples, else text."""
    if field_name in BOOLEAN_FIELDS:
        return checked_bool(value, position, label, problems)
    if field_name in NAME_LIST_FIELDS:
        return checked_names(value, position, label, problems)
    if field_name == "examples":
        return checked_values(value, position, "The examples", problems)
    return checked_text(value, position, label, problems)


def check_one_event_per_name(events: Iterable[PlanEvent], vendor: str) -> None:
    """ValueError unless each event name is there once: a vendor's tracking plan has one event
    of each name, a plan with the same name in two integrations goes one integration at a time."""
    seen: dict[str, PlanEvent] = {}
    for event in events:
        if event.name in seen:
            raise ValueError(
                f'Event "{event.name}" is in integrations {seen[event.name].integration!r} and '
                f"{event.integration!r}; a {vendor} tracking plan holds one event per name: "
                "export one integration at a time."
            )
        seen[event.name] = event


def checked_name(value: Any, position: str, what: str, problems: Problems) -> str | None:
    """`value` if it can name an event or a property."""
    problem = name_problem(value, what)
    if problem:
        problems.add(position, problem)
        return None
    return value


def checked_text(value: Any, position: str, what: str, problems: Problems) -> str | None:
    """`value` if it is a string the database can store."""
    if not isinstance(value, str):
        problems.add(position, f"The {what} must be a string, not {describe(value)}.")
        return None
    problem = text_problem(value)
    if problem:
        problems.add(position, f"The {what} {problem}.")
        return None
    return value


def checked_bool(value: Any, position: str, what: str, problems: Problems) -> bool | None:
    if not isinstance(value, bool):
        problems.add(position, f"{what} must be true or false, not {describe(value)}.")
        return None
    return value


def checked_names(value: Any, position: str, what: str, problems: Problems) -> list[str] | None:
    """A list of strings (owners' usernames, tag names)."""
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item and "\x00" not in item for item in value
    ):
        problems.add(position, f"{what} must be a list of non-empty strings.")
        return None
    return list(value)


def checked_values(value: Any, position: str, what: str, problems: Problems) -> list[Any] | None:
    """A list of JSON values (allowed values, examples)."""
    if not isinstance(value, list):
        problems.add(position, f"{what} must be a list, not {describe(value)}.")
        return None
    for index, item in enumerate(value):
        if not is_json_value(item):
            problems.add(
                f"{position}/{index}",
                f"{what} may hold strings, numbers, true, false, null, lists and objects only.",
            )
            return None
    return list(value)


def is_json_value(value: Any, depth: int = 0) -> bool:
    """Whether `value` is what JSON can hold (no dates, no infinities, no binary)."""
    if depth > 50:
        return False
    if value is None or isinstance(value, (str, bool, int)):
        return not (isinstance(value, str) and "\x00" in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_json_value(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and is_json_value(item, depth + 1) for key, item in value.items()
        )
    return False


def describe(value: Any) -> str:
    """What a person would call the type of `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
