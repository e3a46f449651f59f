"""Editing a resource on the catalog pages: Markdown with a live preview, the history it
leaves, the keyboard alone, and definitions that try to run script."""

import re

from playwright.sync_api import Dialog, Page, expect

from catalog.services.resources import resource_update
from tests.e2e.catalog_pages import focused, follow_buttons, messages, tab_to, url_of
from tests.factories import SYSTEM

NEW_DEFINITION = "## Rules\n\nOnly **paid** orders count."


def definition_section(page: Page):
    return page.get_by_role("region", name="Definition")


def test_editing_shows_a_live_preview_then_the_rendered_markdown_and_the_history(
    page: Page, sign_in, editor, checkout
):
    event = checkout.event
    resource_update(ctx=SYSTEM, resource=event, data={"pii": True})  # an older change
    sign_in(page, editor)
    page.goto(url_of(event))

    page.get_by_role("link", name="Edit", exact=True).click()

    page.wait_for_url(f"**{url_of(event, 'edit')}")
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name="When")).to_be_visible()  # the saved text
    page.get_by_label("Description", exact=True).fill("Placed, paid and confirmed.")
    definition = page.get_by_label("Definition", exact=True)
    definition.fill("")
    definition.press_sequentially(NEW_DEFINITION, delay=5)
    # The preview follows the typing (htmx), before anything is saved.
    expect(preview.get_by_role("heading", name="Rules")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("paid")

    page.get_by_role("button", name="Save", exact=True).click()

    page.wait_for_url(f"**{url_of(event)}")
    expect(messages(page)).to_have_text("Saved.")
    expect(page.get_by_role("main").locator("p.lead")).to_have_text("Placed, paid and confirmed.")
    rendered = definition_section(page).locator(".markdown")
    expect(rendered.get_by_role("heading", level=2)).to_have_text("Rules")
    expect(rendered.locator("strong")).to_have_text("paid")
    expect(rendered).not_to_contain_text("**")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="History").click()

    page.wait_for_url(f"**{url_of(event, 'history')}")
    expect(page.get_by_role("heading", level=2)).to_have_text("History")
    changes = page.locator("ol.history > li")
    expect(changes).to_have_count(2)
    newest, oldest = changes.nth(0), changes.nth(1)  # newest first
    expect(newest.locator(".change-head")).to_contain_text("editor changed this")
    expect(newest.locator(".change-head")).to_contain_text("via Catalog pages")
    when = newest.locator("time")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", when.get_attribute("datetime"))
    expect(when).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
    expect(newest.get_by_role("rowheader")).to_have_text(["Description", "Definition"])
    description_row = newest.get_by_role("row", name=re.compile("^Description"))
    expect(description_row.locator("td.old")).to_have_text("The order was placed and paid.")
    expect(description_row.locator("td.new")).to_have_text("Placed, paid and confirmed.")
    line_diff = newest.get_by_role("row", name=re.compile("^Definition")).locator("pre")
    expect(line_diff).to_contain_text("- ## When")
    expect(line_diff).to_contain_text("+ ## Rules")
    expect(line_diff).to_contain_text("+ Only **paid** orders count.")
    expect(oldest.locator(".change-head")).to_contain_text("System changed this")
    expect(oldest.get_by_role("row", name=re.compile("^PII"))).to_have_text(
        re.compile(r"PII\s*No\s*Yes")
    )


def test_the_edit_form_can_be_filled_and_saved_with_the_keyboard_alone(
    page: Page, sign_in, editor, checkout
):
    sign_in(page, editor)
    page.goto(url_of(checkout.event, "edit"))
    expect(page.get_by_role("region", name="Preview").get_by_role("heading")).not_to_have_count(0)

    tab_to(page, page.get_by_label("Description", exact=True))
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Tab")
    assert focused(page).startswith("textarea#id_definition"), focused(page)
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.type("\n\n- written with the *keyboard*")
    save = page.get_by_role("button", name="Save", exact=True)
    tab_to(page, save)
    # The focus is visible where it is (WCAG 2.4.7).
    expect(save).to_have_css("outline-style", "solid")
    page.keyboard.press("Enter")

    page.wait_for_url(f"**{url_of(checkout.event)}")
    expect(messages(page)).to_have_text("Saved.")
    expect(page.get_by_role("main").locator("p.lead")).to_have_text("Typed without a mouse.")
    expect(definition_section(page).get_by_role("listitem")).to_have_text(
        "written with the keyboard"
    )
    expect(definition_section(page).locator("em")).to_have_text("keyboard")


XSS = "\n\n".join(
    [
        "Harmless text before.",
        '<script>window.__xss = "script"; alert("script")</script>',
        "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">",
        "[a javascript link](javascript:alert(document.domain))",
        "<a href=\"#\" onclick=\"window.__xss = 'onclick'; alert('onclick')\">a clickable link</a>",
        "<a href=\"javascript:alert('href')\">a raw javascript link</a>",
        "Harmless text after.",
    ]
)


def expect_defused(page: Page, where) -> None:
    """Nothing from the XSS definition can run inside ``where``."""
    expect(where).to_contain_text("Harmless text after.")
    expect(where.locator("script, img, iframe, object, embed")).to_have_count(0)
    expect(where.locator("[onerror], [onclick], [onload]")).to_have_count(0)
    hrefs = where.locator("a[href]").evaluate_all("links => links.map(a => a.protocol)")
    assert "javascript:" not in hrefs, hrefs
    # Every script in the document is one of the site's own files.
    sources = page.evaluate("Array.from(document.scripts, s => s.src)")
    assert sources and all(re.search(r"^http://[^/]+/static/", src) for src in sources), sources


def test_script_in_a_definition_is_neutralised(page: Page, sign_in, editor, checkout):
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    sign_in(page, editor)
    page.goto(url_of(checkout.event, "edit"))

    page.get_by_label("Definition", exact=True).fill(XSS)

    preview = page.locator("#definition-preview")
    expect_defused(page, preview)  # the live preview (htmx swaps it in)
    page.get_by_role("button", name="Save", exact=True).click()

    page.wait_for_url(f"**{url_of(checkout.event)}")
    expect(messages(page)).to_have_text("Saved.")
    rendered = definition_section(page).locator(".markdown")
    expect_defused(page, rendered)
    # Clicking what is left of the links runs nothing either.
    rendered.get_by_text("a javascript link").click()
    rendered.get_by_text("a clickable link").click()
    rendered.get_by_text("a raw javascript link").click()

    page.get_by_role("link", name="History", exact=True).click()
    page.wait_for_url(f"**{url_of(checkout.event, 'history')}")
    # The history shows the definition as text.
    expect(page.locator("ol.history pre")).to_contain_text('+ <script>window.__xss = "script"')
    expect(page.locator("main script")).to_have_count(0)

    assert page.evaluate("window.__xss") is None
    assert dialogs == []


def test_with_javascript_off_preview_and_follow_are_plain_forms(
    new_page, sign_in, editor, checkout
):
    page = new_page(java_script_enabled=False)
    sign_in(page, editor)
    page.goto(url_of(checkout.event, "edit"))
    definition = page.get_by_label("Definition", exact=True)
    definition.fill(NEW_DEFINITION)

    with page.expect_navigation():  # the form is posted: no htmx
        page.get_by_role("button", name="Preview definition").click()

    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name="Rules")).to_be_visible()
    expect(definition).to_have_value(NEW_DEFINITION)  # still being edited
    checkout.event.refresh_from_db()
    assert checkout.event.definition.startswith("## When")  # a preview saves nothing

    page.goto(url_of(checkout.event))
    with page.expect_navigation():
        follow_buttons(page)[0].click()

    assert page.url.endswith(url_of(checkout.event))  # back where it was
    expect(messages(page)).to_have_text("You follow “Order Completed”.")
    expect(follow_buttons(page)[1]).to_be_visible()
    assert list(checkout.event.subscribers.all()) == [editor]
