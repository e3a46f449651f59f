"""Checks every text format of a plan makes the same way: decoding the bytes, names, duplicates,
and a list of problems that stops growing at a readable size."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.tracking_plan.model import PlanEvent, PlanFileError, PlanProblem

#: A file with more problems than this is reported by its first ones: nobody reads further.
MAX_PROBLEMS = 100
MAX_NAME_LENGTH = 255


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
    (the database's text columns can't hold them)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanFileError.at(
            f"byte {error.start}", "The file is not UTF-8 text; save it as UTF-8 and try again."
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise PlanFileError.at(f"byte {nul}", "The file contains a NUL character.")
    if not text.strip():
        raise PlanFileError.at("byte 0", "The file is empty.")
    return text


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
        return f"The {what} name must be text, not {type(name).__name__}."
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
