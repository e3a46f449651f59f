"""Definitions are Markdown written by anyone who may edit the catalog: render, then sanitise.

Python-Markdown turns the text into HTML (raw HTML in the text passes through it), and nh3
keeps only harmless tags and attributes: no script or style, no event-handler attributes, and
links only to http, https and mailto addresses. Images become links to the image, so a page
never loads anything from another host because of a definition.
"""

import xml.etree.ElementTree as ET

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

__all__ = ["render_markdown"]

#: Longest text rendered; the model allows more, but a page shouldn't hang on a novel.
MAX_LENGTH = 200_000

_TAGS = (nh3.ALLOWED_TAGS - {"img", "map", "area"}) | {"input"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "title"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}
_ATTRIBUTES.pop("img", None)
_SCHEMES = {"http", "https", "mailto"}


class _ImagesAsLinks(Treeprocessor):
    def run(self, root: ET.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag != "img":
                    continue
                link = ET.Element("a", {"href": child.get("src", "")})
                link.text = child.get("alt") or child.get("src", "")
                link.tail = child.tail
                parent[index] = link


class _ImagesAsLinksExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_ImagesAsLinks(md), "images_as_links", 0)


def render_markdown(text: str | None) -> SafeString:
    """Markdown `text` as sanitised HTML, safe to put in a page."""
    if not text:
        return mark_safe("")
    text = text[:MAX_LENGTH].replace("\x00", "")
    html = markdown.markdown(
        text,
        extensions=["extra", "sane_lists", _ImagesAsLinksExtension()],
        output_format="html",
    )
    clean = nh3.clean(
        html,
        tags=_TAGS - {"input"},
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)
