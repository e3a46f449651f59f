"""The catalog's data types as JSON Schema writes them, for the formats built on it (JSON
Schema, Segment's rules, RudderStack's property configs): a datetime is a string of format
date-time, and the catalog has no "nullable"."""

from __future__ import annotations

from typing import Any

from catalog.tracking_plan.model import PlanEvent, PlanProperty

#: The fields of events and properties JSON Schema has no keyword for -> the `x-` keyword that
#: keeps them (validators ignore unknown keywords), in the order they are written.
EXTRA_KEYWORDS = {
    "definition": "x-definition",
    "pii": "x-pii",
    "verified": "x-verified",
    "published": "x-published",
    "owners": "x-owners",
    "tags": "x-tags",
}

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


def write_extras(
    schema: dict[str, Any], source: PlanEvent | PlanProperty, keywords: dict[str, str]
) -> None:
    """The fields of `source` named in `keywords` that say something, under their keyword."""
    for field_name, keyword in keywords.items():
        value = getattr(source, field_name)
        if value is not None:
            schema[keyword] = value
