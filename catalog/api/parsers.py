"""JSON request bodies, read with limits so that odd input is a 400 and never a 500.

The standard parser recurses once per nesting level (a 100 KB `[[[[...` is a RecursionError),
lets `1e999` become infinity, and passes on NUL characters and unpaired surrogates, which
PostgreSQL can neither store nor compare and which can't even be encoded as UTF-8.
"""

import json
import math
import re
from itertools import accumulate
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

#: The deepest nesting of arrays and objects a JSON text may have; real bodies need a handful.
MAX_JSON_DEPTH = 32
#: Python's own limit for int(str); past it int() raises, so the parser says it first.
MAX_INT_DIGITS = 4300

BAD_TEXT_MESSAGE = "Text can't contain NUL characters or unpaired surrogates."
_BAD_TEXT_DETAIL = "JSON parse error - text can't contain NUL characters or unpaired surrogates."

# A paired surrogate in JSON ("\ud83d\ude00") decodes to one character, so any code point left
# in U+D800..U+DFFF is unpaired.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# A JSON string, whose brackets don't nest; one with no closing quote runs to the end, as
# json.loads fails there anyway (requiring the quote would rescan from every later quote,
# quadratic time on '"' followed by many '\\"').
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONTextError(ValueError):
    """A JSON text that can't be used; the message says why, in words for the client."""


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONTextError(f"a number has more than {MAX_INT_DIGITS:,} digits")
    return int(digits)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to infinity, which JSON can't express
        raise JSONTextError("a number is out of range")
    return value


def _parse_constant(name: str) -> None:
    raise JSONTextError(f"{name} is not a JSON value")


def _too_deep(text: str) -> bool:
    """Whether arrays and objects nest deeper than MAX_JSON_DEPTH, found without recursion
    and in linear time (the regular expressions and accumulate() run in C)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # most bodies: nothing to scan
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depths = accumulate(map(_DEPTH_STEP.__getitem__, brackets))
    return max(depths, default=0) > MAX_JSON_DEPTH


def load_json(text: str) -> Any:
    """json.loads within limits: depth, number size, no NaN or Infinity.

    Raises JSONTextError with a message a client can act on.
    """
    if _too_deep(text):
        raise JSONTextError(f"nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as error:
        raise JSONTextError(str(error)) from error
    except RecursionError as error:  # not expected after the depth check; never a 500
        raise JSONTextError(f"nested too deeply (at most {MAX_JSON_DEPTH} levels)") from error


def has_bad_text(data: Any) -> bool:
    """Whether any string or key in `data` holds a NUL character or an unpaired surrogate."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _BAD_TEXT.search(value):
                return True
        elif isinstance(value, dict):
            if any(_BAD_TEXT.search(key) for key in value):
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class CatalogJSONParser(JSONParser):
    """JSONParser that answers 400 for bodies the database or the renderer would choke on.

    Text with NUL or an unpaired surrogate is refused under the name of the field that holds
    it, like a serializer error, since that field is what the client has to change.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        raw = stream.read()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(
                f"JSON parse error - the body is not valid {encoding}: byte "
                f"{error.object[error.start]:#04x} at position {error.start} can't be decoded."
            ) from error
        except UnicodeError as error:  # codecs such as idna fail without a position
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from error
        try:
            data = load_json(text)
        except JSONTextError as error:
            raise ParseError(f"JSON parse error - {error}.") from error
        if isinstance(data, dict) and not any(_BAD_TEXT.search(key) for key in data):
            fields = {key: [BAD_TEXT_MESSAGE] for key, value in data.items() if has_bad_text(value)}
            if fields:
                raise ParseError(fields)
        elif has_bad_text(data):
            raise ParseError(_BAD_TEXT_DETAIL)
        return data
