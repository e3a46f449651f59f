"""What both languages need: identifiers from free-form names, and text safe in source code.

Event and property names are whatever people typed ("Order Completed", "2FA Enabled",
"🎉 Party", "café"), so identifiers are built from their ASCII letters and digits, and every
name is given out once per file: a later name that comes out the same gets a number.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable

from catalog.tracking_plan.model import PlanEvent, PlanProperty

# Runs of capitals before a capitalised word ("URL" in "URLClicked"), words, capitals, digits.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words(name: str) -> list[str]:
    """The ASCII words of `name`: accents dropped ("café" -> "cafe"), anything else a gap."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(ascii_name)


def camel_case(name: str) -> str:
    """camelCase, "Order Completed" -> "orderCompleted"; "" when there is no ASCII word."""
    parts = words(name)
    if not parts:
        return ""
    return parts[0].lower() + "".join(part.capitalize() for part in parts[1:])


def snake_case(name: str) -> str:
    """snake_case, "Order Completed" -> "order_completed"; "" when there is no ASCII word."""
    return "_".join(part.lower() for part in words(name))


def pascal_case(name: str) -> str:
    """PascalCase, "order_completed" -> "OrderCompleted"."""
    return "".join(part.capitalize() for part in words(name))


def identifier_base(name: str, reserved: Iterable[str], after_digit: Callable[[str], str]) -> str:
    """`name` (an event's name in the language's case) as an identifier: "event" when empty,
    with "_" after a reserved word, `after_digit(name)` when it starts with a digit."""
    if not name:
        return "event"
    if name in reserved:
        return f"{name}_"
    if name[0].isdigit():
        return after_digit(name)
    return name


class Names:
    """Gives out identifiers, each once: a taken one gets the first free number after it.

    Deterministic: the same requests in the same order give the same names.
    """

    def __init__(self, taken: Iterable[str], join_number: Callable[[str, int], str]):
        self._taken = set(taken)
        self._join_number = join_number
        # The next number to try per base, so that a thousand events of one name stay linear.
        self._next_number: dict[str, int] = {}

    def take(self, base: str) -> str:
        name = base
        number = self._next_number.get(base, 2)
        while name in self._taken:
            name = self._join_number(base, number)
            number += 1
        self._next_number[base] = number
        self._taken.add(name)
        return name


#: Escapes both languages read the same way.
SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_char(char: str, astral: Callable[[int], str]) -> str:
    """The escape sequence for a character a string literal or comment shouldn't hold raw."""
    if char in SHORT_ESCAPES:
        return SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return astral(code)


def is_raw_safe(char: str) -> bool:
    """Whether `char` can stand as it is in source: printable (not a control character, line
    separator or lone surrogate)."""
    return char.isprintable()


def escaped(text: str, astral: Callable[[int], str], backslashed: str = "") -> str:
    """`text` with the characters of `backslashed` after a backslash and unprintable ones
    escaped (`astral` writes those beyond U+FFFF): the inside of a string literal, or a line
    of a comment."""
    out = []
    for char in text:
        if char in backslashed:
            out.append("\\" + char)
        elif is_raw_safe(char):
            out.append(char)
        else:
            out.append(escape_char(char, astral))
    return "".join(out)


def text_lines(text: str) -> list[str]:
    """The lines of a description or definition, every kind of line break counted, trailing
    spaces and the blank lines around the text dropped."""
    return [line.rstrip() for line in text.strip().splitlines()]


def doc_paragraphs(*texts: str | None) -> list[list[str]]:
    """The non-empty texts as paragraphs of lines; a definition equal to the description is
    said once."""
    paragraphs: list[list[str]] = []
    seen: set[str] = set()
    for text in texts:
        if text is None or not text.strip() or text.strip() in seen:
            continue
        seen.add(text.strip())
        paragraphs.append(text_lines(text))
    return paragraphs


def event_paragraphs(event: PlanEvent, quoted_event: str) -> list[list[str]]:
    """The start of an event function's documentation: what it sends, then the event's texts."""
    paragraphs = [[f"Sends {quoted_event}."]]
    paragraphs.extend(doc_paragraphs(event.description, event.definition))
    return paragraphs


def pii_names(event: PlanEvent) -> list[str]:
    """The names of the event's properties that are personal data."""
    return [prop.name for prop in event.properties if prop.pii]


def property_paragraphs(
    prop: PlanProperty,
    type_notes: dict[str, str],
    has_literal_type: Callable[[list[object]], bool],
    pii_note: str,
) -> list[list[str]]:
    """A property's documentation: its texts, a note on its type, its allowed values when the
    language has no literal type for them, and `pii_note` when it is personal data."""
    paragraphs = doc_paragraphs(prop.description, prop.definition)
    if prop.type in type_notes:
        paragraphs.append([type_notes[prop.type]])
    if prop.allowed_values and not has_literal_type(prop.allowed_values):
        paragraphs.append(["One of: " + ", ".join(json_text(v) for v in prop.allowed_values)])
    if prop.pii:
        paragraphs.append([pii_note])
    return paragraphs


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def literal_types(
    values: list[object], literal: Callable[[object], str | None]
) -> list[str] | None:
    """The literal type of each distinct value, or None when one has none (an object, a list,
    a number the language can't hold exactly)."""
    if not all(is_scalar(value) for value in values):
        return None
    literals = [literal(value) for value in unique_values(values)]
    if any(literal is None for literal in literals):
        return None
    return [literal for literal in literals if literal is not None]


def is_literal_number(value: object) -> bool:
    """An int or a finite float, not a bool."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def is_scalar(value: object) -> bool:
    """A JSON value that can be a literal type: a string, number, boolean or null."""
    return value is None or isinstance(value, str | bool | int | float)


def unique_values(values: list[object]) -> list[object]:
    """`values` without repeats, where 1, 1.0 and True are three different JSON values."""
    seen: set[tuple[str, object]] = set()
    unique: list[object] = []
    for value in values:
        key = (type(value).__name__, value)
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique
