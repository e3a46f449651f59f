"""Rewrite HTML so that the sanitiser's parser does a small, fixed amount of work per tag.

nh3 parses with html5ever, which builds the tree as the HTML standard says, and that costs more
than linear time on two kinds of input. Every block-level start tag looks for an open `<p>`
through all the open elements, so nesting costs depth times tags (50,000 Markdown block quotes,
`>` repeated: 9 s). And a formatting element that a block closes early is reopened in every
later block (`<p><b id=1>a</p>`, `<p><b id=2>a</p>`, ... in 100 kB: 21 s and 110 MB of HTML).

`tidy_html` reads the tags once and writes the tree the parser would build, with every element
closed by an explicit end tag, so nothing is ever reopened. It makes the parser's repairs
itself, the same way (a `<div>` closes an open `<p>`, a `<li>` an open `<li>`, text between a
table's rows goes before the table), but closes rather than reopens a formatting element a
block ends. Elements deeper than `MAX_DEPTH` lose their tags (their text stays). The parser then
only ever adds an element or closes the current one. Images become links, and a tag keeps its
first `MAX_ATTRIBUTES` attributes (html5ever compares every pair of a tag's attributes).

Each step is constant time, and the tokens are found by one regular expression whose parts
never backtrack, so the whole pass is linear. Text and attribute values are copied, never
interpreted: the sanitiser still decides what may stay.
"""

import re

__all__ = ["MAX_ATTRIBUTES", "MAX_DEPTH", "tidy_html"]

#: Elements nested deeper than this lose their tags (a list ten levels deep, with a paragraph,
#: a link and emphasis in its last item, is 24 deep).
MAX_DEPTH = 64
#: Attributes kept per tag: more than the sanitiser keeps of any tag's (seven, on a <th>).
MAX_ATTRIBUTES = 16

_WS = "\t\n\f "
# One attribute as html5ever's tokenizer reads it: a name (it may start with "="), then maybe
# "=" and a value, quoted (an unclosed quote runs to the end) or not. Possessive quantifiers:
# no backtracking, whatever the input.
_ATTRIBUTE = (
    rf"(?:=|[^{_WS}/>=])[^{_WS}/>=]*+"
    rf"(?:[{_WS}]*+=[{_WS}]*+"
    rf"(?:\"[^\"]*+(?:\"|\Z)|'[^']*+(?:'|\Z)|[^{_WS}>\"'][^{_WS}>]*+)?+)?+"
)
_TOKEN = re.compile(
    "<(?:"
    rf"(?P<end>/?)(?P<name>[A-Za-z][^{_WS}/>]*+)(?P<attributes>(?:{_ATTRIBUTE}|[{_WS}/]++)*+)>"
    r"|!--(?:-?>|[\s\S]*?(?:--!?>|\Z))"  # a comment
    r"|[!?][^>]*+>?"  # a doctype, CDATA or processing instruction: a bogus comment
    r"|/(?:>|[^A-Za-z>][^>]*+>?)"  # "</>" or "</ ...>": ignored
    r"|(?P<cut>/?[A-Za-z])"  # a tag the end of the text cuts off: the rest is inside it
    ")"
)
_ATTRIBUTE_PARTS = re.compile(
    rf"(?P<name>(?:=|[^{_WS}/>=])[^{_WS}/>=]*+)"
    rf"(?:[{_WS}]*+=[{_WS}]*+"
    rf"(?:\"(?P<double>[^\"]*+)\"?|'(?P<single>[^']*+)'?|(?P<bare>[^{_WS}>\"'][^{_WS}>]*+))?+)?+"
)
_SAFE_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


# What the tree builder treats specially, among the tags the sanitiser keeps (other tags lose
# their tags here, as the sanitiser would remove them anyway).
_FORMATTING = _tags("a b code em i s small strike strong tt u")
_HEADINGS = _tags("h1 h2 h3 h4 h5 h6")
#: Start tags that close an open <p> first.
_CLOSES_P = _HEADINGS | _tags(
    "article aside blockquote center details div dl dd dt figcaption figure footer header"
    " hgroup hr li nav ol p pre summary table ul"
)
_TABLE_PARTS = _tags("thead tbody tr td th")
_PHRASING = _tags(
    "abbr acronym bdi bdo cite data del dfn ins kbd mark q samp span sub sup time var"
)
_VOID = _tags("br hr input wbr")
_KEPT = _FORMATTING | _CLOSES_P | _TABLE_PARTS | _PHRASING | _VOID | {"table"}
#: Open elements a <li> (or <dd>, <dt>) looks through for one to close ("special" ones but
#: address, div and p stop the search).
_STOPS_LIST_ITEM_SEARCH = (
    _tags("article aside blockquote center details dl figcaption figure footer header")
    | _tags("hgroup nav ol pre summary table tbody td th thead tr ul")
    | _HEADINGS
    | {"li", "dd", "dt"}
)
#: Boundaries of "in scope": an end tag or a <p> check doesn't look past these.
_SCOPE_BOUNDARIES = ("table", "td", "th")
_ROW_GROUPS = ("thead", "tbody")
_IN_TABLE = frozenset(("table", "tr", *_ROW_GROUPS))
#: Elements whose content the tokenizer reads as text up to their end tag; the content of
#: scripts and styles is dropped, as the sanitiser drops it.
_RAW_TEXT = {
    name: re.compile(rf"</{name}[{_WS}/>]", re.IGNORECASE)
    for name in _tags("script style xmp iframe noembed noframes textarea title")
}
_DROPPED_CONTENT = frozenset(("script", "style"))


class _Tree:
    """The open elements and the HTML written so far."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        #: What is written: strings, and for each table a list, before it, of the text the
        #: parser would move out of it.
        self.out: list[str | list[str]] = []
        self.names: list[str] = []  # open elements, outermost first; past max_depth: unwritten
        self.index: dict[str, list[int]] = {}  # name -> its positions in `names`
        self.list_item_stops: list[int] = []  # positions of _STOPS_LIST_ITEM_SEARCH elements
        self.moved_out_of_tables: list[list[str]] = []  # one for each open table written
        #: The innermost open element that was written: the one text goes into.
        self.top: str | None = None

    def html(self) -> str:
        self.close_to(0)
        return "".join(part if isinstance(part, str) else "".join(part) for part in self.out)

    def last(self, name: str) -> int:
        positions = self.index.get(name)
        return positions[-1] if positions else -1

    def last_of(self, names) -> int:
        return max(self.last(name) for name in names)

    def in_scope(self, name: str) -> int:
        """The position of the innermost open `name` not hidden behind a table or a cell,
        or -1."""
        position = self.last(name)
        return position if position > self.last_of(_SCOPE_BOUNDARIES) else -1

    @property
    def writes_tags(self) -> bool:
        return len(self.names) < self.max_depth

    @property
    def in_table(self) -> bool:
        """Whether the innermost written element is a table, a row group or a row, where the
        parser allows only rows and cells (and moves text out, before the table)."""
        return self.top in _IN_TABLE

    def open(self, name: str, tag: str) -> None:
        position = len(self.names)
        if position < self.max_depth:
            if name == "table":
                moved: list[str] = []
                self.out.append(moved)
                self.moved_out_of_tables.append(moved)
            self.out.append(tag)
            self.top = name
        self.names.append(name)
        self.index.setdefault(name, []).append(position)
        if name in _STOPS_LIST_ITEM_SEARCH:
            self.list_item_stops.append(position)

    def close_to(self, position: int) -> None:
        """Close the open elements from the innermost one to the one at `position`."""
        names, out, max_depth = self.names, self.out, self.max_depth
        while len(names) > position:
            name = names.pop()
            depth = len(names)
            self.index[name].pop()
            if self.list_item_stops and self.list_item_stops[-1] == depth:
                self.list_item_stops.pop()
            if depth < max_depth:
                out.append(f"</{name}>")
                if name == "table":
                    self.moved_out_of_tables.pop()
        depth = min(len(names), max_depth)
        self.top = names[depth - 1] if depth else None

    def close_top(self) -> None:
        """close_to(the innermost element), in the fewest steps: most tags are such ends."""
        names = self.names
        name = names.pop()
        depth = len(names)
        self.index[name].pop()
        if self.list_item_stops and self.list_item_stops[-1] == depth:
            self.list_item_stops.pop()
        if depth < self.max_depth:
            self.out.append(f"</{name}>")
            if name == "table":
                self.moved_out_of_tables.pop()
            self.top = names[-1] if names else None

    def text(self, text: str) -> None:
        text = text.replace("<", "&lt;")
        if self.in_table and text.strip(_WS + "\r"):
            self.moved_out_of_tables[-1].append(text)
        else:
            self.out.append(text)


def _attributes(source: str, limit: int = MAX_ATTRIBUTES) -> dict[str, str]:
    """The first `limit` attributes, each value as written (entities unexpanded), quoted so
    it stays one value."""
    found: dict[str, str] = {}
    for match in _ATTRIBUTE_PARTS.finditer(source):
        name = match["name"].lower()
        if name in found or not _SAFE_ATTRIBUTE_NAME.fullmatch(name):
            continue
        value = match["double"]
        if value is None:
            value = (match["single"] or match["bare"] or "").replace('"', "&quot;")
        found[name] = value
        if len(found) == limit:
            break
    return found


def _start_tag(name: str, attributes: dict[str, str]) -> str:
    return "<" + " ".join([name, *(f'{key}="{value}"' for key, value in attributes.items())]) + ">"


def _image(tree: _Tree, attributes: str) -> None:
    """An image becomes a link to it (its text: the alt text, else the address), so that a
    page never loads anything from another host; inside a link, only its alt text."""
    found = _attributes(attributes)
    source, alt = found.get("src", ""), found.get("alt", "")
    if not tree.writes_tags or tree.in_table or tree.in_scope("a") >= 0:
        tree.text(alt)
        return
    link = {"href": source} | ({"title": found["title"]} if "title" in found else {})
    tree.out.append(_start_tag("a", link))
    tree.text(alt or source)
    tree.out.append("</a>")


def _table_part(tree: _Tree, name: str, tag: str) -> None:
    """A row group, row or cell: opened where a table allows it, with the row group or row
    the parser would add, and ending the open cell, row or row group as the parser does."""
    if not tree.in_table:
        cell = tree.last_of(("td", "th"))
        if cell < 0 or cell < tree.last("table"):
            return  # not in a table: the parser ignores the tag
        tree.close_to(cell)
    if name in _ROW_GROUPS:
        while tree.top != "table":
            tree.close_top()
    elif name == "tr":
        if tree.top == "tr":
            tree.close_top()
        elif tree.top == "table":
            tree.open("tbody", "<tbody>")
    else:
        if tree.top == "table":
            tree.open("tbody", "<tbody>")
        if tree.top in _ROW_GROUPS:
            tree.open("tr", "<tr>")
    tree.open(name, tag)


def _start(tree: _Tree, name: str, tag: str) -> None:
    """Open `name` as the parser would, closing explicitly what the parser closes for it."""
    if not tree.writes_tags:
        if name not in _VOID:
            tree.open(name, tag)  # beyond MAX_DEPTH: tracked, not written
        return
    if name in _TABLE_PARTS:
        _table_part(tree, name, tag)
        return
    if tree.in_table:
        if name != "table":
            return  # the parser would move it out of the table; its text is moved
        tree.close_to(tree.last("table"))  # a table can't start in a table: it ends the first
    if name in _CLOSES_P and (p := tree.in_scope("p")) >= 0:
        tree.close_to(p)
    if name == "li" or name in ("dd", "dt"):
        items = ("li",) if name == "li" else ("dd", "dt")
        stop = tree.list_item_stops[-1] if tree.list_item_stops else -1
        if stop >= 0 and tree.names[stop] in items:
            tree.close_to(stop)
    elif name in _HEADINGS and tree.top in _HEADINGS:
        tree.close_top()
    elif name == "a" and (link := tree.last("a")) > tree.last_of(("td", "th")):
        tree.close_to(link)
    if name in _VOID:
        tree.out.append(tag)
    else:
        tree.open(name, tag)


def _end(tree: _Tree, name: str) -> None:
    """Close `name` and what is open inside it, if the parser would; else ignore the tag."""
    if name == tree.top and tree.writes_tags:
        tree.close_top()
        return
    if name in _HEADINGS:
        position = max(tree.in_scope(heading) for heading in _HEADINGS)
    elif name == "li":
        item = tree.last("li")
        position = item if item > tree.last_of((*_SCOPE_BOUNDARIES, "ul", "ol")) else -1
    elif name in _TABLE_PARTS or name == "table":
        position = tree.last(name) if tree.last(name) >= tree.last("table") else -1
    else:
        position = tree.in_scope(name)
    if position >= 0:
        tree.close_to(position)


def tidy_html(html: str, *, max_depth: int = MAX_DEPTH) -> str:
    """`html` with every element closed explicitly, at most `max_depth` deep, images as links,
    and text the parser would move out of a table already moved (before the table)."""
    html = html.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    tree = _Tree(max_depth)
    out, text, search = tree.out, tree.text, _TOKEN.search
    position = 0
    while (match := search(html, position)) is not None:
        start = match.start()
        if start > position:
            chunk = html[position:start]
            if chunk.isspace():
                out.append(chunk)  # kept where it is, even between a table's rows
            else:
                text(chunk)
        position = match.end()
        end, name, attributes, cut = match.groups()
        if cut:
            return tree.html()  # the parser drops an unfinished tag, and all after it
        if name is None:
            continue  # comments and the like
        name = name.lower()
        if end:
            if name == tree.top and len(tree.names) < max_depth:
                tree.close_top()  # the usual case, and the parser's simplest
            elif name in _KEPT and name not in _VOID:
                _end(tree, name)
        elif name in _RAW_TEXT:
            closing = _RAW_TEXT[name].search(html, position)
            content_end = closing.start() if closing else len(html)
            if name not in _DROPPED_CONTENT and content_end > position:
                text(html[position:content_end])
            end_of_tag = html.find(">", content_end)
            position = len(html) if closing is None or end_of_tag < 0 else end_of_tag + 1
        elif name in ("img", "image"):
            _image(tree, attributes)
        elif name in _KEPT:
            if attributes and attributes.strip(_WS + "/"):
                tag = _start_tag(name, _attributes(attributes))
            else:
                tag = f"<{name}>"
            _start(tree, name, tag)
    if position < len(html):
        text(html[position:])
    return tree.html()
