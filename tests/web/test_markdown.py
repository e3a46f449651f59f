"""The definition renderer: Markdown in, only harmless HTML out."""

import pytest

from catalog.markdown import render_markdown


def test_markdown_is_rendered():
    html = render_markdown(
        "## Revenue\n\n* **net** of tax\n* `cents`\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h2>Revenue</h2>" in html
    assert "<strong>net</strong>" in html
    assert "<code>cents</code>" in html
    assert "<td>1</td>" in html


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<div onclick="alert(1)">x</div>', "onclick"),
        ("<style>body{display:none}</style>", "<style"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ("<svg><script>alert(1)</script></svg>", "<script"),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "data:"),
        ('<form action="https://evil.example"><input name=x></form>', "<form"),
    ],
)
def test_dangerous_markup_is_removed(text, forbidden):
    assert forbidden not in render_markdown(text).lower()


def test_images_become_links_so_no_other_host_is_requested():
    html = render_markdown("![diagram](https://cdn.example.com/funnel.png)")
    assert "<img" not in html
    assert 'href="https://cdn.example.com/funnel.png"' in html
    assert ">diagram</a>" in html


def test_links_are_kept_and_marked_external():
    html = render_markdown("[docs](https://example.com/docs)")
    assert 'href="https://example.com/docs"' in html
    assert "noopener" in html


def test_empty_nul_and_huge_text():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
    assert "\x00" not in render_markdown("a\x00b")
    assert render_markdown("x" * 500_000).count("x") <= 200_000
