"""A property's "Allowed values" and "Examples" as people type them: one value per line, typed
by the property's data type, or a JSON list for what lines can't say.

The model keeps JSON lists (`Resource.allowed_values`, `Resource.examples`). The form shows a
list one value per line when reading those lines back gives exactly the same list (same
values, same types, same order); otherwise (a value with a line break, spaces around it, an
empty text, a number stored as text...) it shows the JSON, which reads back unchanged too.
"""

import json
import math
import re

from django import forms
from django.core.exceptions import ValidationError

from catalog.models import DataType

__all__ = ["ValueListField", "parse_values", "show_values"]

#: Longest text the field takes (a generous plan's enumeration, far from a page's limits).
MAX_TEXT = 20_000
#: Most values in one list.
MAX_VALUES = 1_000
#: Whole numbers beyond a 64-bit integer don't survive most trackers and warehouses.
MAX_INTEGER = 2**63 - 1

_INTEGER = re.compile(r"[+-]?\d{1,19}")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
_BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}

#: What each data type's values are, for the messages.
_WHAT = {
    DataType.STRING: "text",
    DataType.NUMBER: "a number",
    DataType.INTEGER: "a whole number",
    DataType.BOOLEAN: "true or false",
    DataType.OBJECT: 'a JSON object, such as {"id": 1}',
    DataType.ARRAY: "a JSON list, such as [1, 2]",
    DataType.DATETIME: "a date and time, such as 2026-01-31T09:30:00Z",
    DataType.NULL: "null",
}


def _quote(text: str) -> str:
    return f"“{text[:60]}{'…' if len(text) > 60 else ''}”"


def _fits(value, data_type: str) -> bool:
    """Whether a JSON value is of `data_type`."""
    if data_type in (DataType.STRING, DataType.DATETIME):
        return isinstance(value, str)
    if data_type == DataType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if data_type == DataType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if data_type == DataType.BOOLEAN:
        return isinstance(value, bool)
    if data_type == DataType.OBJECT:
        return isinstance(value, dict)
    if data_type == DataType.ARRAY:
        return isinstance(value, list)
    if data_type == DataType.NULL:
        return value is None
    return True


def _check_number(value, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{where}: the number is too large.")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise ValidationError(f"{where}: the number is too large (at most {MAX_INTEGER:,}).")


def _line_value(line: str, data_type: str, where: str):
    """One line as a value of `data_type`, or ValidationError saying what the line should be."""
    wrong = ValidationError(
        f"{where}: {_quote(line)} isn't {_WHAT.get(data_type, 'a value')} "
        f"(the data type is {DataType(data_type).label})."
    )
    if data_type in (DataType.STRING, DataType.DATETIME):
        return line
    if data_type == DataType.INTEGER:
        if not _INTEGER.fullmatch(line):
            raise wrong
        value = int(line)
        _check_number(value, where)
        return value
    if data_type == DataType.NUMBER:
        if _INTEGER.fullmatch(line):
            value = int(line)
        elif _NUMBER.fullmatch(line):
            value = float(line)
        else:
            raise wrong
        _check_number(value, where)
        return value
    if data_type == DataType.BOOLEAN:
        if line.lower() not in _BOOLEANS:
            raise wrong
        return _BOOLEANS[line.lower()]
    # Objects, lists and null: a JSON value per line.
    try:
        value = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise wrong from None
    if not _fits(value, data_type):
        raise wrong
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _parse_json(text: str, data_type: str) -> list:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValidationError("The JSON is nested too deeply.") from None
    except ValueError as error:
        where = f"{error.msg}, line {error.lineno}" if hasattr(error, "msg") else str(error)
        raise ValidationError(
            f"This looks like a JSON list but isn't valid JSON ({where}). Fix it, or write "
            "one value per line without the brackets."
        ) from None
    if not isinstance(value, list):
        raise ValidationError('Enter a JSON list, such as ["a", "b"], or one value per line.')
    for position, item in enumerate(value, start=1):
        where = f"Value {position}"
        if not _fits(item, data_type):
            shown = json.dumps(item, ensure_ascii=False)
            raise ValidationError(
                f"{where}: {_quote(shown)} isn't {_WHAT.get(data_type, 'a value')} "
                f"(the data type is {DataType(data_type).label})."
            )
        if isinstance(item, int | float):
            _check_number(item, where)
    return value


def _is_json(text: str) -> bool:
    try:
        json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return False
    return True


def parse_values(text: str, data_type: str) -> list | None:
    """The list `text` means for a property of `data_type`: None when empty; a JSON list when
    it starts with "[" (for lists of lists: when all of it is JSON); else one value per line
    (blank lines skipped, spaces trimmed)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None
    if "\x00" in text or "\\u0000" in text:
        raise ValidationError("Text can't contain NUL characters.")
    if text.startswith("[") and (data_type != DataType.ARRAY or _is_json(text)):
        values = _parse_json(text, data_type)
    else:
        values = []
        for number, line in enumerate(text.split("\n"), start=1):
            line = line.strip()
            if line:
                values.append(_line_value(line, data_type, f"Line {number}"))
    if len(values) > MAX_VALUES:
        raise ValidationError(f"Enter at most {MAX_VALUES:,} values (this has {len(values):,}).")
    return values


def _same(a, b) -> bool:
    """Equal as JSON: 1, 1.0 and true are three different values."""
    return json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)


def _line_of(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def show_values(values, data_type: str | None) -> str:
    """The text the field shows for a stored list: a value per line when those lines read
    back as the same list, the JSON otherwise (which always does)."""
    if values is None:
        return ""
    if not isinstance(values, list):  # never stored by the services; shown as it is
        return json.dumps(values, ensure_ascii=False)
    if not values:
        return "[]"
    if data_type and all("\n" not in _line_of(v) and "\r" not in _line_of(v) for v in values):
        lines = "\n".join(_line_of(value) for value in values)
        try:
            if _same(parse_values(lines, data_type), values):
                return lines
        except ValidationError:
            pass
    return json.dumps(values, ensure_ascii=False, indent=None)


class ValueListField(forms.CharField):
    """A textarea of values; the form parses it with the data type it ends up with (see
    `ResourceEditForm.clean`), so this field only keeps the text."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_TEXT)
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "class": "monospace"}))
        super().__init__(**kwargs)
