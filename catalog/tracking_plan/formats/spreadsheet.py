"""The tracking plan as CSV, one row per property: the way product teams keep plans in a
spreadsheet.

Columns (header names are matched case-insensitively, in any order; `integration` may be left
out, then every event takes the import's integration)::

    integration,category,event,event description,property,type,required,allowed values,pii,
    description,owners,tags

`pii` and `description` are the property's; `category`, `event description`, `owners` and
`tags` are the event's, repeated on each of its rows (rows of one event that disagree are an
error). An event without properties is one row with the property cells empty.

What an empty cell means: a boolean cell (`required`, `pii`) that is empty says nothing (None:
the import leaves the catalog's value), since a yes/no column has no other way to say "not
known". Any other empty cell is a value: no category, an empty description, no allowed
values, no owners. So a plan's None texts and lists are written as empty cells and read back
as "" and []. Booleans are written `true`/`false` and read as true/false, yes/no or 1/0 in any
case. An empty `integration` cell or `type` cell is None (the import's integration; any type).

Lists (allowed values, owners, tags) are one cell with `|` between items; allowed values take
the property's type (`1|2.5` are numbers for a number property). A list whose items can't be
written that way (an item holding `|`, `"1"` for an untyped property...) is written as a JSON
array, `["a|b","c"]`, and any cell starting with `[` is read as one.

Cells a spreadsheet would run as a formula (starting with = + - @, tab or carriage return) are
written with a `'` in front, as OWASP advises against CSV injection; the reader takes that `'`
off again.

The CSV has no markdown definition, verified, published, examples or event-level pii: those
stay None. The file is written as UTF-8 with a byte order mark, so that Excel reads accents and
emoji right; CRLF line ends (RFC 4180). The reader accepts it with or without the mark, CRLF or
LF, and quoted cells over several lines.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from typing import Any

from catalog.tracking_plan.formats._checks import (
    Problems,
    check_duplicates,
    decode,
    name_problem,
)
from catalog.tracking_plan.model import DATA_TYPES, Plan, PlanEvent, PlanProperty

MEDIA_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csv"

COLUMNS = (
    "integration",
    "category",
    "event",
    "event description",
    "property",
    "type",
    "required",
    "allowed values",
    "pii",
    "description",
    "owners",
    "tags",
)
OPTIONAL_COLUMNS = frozenset({"integration"})
PROPERTY_COLUMNS = ("type", "required", "allowed values", "pii", "description")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_INTEGER_LIMIT = 2**63


def _defuse(cell: str) -> str:
    """The cell as written: a `'` before anything a spreadsheet would run as a formula (and
    before a `'` that the reader would otherwise take off)."""
    return "'" + cell if cell.lstrip("'").startswith(_FORMULA_STARTS) else cell


def _undefuse(cell: str) -> str:
    if cell.startswith("'") and cell[1:].lstrip("'").startswith(_FORMULA_STARTS):
        return cell[1:]
    return cell


# Writing


def write(plan: Plan) -> bytes:
    """The plan as CSV, one row per property in the order given."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for event in plan.events:
        event_cells = {
            "integration": event.integration or "",
            "category": event.category or "",
            "event": event.name,
            "event description": event.description or "",
            "owners": _list_cell(event.owners or [], "string"),
            "tags": _list_cell(event.tags or [], "string"),
        }
        rows = [_property_cells(prop) for prop in event.properties] or [{}]
        for property_cells in rows:
            cells = event_cells | property_cells
            writer.writerow([_defuse(cells.get(column, "")) for column in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _property_cells(prop: PlanProperty) -> dict[str, str]:
    return {
        "property": prop.name,
        "type": prop.type or "",
        "required": _bool_cell(prop.required),
        "allowed values": _list_cell(prop.allowed_values or [], prop.type),
        "pii": _bool_cell(prop.pii),
        "description": prop.description or "",
    }


def _bool_cell(value: bool | None) -> str:
    return "" if value is None else "true" if value else "false"


def _list_cell(values: list[Any], data_type: str | None) -> str:
    """`a|b|c` when reading that back gives the same values, else a JSON array."""
    if all(_is_plain(value) for value in values):
        cell = "|".join(_item_text(value) for value in values)
        if _same(_parse_list(cell, data_type), values):
            return cell
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _is_plain(value: Any) -> bool:
    return isinstance(value, str | int | float)  # bool is an int


def _item_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same(parsed: list[Any] | str, values: list[Any]) -> bool:
    """Equal including types: `1`, `1.0`, `True` and `"1"` are four different values."""
    if isinstance(parsed, str):
        return False
    return json.dumps(parsed) == json.dumps(values)


# Reading


def read(data: bytes) -> Plan:
    """The plan in a CSV file; PlanFileError with the row of every problem."""
    text = decode(data)
    problems = Problems()
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    row_number = 1
    events: dict[tuple[str | None, str], PlanEvent] = {}
    try:
        columns = _columns(next(rows), problems)
        for cells in rows:
            row_number += 1
            _read_row(cells, columns, f"row {row_number}", events, problems)
    except csv.Error as error:
        if "field limit" in str(error):
            message = (
                f"A cell is longer than {csv.field_size_limit():,} characters, or a quote "
                "opened above it is never closed."
            )
        else:
            message = f"This row is not well-formed CSV ({error}); check its quotes."
        problems.add(f"row {row_number + 1}", message)
    plan = Plan(events=list(events.values()))
    check_duplicates(plan.events, problems)
    problems.raise_if_any()
    return plan


def _columns(header: list[str], problems: Problems) -> dict[str, int]:
    """Column name -> index in each row, from the header row; every header problem at once."""
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if name in COLUMNS and name not in columns:
            columns[name] = index
        elif name in columns:
            problems.add("row 1", f"Column {name!r} appears twice in the header.")
        else:
            unknown.append(repr(raw.strip()) if raw.strip() else f"an unnamed column {index + 1}")
    if unknown:
        hint = ""
        if len(header) == 1 and ";" in header[0]:
            hint = " This file seems to separate its columns with ';'; save it with commas."
        problems.add(
            "row 1",
            f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}. "
            f"The columns are: {', '.join(COLUMNS)}.{hint}",
        )
    missing = [c for c in COLUMNS if c not in columns and c not in OPTIONAL_COLUMNS]
    if missing:
        problems.add(
            "row 1", f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."
        )
    problems.raise_if_any()
    return columns


def _read_row(
    cells: list[str],
    columns: dict[str, int],
    position: str,
    events: dict[tuple[str | None, str], PlanEvent],
    problems: Problems,
) -> None:
    if not any(cell.strip() for cell in cells):
        return  # blank rows between blocks of a spreadsheet
    if len(cells) > len(columns):
        problems.add(
            position, f"This row has {len(cells)} cells but the header has {len(columns)}."
        )
        return

    def cell(column: str) -> str:
        index = columns.get(column)
        return _undefuse(cells[index]) if index is not None and index < len(cells) else ""

    count_before = len(problems.items)
    name = cell("event")
    if problem := name_problem(name, "event"):
        problems.add(position, problem)
        return
    integration = cell("integration") or None
    event = PlanEvent(
        name=name,
        integration=integration,
        category=cell("category"),
        description=cell("event description"),
        owners=_list_or_problem(cell("owners"), "string", "owners", position, problems),
        tags=_list_or_problem(cell("tags"), "string", "tags", position, problems),
        position=position,
    )
    first = events.setdefault((integration, name), event)
    if first is not event:
        _check_agrees(first, event, problems)

    property_name = cell("property")
    if not property_name.strip():
        filled = [column for column in PROPERTY_COLUMNS if cell(column).strip()]
        if filled:
            problems.add(
                position,
                f"This row has no property but fills {', '.join(filled)}: name the property, "
                "or leave those cells empty for an event without properties.",
            )
        return
    if problem := name_problem(property_name, "property"):
        problems.add(position, problem)
        return
    data_type = _type_or_problem(cell("type"), position, problems)
    prop = PlanProperty(
        name=property_name,
        type=data_type,
        required=_bool_or_problem(cell("required"), "required", position, problems),
        allowed_values=_list_or_problem(
            cell("allowed values"), data_type, "allowed values", position, problems
        ),
        pii=_bool_or_problem(cell("pii"), "pii", position, problems),
        description=cell("description"),
        position=position,
    )
    if len(problems.items) == count_before:
        first.properties.append(prop)


def _check_agrees(first: PlanEvent, row: PlanEvent, problems: Problems) -> None:
    for column, attribute in (
        ("category", "category"),
        ("event description", "description"),
        ("owners", "owners"),
        ("tags", "tags"),
    ):
        theirs, ours = getattr(first, attribute), getattr(row, attribute)
        if ours is not None and theirs is not None and ours != theirs:
            problems.add(
                row.position,
                f"Column {column!r} differs from the event's first row ({first.position}); "
                f"every row of event {row.name!r} must say the same {column}.",
            )


def _type_or_problem(text: str, position: str, problems: Problems) -> str | None:
    data_type = text.strip().lower()
    if not data_type:
        return None
    if data_type not in DATA_TYPES:
        problems.add(
            position,
            f"Column 'type': {text.strip()!r} is not a type; use one of {', '.join(DATA_TYPES)} "
            "or leave it empty.",
        )
        return None
    return data_type


def _bool_or_problem(text: str, column: str, position: str, problems: Problems) -> bool | None:
    value = _parse_bool(text.strip())
    if isinstance(value, str):
        problems.add(position, f"Column {column!r}: {value}")
        return None
    return value


def _parse_bool(text: str) -> bool | str | None:
    """True, False, None for an empty cell, or what is wrong."""
    if not text:
        return None
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    return f"{text!r} is not true or false (yes/no and 1/0 are fine too)."


def _list_or_problem(
    text: str, data_type: str | None, column: str, position: str, problems: Problems
) -> list[Any] | None:
    values = _parse_list(text, data_type)
    if isinstance(values, str):
        problems.add(position, f"Column {column!r}: {values}")
        return None
    return values


def _parse_list(text: str, data_type: str | None) -> list[Any] | str:
    """The items of a list cell typed as `data_type`, or what is wrong with them."""
    if text.lstrip().startswith("["):
        return _parse_json_list(text, data_type)
    parse = _ITEM_PARSERS.get(data_type or "", _parse_text)
    values = []
    for item in text.split("|"):
        item = item.strip()
        if not item:
            continue
        value = parse(item)
        if isinstance(value, _Wrong):
            return value.message
        values.append(value)
    return values


class _Wrong:
    def __init__(self, message: str):
        self.message = message


def _parse_text(item: str) -> Any:
    return item


def _parse_integer(item: str) -> Any:
    if not _INTEGER.fullmatch(item):
        return _Wrong(f"{item!r} is not a whole number.")
    return _in_range(item)


def _parse_number(item: str) -> Any:
    if _INTEGER.fullmatch(item):
        return _in_range(item)
    if not _NUMBER.fullmatch(item):
        return _Wrong(f"{item!r} is not a number (write 9.99 or 1e3).")
    value = float(item)
    if not math.isfinite(value):
        return _Wrong(f"{item!r} is too large a number.")
    return value


def _in_range(item: str) -> Any:
    if len(item) > 20 or not -_INTEGER_LIMIT <= int(item) < _INTEGER_LIMIT:
        return _Wrong(f"{item!r} is too large; whole numbers must fit in 64 bits.")
    return int(item)


def _parse_boolean(item: str) -> Any:
    value = _parse_bool(item)
    return _Wrong(value) if isinstance(value, str) else value


_ITEM_PARSERS: dict[str, Callable[[str], Any]] = {
    "integer": _parse_integer,
    "number": _parse_number,
    "boolean": _parse_boolean,
}

_JSON_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "string": ((str,), "text"),
    "integer": ((int,), "a whole number"),
    "number": ((int, float), "a number"),
    "boolean": ((bool,), "true or false"),
}

_ANY_PLAIN_VALUE = ((str, int, float, bool, type(None)), "a plain value")


def _parse_json_list(text: str, data_type: str | None) -> list[Any] | str:
    try:
        values = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return "a cell starting with '[' is read as a JSON array, and this one is not valid JSON."
    if not isinstance(values, list):
        return "a cell starting with '[' must be a JSON array."
    expected, label = _JSON_TYPES.get(data_type or "", _ANY_PLAIN_VALUE)
    for value in values:
        is_bool = isinstance(value, bool)
        if not isinstance(value, expected) or (is_bool and bool not in expected):
            return f"{json.dumps(value, ensure_ascii=False)[:100]} is not {label}."
        if isinstance(value, float) and not math.isfinite(value):
            return "a number in the array is too large."
        if isinstance(value, int) and not is_bool and not -_INTEGER_LIMIT <= value < _INTEGER_LIMIT:
            return f"{value} is too large; whole numbers must fit in 64 bits."
    return values


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)
