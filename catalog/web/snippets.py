""" "How to send it": code that sends an event as the catalog describes it, generated from its
property schema, for an event's page.

Three ways to send, each to this catalog: Segment's analytics.js (`analytics.track`), Segment's
analytics-python, and `curl` to the Segment-compatible `/v1/track` endpoint. Pure functions of
the event's name and properties: no database, no request.

Every value is written as a literal of its language, whatever it holds: quotes, backslashes,
newlines, control characters, line and paragraph separators and lone surrogates are escaped,
so the code is valid and sends exactly the names and values shown. Required properties come
first; optional ones follow a comment saying so (curl's JSON body has no comments: it sends
them all).
"""

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EXAMPLE_USER_ID",
    "Snippet",
    "SnippetProperty",
    "curl",
    "example_value",
    "javascript",
    "python",
    "snippets_for",
]

#: The user id every snippet sends: obviously a placeholder.
EXAMPLE_USER_ID = "user-123"

#: A value of each data type, for a property with neither examples nor allowed values.
_BY_TYPE: dict[str | None, Any] = {
    "string": "text",
    "number": 9.99,
    "integer": 1,
    "boolean": True,
    "object": {},
    "array": [],
    "datetime": "2026-01-31T12:00:00Z",
    "null": None,
}


@dataclass(frozen=True)
class SnippetProperty:
    """What a snippet needs of a property."""

    name: str
    data_type: str | None = None
    required: bool = False
    examples: Sequence | None = None
    allowed_values: Sequence | None = None

    @classmethod
    def of(cls, resource) -> "SnippetProperty":
        """From an event property (a `Resource`)."""
        return cls(
            name=resource.title,
            data_type=resource.data_type,
            required=bool(resource.required),
            examples=resource.examples if isinstance(resource.examples, list) else None,
            allowed_values=(
                resource.allowed_values if isinstance(resource.allowed_values, list) else None
            ),
        )


@dataclass(frozen=True)
class Snippet:
    """One way to send: a tab's label, the language (for the code's class), the code."""

    label: str
    language: str
    code: str


def example_value(prop: SnippetProperty) -> Any:
    """The value a snippet sends: the first example, else the first allowed value, else a
    value of the property's data type (a string when it has none)."""
    for values in (prop.examples, prop.allowed_values):
        if values:
            return values[0]
    return _BY_TYPE.get(prop.data_type, "text")


def _ordered(properties: Iterable[SnippetProperty]) -> tuple[list, list]:
    """(required, optional), each by name as a person reads it."""

    def key(prop: SnippetProperty):
        return (prop.name.casefold(), prop.name)

    properties = sorted(properties, key=key)
    return [p for p in properties if p.required], [p for p in properties if not p.required]


# --- Literals -------------------------------------------------------------------------------


def _escape_unprintable(quoted: str, *, python: bool) -> str:
    """`quoted` (JSON string text) with every character that isn't printable written as an
    escape: line and paragraph separators (JavaScript before ES2019 ended a line there),
    lone surrogates (not encodable as UTF-8), invisible format characters. JSON and
    JavaScript write a character beyond U+FFFF as a surrogate pair, Python as \\U."""
    out = []
    for char in quoted:
        code = ord(char)
        if char.isprintable():
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        elif python:
            out.append(f"\\U{code:08x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)


def _string(text: str, *, python: bool = False) -> str:
    """`text` as a double-quoted string literal of JSON and JavaScript (or Python)."""
    return _escape_unprintable(json.dumps(text, ensure_ascii=False), python=python)


def _number(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or Infinity (the catalog refuses them): send null rather than
        # code that doesn't run.
        return "null"
    return json.dumps(value)


def json_literal(value: Any) -> str:
    """`value` as compact JSON, which is also a JavaScript literal."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        items = ", ".join(f"{_string(str(k))}: {json_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json_literal(v) for v in value) + "]"
    if isinstance(value, dt.datetime | dt.date):
        return _string(value.isoformat())
    return _string(str(value))


def python_literal(value: Any) -> str:
    """`value` as a Python literal (None, True, False; strings double-quoted)."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        number = _number(value)
        return "None" if number == "null" else number
    if isinstance(value, str):
        return _string(value, python=True)
    if isinstance(value, dict):
        items = ", ".join(
            f"{_string(str(k), python=True)}: {python_literal(v)}" for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dt.datetime | dt.date):
        return _string(value.isoformat(), python=True)
    return _string(str(value), python=True)


def _object_lines(
    properties: Iterable[SnippetProperty], *, comment: str, python: bool, indent: str
) -> list[str]:
    """The lines inside `{ }`: required properties, then a comment and the optional ones."""
    required, optional = _ordered(properties)
    key = (lambda name: _string(name, python=True)) if python else _string
    literal = python_literal if python else json_literal
    entries: list[tuple[str | None, str]] = [
        (None, f"{key(p.name)}: {literal(example_value(p))}") for p in required
    ]
    if optional:
        entries.append((f"{comment} Optional:", ""))
        entries.extend((None, f"{key(p.name)}: {literal(example_value(p))}") for p in optional)
    last = max((i for i, (note, _) in enumerate(entries) if note is None), default=-1)
    lines = []
    for index, (note, entry) in enumerate(entries):
        if note is not None:
            lines.append(f"{indent}{note}")
        else:
            lines.append(f"{indent}{entry}{',' if index < last else ''}")
    return lines


def _object_block(properties: Sequence[SnippetProperty], *, python: bool) -> str:
    """`{...}` with a property per line, or `{}` with none."""
    if not properties:
        return "{}"
    comment = "#" if python else "//"
    lines = _object_lines(properties, comment=comment, python=python, indent="  ")
    return "{\n" + "\n".join(lines) + "\n}"


# --- The three snippets -------------------------------------------------------------------


def _host_of(base_url: str) -> str:
    """`https://catalog.example.com` -> `catalog.example.com` (analytics.js' apiHost has no
    scheme)."""
    return base_url.split("://", 1)[-1].rstrip("/")


def javascript(event_name: str, properties: Sequence[SnippetProperty], *, base_url: str) -> str:
    """Segment's analytics.js: `analytics.track(name, properties)`. The comment says how to
    point analytics.js at this catalog: its "Segment.io" settings, `apiHost` without the
    scheme, and `protocol` when it isn't https."""
    settings = f"apiHost: {_string(_host_of(base_url) + '/v1')}"
    if base_url.startswith("http://"):
        settings += ', protocol: "http"'
    return (
        "// analytics.js, loaded with a write key of this integration and\n"
        f'// integrations: {{"Segment.io": {{{settings}}}}}\n'
        f"analytics.track({_string(event_name)}, {_object_block(properties, python=False)});\n"
    )


def python(event_name: str, properties: Sequence[SnippetProperty], *, base_url: str) -> str:
    """Segment's analytics-python: `analytics.track(user_id, name, properties)`."""
    return (
        "import segment.analytics as analytics\n"
        "\n"
        'analytics.write_key = "YOUR_WRITE_KEY"  # a write key of this integration\n'
        f"analytics.host = {_string(base_url.rstrip('/'), python=True)}\n"
        "\n"
        f"analytics.track({_string(EXAMPLE_USER_ID, python=True)}, "
        f"{_string(event_name, python=True)}, {_object_block(properties, python=True)})\n"
        "analytics.flush()\n"
    )


def _shell_quote(text: str) -> str:
    """`text` in single quotes for a POSIX shell: nothing inside is special but the quote."""
    return "'" + text.replace("'", "'\\''") + "'"


def track_body(event_name: str, properties: Sequence[SnippetProperty]) -> str:
    """The JSON body `curl` posts to `/v1/track`, every property included."""
    required, optional = _ordered(properties)
    lines = [f"{_string(p.name)}: {json_literal(example_value(p))}" for p in required + optional]
    props = "{}" if not lines else "{\n    " + ",\n    ".join(lines) + "\n  }"
    return (
        "{\n"
        f'  "userId": {_string(EXAMPLE_USER_ID)},\n'
        f'  "event": {_string(event_name)},\n'
        f'  "properties": {props}\n'
        "}"
    )


def curl(event_name: str, properties: Sequence[SnippetProperty], *, url: str) -> str:
    """`curl` to the catalog's Segment-compatible `/v1/track` (`url`), the write key as the
    Basic user name, from the WRITE_KEY shell variable."""
    return (
        "curl -u \"$WRITE_KEY:\" -H 'Content-Type: application/json' \\\n"
        f"  -d {_shell_quote(track_body(event_name, properties))} \\\n"
        f"  {_shell_quote(url)}\n"
    )


def snippets_for(
    event_name: str, properties: Sequence[SnippetProperty], *, base_url: str, track_url: str
) -> list[Snippet]:
    """The event's snippets, in the order the page offers them."""
    properties = list(properties)
    return [
        Snippet(
            "JavaScript (analytics.js)",
            "javascript",
            javascript(event_name, properties, base_url=base_url),
        ),
        Snippet(
            "Python (analytics-python)", "python", python(event_name, properties, base_url=base_url)
        ),
        Snippet("curl", "shell", curl(event_name, properties, url=track_url)),
    ]
