"""What the vendor formats (Segment, RudderStack) share: decoding bytes, collecting problems,
checking names and JSON-like values.
"""

from __future__ import annotations

import math
from typing import Any

from catalog.tracking_plan.model import PlanFileError, PlanProblem

#: A file with more problems than this shows the first ones only.
MAX_PROBLEMS = 100
MAX_NAME_LENGTH = 255


class Problems:
    """The problems found in one file, capped at MAX_PROBLEMS."""

    def __init__(self) -> None:
        self.items: list[PlanProblem] = []

    def add(self, position: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(PlanProblem(position, message))

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_PROBLEMS

    def raise_if_any(self) -> None:
        if self.items:
            raise PlanFileError(self.items)


def decode_text(data: bytes) -> str:
    """The file as text: UTF-8, with or without a byte order mark."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanFileError.at(
            f"byte {error.start + 1}", "The file is not UTF-8 text; save it as UTF-8."
        ) from None
    if not text.strip():
        raise PlanFileError.at("", "The file is empty.")
    return text


def checked_name(value: Any, position: str, what: str, problems: Problems) -> str | None:
    """`value` if it can name an event or a property, else None and a problem."""
    if not isinstance(value, str):
        problems.add(position, f"The {what} name must be a string, not {describe(value)}.")
        return None
    if not value.strip():
        problems.add(position, f"The {what} name is empty.")
        return None
    if len(value) > MAX_NAME_LENGTH:
        problems.add(
            position,
            f"The {what} name is {len(value)} characters long; at most {MAX_NAME_LENGTH} fit.",
        )
        return None
    if "\x00" in value:
        problems.add(position, f"The {what} name contains a NUL character.")
        return None
    return value


def checked_text(value: Any, position: str, what: str, problems: Problems) -> str | None:
    """`value` if it is a string without NUL characters, else None and a problem."""
    if not isinstance(value, str):
        problems.add(position, f"The {what} must be a string, not {describe(value)}.")
        return None
    if "\x00" in value:
        problems.add(position, f"The {what} contains a NUL character.")
        return None
    return value


def checked_bool(value: Any, position: str, what: str, problems: Problems) -> bool | None:
    if not isinstance(value, bool):
        problems.add(position, f"{what} must be true or false, not {describe(value)}.")
        return None
    return value


def checked_names(value: Any, position: str, what: str, problems: Problems) -> list[str] | None:
    """A list of strings (owners' usernames, tag names), else None and a problem."""
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item and "\x00" not in item for item in value
    ):
        problems.add(position, f"{what} must be a list of non-empty strings.")
        return None
    return list(value)


def checked_values(value: Any, position: str, what: str, problems: Problems) -> list[Any] | None:
    """A list of JSON values (allowed values, examples), else None and a problem."""
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
