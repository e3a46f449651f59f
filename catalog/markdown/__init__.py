"""Definitions are Markdown written by anyone who may edit the catalog: render, then sanitise,
in time linear in the text's length whatever it holds.

cmark-gfm (GitHub's CommonMark parser, written and fuzzed to be linear) turns GitHub-flavoured
Markdown (tables, strikethrough, autolinks, task lists) into HTML; raw HTML in the text passes
through it. `tidy_html` then closes every element explicitly, at most `tidy.MAX_DEPTH` deep, and
turns images into links, so a page never loads anything from another host because of a
definition; without that step the sanitiser's HTML parser takes seconds on deeply nested or
badly nested HTML. nh3 keeps only harmless tags and attributes: no script or style, no
event-handler attributes, and links only to http, https and mailto addresses.
"""

import re

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from django.utils.safestring import SafeString, mark_safe

from .tidy import tidy_html

__all__ = ["MAX_LENGTH", "render_markdown"]

#: The longest definition stored (a model validator refuses longer ones) and rendered (a row
#: stored before the limit is rendered up to it). About 40 printed pages.
MAX_LENGTH = 100_000

_EXTENSIONS = ["table", "autolink", "strikethrough", "tasklist"]
_TAGS = (nh3.ALLOWED_TAGS - {"img", "map", "area"}) | {"input"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "title"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
    "input": {"checked"},
}
_ATTRIBUTES.pop("img", None)
#: Every input is a task list's box: ticked or not, never editable, never a text field.
_SET_ATTRIBUTES = {"input": {"type": "checkbox", "disabled": ""}}
_SCHEMES = {"http", "https", "mailto"}

# Wide tables and long code lines scroll sideways inside their own box (site.css) instead of
# widening the page or breaking words: after sanitising, each table gets a wrapper that is a
# named region in the tab order, and each <pre> is focusable, so a keyboard can scroll them
# too (axe's scrollable-region rule). The sanitiser's output is a serialised tree that escapes
# "<", ">" and quotes in text and attribute values, so these patterns find real tags only, and
# every <table> has its </table>.
_TABLE_START = re.compile(r"<table(?: [^<>]*)?>")


def _scroll_boxes(html: str) -> str:
    numbers = iter(range(1, MAX_LENGTH))  # fewer tables than characters

    def wrap(match: re.Match) -> str:
        return (
            f'<div class="table-scroll" tabindex="0" role="region" '
            f'aria-label="Table {next(numbers)}">{match.group(0)}'
        )

    html = _TABLE_START.sub(wrap, html).replace("</table>", "</table></div>")
    return html.replace("<pre>", '<pre tabindex="0">')


def _html(text: str) -> str:
    """cmark-gfm's HTML, raw HTML included (the sanitiser decides what stays)."""
    return cmarkgfm.markdown_to_html_with_extensions(
        text, options=Options.CMARK_OPT_UNSAFE, extensions=_EXTENSIONS
    )


def render_markdown(text: str | None) -> SafeString:
    """Markdown `text` (its first `MAX_LENGTH` characters) as sanitised HTML, safe to put in
    a page."""
    if not text:
        return mark_safe("")
    text = text[:MAX_LENGTH].replace("\x00", "")
    # Unpaired surrogates can't be encoded for the parser.
    text = text.encode("utf-8", "replace").decode("utf-8")
    html = tidy_html(_html(text))
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        set_tag_attribute_values=_SET_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(_scroll_boxes(clean))
