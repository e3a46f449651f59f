"""The catalog's data types as JSON Schema writes them, for the formats built on it (JSON
Schema, Segment's rules, RudderStack's property configs): a datetime is a string of format
date-time, and the catalog has no "nullable"."""

from __future__ import annotations

from typing import Any

DATE_TIME = {"type": "string", "format": "date-time"}


def type_keywords(data_type: str | None) -> dict[str, str]:
    """The `type` (and `format`) keywords of a property of `data_type`; none for any type."""
    if data_type == "datetime":
        return dict(DATE_TIME)
    if data_type is None:
        return {}
    return {"type": data_type}


def data_type_of(names: list[str], format_: Any) -> str | None:
    """The catalog's type of a schema whose `type` is `names`, with `format` `format_`.

    A nullable property is of its other type; one of several types has none (None).
    """
    if len(names) > 1:
        names = [name for name in names if name != "null"] or ["null"]
    if len(names) != 1:
        return None
    if names[0] == "string" and format_ == "date-time":
        return "datetime"
    return str(names[0])
