"""What both languages need: identifiers from free-form names, and text safe in source code.

Event and property names are whatever people typed ("Order Completed", "2FA Enabled",
"🎉 Party", "café"), so identifiers are built from their ASCII letters and digits, and every
name is given out once per file: a later name that comes out the same gets a number.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable

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
