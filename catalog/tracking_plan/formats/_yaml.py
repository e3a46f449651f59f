"""A YAML writer for plain data: dicts (in their order), lists, str, int, float, bool and None.

It writes what `yaml.dump_all(documents, Dumper=yaml.CSafeDumper, sort_keys=False,
allow_unicode=True)` writes with libyaml 0.2.5, byte for byte, in a tenth of the time: PyYAML
turns every value into a node and an event object before libyaml sees it, which took 18 s for a
plan of 100,000 properties. The rules followed are libyaml's emitter's (block style, indent 2,
lines folded after column 80, a scalar plain when it reads back as the same string, else
single-quoted, else double-quoted with escapes); a test compares the two on awkward strings.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

_WIDTH = 80
_INDENT = 2
#: The longest key (in UTF-8 bytes) written as `key: value` rather than `? key`.
_SIMPLE_KEY_LENGTH = 128
_CACHE_SIZE = 100_000
_BREAKS = "\r\n\x85\u2028\u2029"
_BLANKZ = "\0 \t" + _BREAKS

#: Characters libyaml writes as they are (the rest make a string double-quoted, escaped).
_SPECIAL = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
_ANY_BREAK = re.compile(f"[{_BREAKS}]")
_BLOCK_INDICATOR_LATER = re.compile(f":(?:[{_BLANKZ}]|\\Z)|[{_BLANKZ}]#")
_BREAK_SPACE = re.compile(f"[{_BREAKS}] | [{_BREAKS}]")
_FIRST_INDICATORS = "#,[]{}&*!|>'\"%@`"
#: A string that is plain if it resolves to a string (no indicator, space or break around).
_SIMPLE = re.compile(r"[A-Za-z0-9_$^(/=+<;~][A-Za-z0-9_ $^()/=+<;~.\-]*(?<! )")
_NEEDS_ESCAPE = re.compile(f'["\\\\{_BREAKS}]|{_SPECIAL.pattern}')
_ESCAPES = {
    "\0": "0",
    "\x07": "a",
    "\x08": "b",
    "\t": "t",
    "\n": "n",
    "\x0b": "v",
    "\x0c": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}

_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
#: The first characters of the strings that may read back as something else than a string.
_RESOLVED_FIRST = frozenset(_RESOLVERS) | {""}


def _resolves_to_str(value: str) -> bool:
    """Whether `value`, written plain, reads back as a string (not a number, bool, null...)."""
    resolvers = _RESOLVERS.get(value[0] if value else "", []) + _RESOLVERS.get(None, [])
    return not any(pattern.match(value) for _tag, pattern in resolvers)


def _analysis(value: str) -> tuple[bool, bool, bool]:
    """(multiline, plain allowed, single-quoted allowed) for a block context, as libyaml
    decides them."""
    if not value:
        return False, True, True
    special = _SPECIAL.search(value) is not None
    multiline = _ANY_BREAK.search(value) is not None
    first = value[0]
    followed_by_blank = len(value) == 1 or value[1] in _BLANKZ
    indicators = (
        value.startswith(("---", "..."))
        or first in _FIRST_INDICATORS
        or (first in "?:-" and followed_by_blank)
        or _BLOCK_INDICATOR_LATER.search(value, 1) is not None
    )
    mixed = _BREAK_SPACE.search(value) is not None
    plain = not (
        special
        or multiline
        or indicators
        or mixed
        or first in " " + _BREAKS
        or value[-1] in " " + _BREAKS
    )
    return multiline, plain, not (special or mixed)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.indent = -1
        #: Keys written before, with their colon ("" for a "? key").
        self.keys: dict[str, str] = {}
        #: Values written on one line before, as written (quoted, escaped...).
        self.strings: dict[str, str] = {}

    # Low-level writes, as libyaml's

    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def line_break(self, char: str = "\n") -> None:
        self.out.append(char)
        self.column = 0

    def write_indent(self, indent: int | None = None) -> None:
        if indent is None:
            indent = max(self.indent, 0)
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.line_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = True
        self.indention = True

    def indicator(
        self, text: str, need_whitespace: bool, whitespace: bool, indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(text)
        self.whitespace = whitespace
        self.indention = self.indention and indention

    # Nodes

    def document(self, value: Any, first: bool) -> None:
        if not first:
            self.write_indent()
            self.indicator("---", True, False, False)
        self.node(value, mapping=False, simple_key=False)
        self.write_indent()

    def node(self, value: Any, mapping: bool, simple_key: bool) -> None:
        if type(value) is str:
            self.string(value, simple_key)
        elif isinstance(value, dict):
            self.mapping(value)
        elif isinstance(value, (list, tuple)):
            self.sequence(value, mapping)
        elif isinstance(value, str):
            self.string(value, simple_key)
        else:
            self.plain(self.scalar_text(value), allow_breaks=False)

    @staticmethod
    def scalar_text(value: Any) -> str:
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            return _float_text(value)
        raise TypeError(f"Cannot write {type(value).__name__} as YAML.")

    def mapping(self, value: dict[str, Any]) -> None:
        if not value:
            self.indicator("{", True, True, False)
            self.indicator("}", False, False, False)
            return
        outer = self.indent
        indent = self.indent = 0 if outer < 0 else outer + _INDENT
        new_line = "\n" + " " * indent
        out = self.out
        keys = self.keys
        for key, item in value.items():
            # write_indent(), then the key and its colon when it is a simple key.
            column = self.column
            if self.indention and (column < indent or (column == indent and self.whitespace)):
                if column < indent:
                    out.append(" " * (indent - column))
            else:
                out.append(new_line)
            self.column = indent
            self.whitespace = self.indention = True
            simple = keys.get(key)
            if simple is None:
                if not isinstance(key, str):
                    raise TypeError(f"Cannot write a {type(key).__name__} key as YAML.")
                if len(key.encode("utf-8")) <= _SIMPLE_KEY_LENGTH and not _ANY_BREAK.search(key):
                    start = len(out)
                    self.string(key, simple_key=True)
                    self.indicator(":", False, False, False)
                    simple = keys[key] = "".join(out[start:])
                    del out[start:]
                else:
                    simple = keys[key] = ""
            if simple:
                out.append(simple)
                self.column = indent + len(simple)
                self.whitespace = self.indention = False
            else:
                self.indicator("?", True, False, True)
                self.string(key, simple_key=False)
                self.write_indent()
                self.indicator(":", True, False, True)
            if type(item) is str:
                self.string(item, False)
            else:
                self.node(item, mapping=True, simple_key=False)
        self.indent = outer

    def sequence(self, value: list[Any] | tuple[Any, ...], mapping: bool) -> None:
        if not value:
            self.indicator("[", True, True, False)
            self.indicator("]", False, False, False)
            return
        outer = self.indent
        if outer < 0:
            self.indent = 0
        elif not (mapping and not self.indention):
            self.indent = outer + _INDENT
        indent = max(self.indent, 0)
        dash = "\n" + " " * indent + "-"
        out = self.out
        for item in value:
            # write_indent(), then "-".
            column = self.column
            if self.indention and (column < indent or (column == indent and self.whitespace)):
                out.append(" " * (indent - column) + "-")
            else:
                out.append(dash)
            self.column = indent + 1
            self.whitespace = False
            self.indention = True
            self.node(item, mapping=False, simple_key=False)
        self.indent = outer

    # Scalars

    def string(self, value: str, simple_key: bool) -> None:
        if (
            not simple_key
            and self.column + len(value) < _WIDTH
            and value[:1] not in _RESOLVED_FIRST
            and _SIMPLE.fullmatch(value)
        ):
            # Plain, and nothing to fold.
            self.out.append(value if self.whitespace else " " + value)
            self.column += len(value) + (not self.whitespace)
            self.whitespace = self.indention = False
            return
        if not simple_key:
            # Written before, and no folding possible where it goes: as it was written then.
            known = self.strings.get(value)
            if known is not None and (
                self.column + len(known) <= _WIDTH or " " not in known.strip()
            ):
                if not self.whitespace:
                    self.out.append(" ")
                    self.column += 1
                self.out.append(known)
                self.column += len(known)
                self.whitespace = self.indention = False
                return
        outer = self.indent
        self.indent = _INDENT if outer < 0 else outer + _INDENT
        allow_breaks = not simple_key
        start = len(self.out)
        if _SIMPLE.fullmatch(value) and _resolves_to_str(value):
            self.plain(value, allow_breaks)
        else:
            multiline, plain, single = _analysis(value)
            if simple_key and multiline:
                self.double_quoted(value, allow_breaks)
            elif plain and value and _resolves_to_str(value):
                self.plain(value, allow_breaks)
            elif single:
                self.single_quoted(value, allow_breaks)
            else:
                self.double_quoted(value, allow_breaks)
        self.indent = outer
        if not simple_key and len(self.strings) < _CACHE_SIZE:
            written = "".join(self.out[start:]).lstrip(" ")
            if not _ANY_BREAK.search(written):
                self.strings[value] = written

    def plain(self, text: str, allow_breaks: bool) -> None:
        if not self.whitespace and text:
            self.put(" ")
        if not allow_breaks or " " not in text or self.column + len(text) <= _WIDTH:
            # No space falls after the last column: nothing to fold.
            if text:
                self.put(text)
                self.indention = False
        else:
            spaces = False
            last = len(text) - 1
            for index, char in enumerate(text):
                if char == " ":
                    if (
                        not spaces
                        and self.column > _WIDTH
                        and not (index < last and text[index + 1] == " ")
                    ):
                        self.write_indent()
                    else:
                        self.put(" ")
                    spaces = True
                else:
                    self.put(char)
                    self.indention = False
                    spaces = False
        self.whitespace = False
        self.indention = False

    def single_quoted(self, text: str, allow_breaks: bool) -> None:
        self.indicator("'", True, False, False)
        if not _ANY_BREAK.search(text) and (
            not allow_breaks or self.column + len(text) + text.count("'") <= _WIDTH
        ):
            self.put(text.replace("'", "''"))
        else:
            spaces = breaks = False
            last = len(text) - 1
            for index, char in enumerate(text):
                if char == " ":
                    if (
                        allow_breaks
                        and not spaces
                        and self.column > _WIDTH
                        and 0 < index < last
                        and text[index + 1] != " "
                    ):
                        self.write_indent()
                    else:
                        self.put(" ")
                    spaces = True
                elif char in _BREAKS:
                    if not breaks and char == "\n":
                        self.line_break()
                    self.line_break(char)
                    self.indention = True
                    breaks = True
                else:
                    if breaks:
                        self.write_indent()
                    self.put("''" if char == "'" else char)
                    self.indention = False
                    spaces = breaks = False
            if breaks:
                self.write_indent()
        self.indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def double_quoted(self, text: str, allow_breaks: bool) -> None:
        self.indicator('"', True, False, False)
        spaces = False
        last = len(text) - 1
        for index, char in enumerate(text):
            if _NEEDS_ESCAPE.match(char):
                escape = _ESCAPES.get(char)
                if escape is None:
                    code = ord(char)
                    if code <= 0xFF:
                        escape = f"x{code:02X}"
                    elif code <= 0xFFFF:
                        escape = f"u{code:04X}"
                    else:
                        escape = f"U{code:08X}"
                self.put("\\" + escape)
                spaces = False
            elif char == " ":
                if allow_breaks and not spaces and self.column > _WIDTH and 0 < index < last:
                    self.write_indent()
                    if text[index + 1] == " ":
                        self.put("\\")
                else:
                    self.put(" ")
                spaces = True
            else:
                self.put(char)
                spaces = False
        self.indicator('"', False, False, False)
        self.whitespace = False
        self.indention = False


def dump_all(documents: list[Any]) -> str:
    """`documents` as a YAML stream, one `---` before each but the first."""
    writer = _Writer()
    for number, document in enumerate(documents):
        writer.document(document, first=number == 0)
    return "".join(writer.out)
