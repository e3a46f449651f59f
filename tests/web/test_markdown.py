"""The definition renderer: Markdown in, only harmless HTML out."""

import re

import pytest

from catalog.markdown import MAX_LENGTH, render_markdown
from catalog.markdown.tidy import MAX_DEPTH, tidy_html


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
        ('<img src="javascript:alert(1)" alt="x">', "javascript:"),
        ("![x](javascript:alert(1))", "javascript:"),
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
    assert render_markdown("x" * 500_000).count("x") == MAX_LENGTH


def checkboxes(html: str) -> list[set[str]]:
    """The attributes of each input, in any order."""
    return [set(attributes.split()) for attributes in re.findall(r"<input ([^>]*)>", html)]


def test_github_flavoured_markdown():
    html = render_markdown(
        "- [x] tracked\n- [ ] documented\n\n~~legacy~~ see www.example.com\n\n"
        "| name | type |\n|:--|--:|\n| `revenue` | number |"
    )
    # Task lists show boxes nobody can tick on the page.
    assert checkboxes(html) == [
        {'type="checkbox"', 'disabled=""', 'checked=""'},
        {'type="checkbox"', 'disabled=""'},
    ]
    assert "> tracked</li>" in html and "> documented</li>" in html
    assert "<del>legacy</del>" in html
    assert '<a href="http://www.example.com" rel="noopener noreferrer nofollow">' in html
    assert '<th align="left">name</th>' in html and '<td align="right">number</td>' in html


def test_raw_html_that_is_well_formed_is_kept():
    html = render_markdown(
        "<details><summary>Example payload</summary>\n\n```json\n{}\n```\n\n</details>\n\n"
        "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>."
    )
    assert "<details><summary>Example payload</summary>" in html
    assert '<pre tabindex="0"><code class="language-json">{}\n</code></pre>\n</details>' in html
    assert "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>." in html


def test_an_input_is_never_a_form_field():
    html = render_markdown('<input type="text" name="q" form="logout" value="x">')
    assert checkboxes(html) == [{'type="checkbox"', 'disabled=""'}]


def test_an_image_inside_a_link_becomes_its_text():
    html = render_markdown(
        "[![build passing](https://ci.example.com/badge.svg)](https://ci.example.com)"
    )
    assert html.strip() == (
        '<p><a href="https://ci.example.com" rel="noopener noreferrer nofollow">'
        "build passing</a></p>"
    )


def test_badly_nested_html_is_closed_where_it_ends():
    html = render_markdown("Some <b>bold\n\nnext paragraph\n\n<ul><li>one<li>two</ul>")
    assert "<p>Some <b>bold</b></p>\n<p>next paragraph</p>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html


def test_text_between_the_rows_of_a_table_is_shown_before_it_as_browsers_do():
    html = render_markdown("<table><tr><td>kept</td></tr> stray </table>\n\n**Markdown**")
    assert html == (
        ' stray <div class="table-scroll" tabindex="0" role="region" aria-label="Table 1">'
        "<table><tbody><tr><td>kept</td></tr></tbody></table></div>\n"
        "<p><strong>Markdown</strong></p>\n"
    )


def text_of(html: str) -> str:
    return re.sub(r"<[^>]*>", "", html)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 20_000,
        "[ (](" * 4_000,
        "[ a_" * 5_000,
        "*a **a " * 2_000 + "b" + " a** a*" * 2_000,
        "a_ " * 10_000,
        "".join("e" + "`" * n for n in range(1, 300)),
    ],
)
def test_text_that_used_to_take_minutes_is_shown_whole(text):
    assert text_of(render_markdown(text)).strip() == text.replace("*", "").strip()


def test_deep_nesting_keeps_the_text_but_not_every_level():
    html = render_markdown("> " * 40_000 + "deepest")
    assert html.count("<blockquote>") == MAX_DEPTH
    assert text_of(html).strip() == "deepest"


def test_formatting_left_open_is_not_reopened_in_every_paragraph():
    text = "".join(f'<p><b id="n{n}">{n}</p>' for n in range(2_000))
    html = render_markdown(text)
    assert html.count("<b>") == 2_000  # one each, not one per later paragraph
    assert "<p><b>1999</b></p>" in html


def test_attributes_are_written_again_quoted_before_the_sanitiser_reads_them():
    # Each value stays one value whatever quotes it holds; odd names and repeats are dropped,
    # and a tag cut off by the end of the text is dropped with everything after it.
    html = tidy_html('<a href=\'a"b\' x=y"z "q onclick = "go()" HREF=dup>t</a><b')
    assert html == '<a href="a&quot;b" x="y&quot;z" onclick="go()">t</a>'


def test_unpaired_surrogates_and_line_endings():
    assert render_markdown("a\ud800b").strip() == "<p>a?b</p>"
    assert render_markdown("one\r\ntwo\rthree").strip() == "<p>one\ntwo\nthree</p>"


def test_tables_and_code_scroll_in_boxes_a_keyboard_reaches():
    html = render_markdown(
        "| a | b |\n|--|--|\n| 1 | 2 |\n\n```js\nx\n```\n\n<table><tr><td>raw</td></tr></table>"
    )
    # Each table in a named region of its own (site.css scrolls it sideways), each code block
    # focusable: both scroll with the arrow keys.
    assert html.count('<div class="table-scroll" tabindex="0" role="region"') == 2
    assert 'aria-label="Table 1"><table>' in html and 'aria-label="Table 2"><table>' in html
    assert html.count("</table></div>") == 2
    assert '<pre tabindex="0"><code class="language-js">x' in html


def test_only_real_tables_and_code_blocks_get_a_box():
    """Text or attribute values that look like tags stay escaped: no box, no broken markup."""
    html = render_markdown(
        '<a title="<table> <pre>" href="https://example.com">x</a> `<table>` &lt;pre&gt;\n\n'
        '<div class="table-scroll" tabindex="3" onclick="x()">own</div>'
    )
    assert "table-scroll" not in html and "tabindex" not in html and "onclick" not in html
    assert 'title="&lt;table&gt; &lt;pre&gt;"' in html
    assert "<code>&lt;table&gt;</code>" in html
