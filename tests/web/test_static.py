"""Our own static files, as browsers read them."""

from pathlib import Path

import catalog

STATIC = Path(catalog.__file__).parent / "static" / "catalog"


def test_every_block_of_the_stylesheet_is_closed():
    """One missing `}` silently turns every later rule into part of a media query."""
    depth = 0
    for number, line in enumerate((STATIC / "site.css").read_text().splitlines(), 1):
        if line.startswith("/*"):
            assert depth == 0, f"site.css line {number} starts a section inside a block"
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"site.css line {number} closes a block that isn't open"
    assert depth == 0
