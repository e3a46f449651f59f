"""Titles and names in one form per visible text.

Two titles that look the same must be the same title: otherwise "Signed In " (a tracker's
trailing space), "Signed In" with a decomposed accent, or one with a zero-width space become
second events that nobody can tell apart, and a right-to-left override can make a title read
as another. Every title and name that comes in (API, admin, pages, ingestion) is normalised
the same way:

- Unicode NFC (composed characters, as keyboards type them);
- invisible characters with no use in a name are removed (zero-width space, word joiner,
  byte-order mark, soft hyphen, invisible operators);
- every run of whitespace (tabs, newlines, no-break and other wide spaces) becomes one space;
- spaces and zero-width joiners at either end are trimmed (inside a name joiners stay: emoji
  sequences and several scripts need them);

and refused, with a message naming the character, when it holds a control character or a
text-direction control, or nothing visible at all.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models

__all__ = ["NameField", "clean_title", "normalize_title"]

#: Removed wherever they are: invisible, and with no use in a title (zero-width space, word
#: joiner, invisible operators, byte-order mark, soft hyphen, grapheme joiner, Mongolian vowel
#: separator, the Hangul filler letters).
_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u034f\u180e\u200b\u2060\u2061\u2062\u2063\u2064\u3164\ufeff\uffa0"),
    None,
)
#: Trimmed at either end only: joiners mean something between two characters, nothing at an end.
_EDGES = " \u200c\u200d"
#: Refused: controls that aren't whitespace (tab and newline count as spaces), lone surrogates
#: (never text), and the text-direction controls that make a title read as another.
_REFUSED = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _plain(text: str) -> bool:
    """Printable ASCII without spaces to trim or collapse: most names, nothing to do."""
    return (
        text.isascii()
        and text.isprintable()
        and text[:1] != " "
        and text[-1:] != " "
        and "  " not in text
    )


def normalize_title(text: str) -> str:
    """`text` in the one form titles are kept in (see the module docstring); characters that
    are refused are left for `clean_title` to name."""
    if _plain(text):
        return text
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return " ".join(text.split()).strip(_EDGES)


def clean_title(text: str) -> str:
    """`text` normalised, or a ValidationError a person understands."""
    if _plain(text):
        return text
    if found := _REFUSED.search(text):
        raise ValidationError(
            "Titles and names can't contain control characters or text-direction controls "
            f"(found U+{ord(found.group()):04X}).",
            code="invalid_character",
        )
    normalized = normalize_title(text)
    if text and not normalized:
        raise ValidationError(
            "A title or name needs a visible character; this one is only spaces or invisible "
            "characters.",
            code="invisible",
        )
    return normalized


class NameField(models.CharField):
    """A name people tell objects apart by.

    Checked and normalised by `clean_title` whenever the model is validated (every service
    does before saving). Every value that reaches the database, saved or looked up, is
    normalised too (never refused there, so a filter can't fail on it): bulk writes store the
    normal form, and `filter(title="Signed In ")` finds "Signed In".
    """

    def to_python(self, value):
        value = super().to_python(value)
        return value if value is None else clean_title(value)

    def get_prep_value(self, value):
        value = models.Field.get_prep_value(self, value)
        return value if value is None else normalize_title(str(value))
