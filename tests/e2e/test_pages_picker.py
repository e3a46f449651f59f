"""The edit page's pickers (catalog/static/catalog/picker.js) and property schema in a browser:
the keyboard alone, plain clicks that never drop a choice, a tag made in place, what a screen
reader hears, and the page as editor and admin at 1280 and 390 px."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from catalog.models import ObjectChange, ObjectType, Resource, Tag
from tests.e2e.catalog_pages import (
    Checkout,
    check_page,
    expect_error_status,
    focused,
    messages,
    tab_to,
    url_of,
)
from tests.e2e.harness import PageProblems
from tests.factories import TagFactory, UserFactory


@pytest.fixture
def tagged(checkout: Checkout, editor) -> Checkout:
    """The checkout event owned by the editor and tagged "finance", with more tags to pick."""
    finance = TagFactory(title="finance", color="#b42318")
    for title, color in (("revenue", "#0b5cad"), ("refunds", "#8250df"), ("growth", "#1a7f37")):
        TagFactory(title=title, color=color)
    checkout.event.tags.add(finance)
    checkout.event.owners.add(editor)
    UserFactory(username="dpark", first_name="Dana", last_name="Park")
    return checkout


def combobox(page: Page, name: str) -> Locator:
    return page.get_by_role("combobox", name=name, exact=True)


def chips(page: Page, kind: str) -> Locator:
    return page.locator(f'.picker[data-kind="{kind}"] .picker-chip .chip-label')


def live(page: Page, kind: str) -> Locator:
    return page.locator(f'.picker[data-kind="{kind}"] .picker-live')


def listbox_of(page: Page, box: Locator) -> Locator:
    return page.locator(f"#{box.get_attribute('aria-controls')}")


def saved_titles(resource: Resource, relation: str) -> set[str]:
    return {str(obj) for obj in getattr(Resource.objects.get(pk=resource.pk), relation).all()}


def test_the_keyboard_alone_adds_and_removes_tags(page: Page, sign_in, editor, tagged):
    sign_in(page, editor)
    page.goto(url_of(tagged.event, "edit"))
    tags = combobox(page, "Tags")
    expect(tags).to_have_attribute("aria-expanded", "false")
    expect(chips(page, "tags")).to_have_text(["finance"])
    # The plain select is hidden: the combobox takes its place (and its label).
    expect(page.locator("select#id_tags")).to_be_hidden()

    tab_to(page, tags)
    page.keyboard.type("rev")
    listbox = listbox_of(page, tags)
    expect(tags).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option")).to_have_text(["revenue", "Create tag “rev”"])
    expect(live(page, "tags")).to_have_text("1 result")
    page.keyboard.press("ArrowDown")
    first = listbox.get_by_role("option").first
    expect(tags).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    page.keyboard.press("Enter")

    expect(chips(page, "tags")).to_have_text(["finance", "revenue"])
    expect(live(page, "tags")).to_have_text("revenue added, 2 tags chosen.")
    expect(tags).to_have_attribute("aria-expanded", "false")
    expect(tags).to_have_value("")
    assert focused(page).startswith("input#id_tags-picker"), focused(page)

    # Backspace in the empty field takes the last one off.
    page.keyboard.press("Backspace")
    expect(chips(page, "tags")).to_have_text(["finance"])
    expect(live(page, "tags")).to_have_text("revenue removed, 1 tag chosen.")

    # Escape closes the list, then clears the text; Enter adds the best match.
    page.keyboard.type("gro")
    page.keyboard.press("Escape")
    expect(tags).to_have_attribute("aria-expanded", "false")
    expect(tags).to_have_value("gro")
    page.keyboard.press("Enter")  # no form submission: the match is added
    expect(chips(page, "tags")).to_have_text(["finance", "growth"])
    page.keyboard.type("revenue")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(chips(page, "tags")).to_have_text(["finance", "growth", "revenue"])

    # Each chip's button is named after it; pressing it removes that one, focus stays near.
    remove = page.get_by_role("button", name="Remove finance", exact=True)
    tab_to(page, page.get_by_role("button", name="Remove revenue", exact=True))
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(remove).to_be_focused()
    page.keyboard.press("Enter")
    expect(chips(page, "tags")).to_have_text(["growth", "revenue"])
    expect(live(page, "tags")).to_have_text("finance removed, 2 tags chosen.")
    expect(page.get_by_role("button", name="Remove growth", exact=True)).to_be_focused()

    save = page.get_by_role("button", name="Save", exact=True)
    tab_to(page, save)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{url_of(tagged.event)}")
    expect(messages(page)).to_have_text("Saved.")
    assert saved_titles(tagged.event, "tags") == {"growth", "revenue"}
    assert saved_titles(tagged.event, "owners") == {"editor"}  # untouched, kept
    diff = ObjectChange.objects.get(object_id=tagged.event.pk).diff
    assert set(diff) == {"tags"}


def test_plain_clicks_never_drop_what_was_chosen(page: Page, sign_in, editor, tagged):
    sign_in(page, editor)
    page.goto(url_of(tagged.event, "edit"))
    owners = combobox(page, "Owners")
    expect(chips(page, "owners")).to_have_text(["editor"])
    owners.click()
    listbox = listbox_of(page, owners)
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option", name="editor")).to_have_attribute("aria-selected", "true")
    listbox.get_by_role("option", name=re.compile("^Dana Park")).click()
    expect(chips(page, "owners")).to_have_text(["Dana Park", "editor"])
    expect(live(page, "owners")).to_have_text("Dana Park added, 2 people chosen.")

    # Clicking a chosen one again keeps it (a plain <select multiple> would drop the rest).
    owners.click()
    listbox.get_by_role("option", name="editor").click()
    expect(chips(page, "owners")).to_have_text(["Dana Park", "editor"])
    expect(live(page, "owners")).to_have_text("editor is already chosen.")

    # A click in the tags' list adds too, beside the tag already there.
    tags = combobox(page, "Tags")
    tags.click()
    listbox_of(page, tags).get_by_role("option", name="refunds").click()
    expect(chips(page, "tags")).to_have_text(["finance", "refunds"])

    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{url_of(tagged.event)}")
    assert saved_titles(tagged.event, "owners") == {"editor", "Dana Park"}
    assert saved_titles(tagged.event, "tags") == {"finance", "refunds"}


def test_a_new_tag_is_created_in_place_and_chosen(page: Page, sign_in, editor, tagged):
    sign_in(page, editor)
    page.goto(url_of(tagged.event, "edit"))
    tags = combobox(page, "Tags")
    tags.focus()
    page.keyboard.type("loyalty")
    create = listbox_of(page, tags).get_by_role("option", name="Create tag “loyalty”")
    expect(create).to_be_visible()
    expect(live(page, "tags")).to_have_text("No results; press Enter to create tag “loyalty”")
    page.keyboard.press("Enter")

    expect(chips(page, "tags")).to_have_text(["finance", "loyalty"])
    expect(live(page, "tags")).to_have_text("Tag “loyalty” created and added, 2 tags chosen.")
    tag = Tag.objects.get(title="loyalty")
    swatch = page.locator('.picker[data-kind="tags"] .picker-chip').nth(1).locator(".dot")
    expect(swatch).to_have_css("background-color", _rgb(tag.color))
    created = ObjectChange.objects.get(object_type=ObjectType.TAG, object_id=tag.pk)
    assert created.change_set.actor == editor

    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{url_of(tagged.event)}")
    assert saved_titles(tagged.event, "tags") == {"finance", "loyalty"}
    expect(page.get_by_role("main")).to_contain_text("loyalty")


def _rgb(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def test_a_property_schema_is_edited_on_the_page(
    page: Page, page_errors: PageProblems, sign_in, admin_user, checkout
):
    sign_in(page, admin_user)
    revenue = checkout.revenue
    page.goto(url_of(revenue, "edit"))
    page.get_by_label("Data type", exact=True).select_option("Integer")
    page.get_by_label("Required", exact=True).uncheck()
    page.get_by_label("Allowed values", exact=True).fill("10\n20\nmany")
    page.get_by_label("Examples", exact=True).fill("10")
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Save", exact=True).click()
    assert refused.value.status == 400
    expect_error_status(page_errors, url_of(revenue, "edit"), 400)

    expect(page.get_by_role("alert")).to_have_text(
        "Nothing was saved: fix the fields marked below."
    )
    expect(page.get_by_label("Allowed values", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator(".errorlist")).to_contain_text(
        "Line 3: “many” isn't a whole number (the data type is Integer)."
    )
    page.get_by_label("Allowed values", exact=True).fill("10\n20\n30")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{url_of(revenue)}")
    expect(messages(page)).to_have_text("Saved.")
    revenue.refresh_from_db()
    assert (revenue.data_type, revenue.required) == ("integer", False)
    assert (revenue.allowed_values, revenue.examples) == ([10, 20, 30], [10])


def test_an_event_moves_to_another_category(page: Page, sign_in, editor, checkout):
    from tests.factories import EventCategoryFactory

    EventCategoryFactory(title="Payments", integration=checkout.category.integration)
    sign_in(page, editor)
    page.goto(url_of(checkout.event, "edit"))
    page.get_by_label("Category", exact=True).select_option("Payments")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{url_of(checkout.event)}")
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumbs")
    expect(breadcrumbs).to_contain_text("Payments")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="History").click()
    newest = page.locator("ol.history > li").first
    expect(newest.get_by_role("rowheader")).to_have_text(["Parent"])
    expect(newest).to_contain_text("Payments")


@pytest.mark.parametrize("role", ["editor", "admin_user"])
def test_the_edit_pages_pass_the_checks(page: Page, sign_in, request, role, tagged):
    user = request.getfixturevalue(role)
    sign_in(page, user)
    page.goto(url_of(tagged.event, "edit"))
    expect(chips(page, "tags")).to_have_text(["finance"])
    # With a picker's list open, so that axe reads the combobox and its listbox too.
    tags = combobox(page, "Tags")
    tags.focus()
    page.keyboard.type("r")
    page.keyboard.press("ArrowDown")
    expect(listbox_of(page, tags).get_by_role("option")).not_to_have_count(0)
    check_page(page, f"picker-edit-event-{role}")

    page.goto(url_of(tagged.revenue, "edit"))
    expect(page.get_by_label("Allowed values", exact=True)).to_be_visible()
    check_page(page, f"picker-edit-property-{role}")


def test_without_javascript_the_plain_selects_still_save(new_page, sign_in, editor, tagged):
    plain = new_page(java_script_enabled=False)
    sign_in(plain, editor)
    plain.goto(url_of(tagged.event, "edit"))
    tags = plain.get_by_label("Tags", exact=True)
    expect(tags).to_be_visible()
    expect(plain.locator("noscript").first).to_be_attached()
    tags.select_option(["finance", "growth"])
    plain.get_by_role("button", name="Save", exact=True).click()
    plain.wait_for_url(f"**{url_of(tagged.event)}")
    assert saved_titles(tagged.event, "tags") == {"finance", "growth"}


def test_any_select_with_data_picker_is_upgraded_and_searches_the_server(
    page: Page, sign_in, editor, tagged
):
    """Another page's select (another name, no option but the chosen one, a JSON endpoint
    for the rest), as htmx might swap one in: found, searched and kept in step."""
    sign_in(page, editor)
    page.goto(url_of(tagged.event, "edit"))  # a page that loads picker.js
    finance = Tag.objects.get(title="finance")
    page.evaluate(
        """(finance) => {
            const box = document.createElement("form");
            box.innerHTML = `<label for="bulk-tags">Add tags</label>
              <select multiple name="add_tags" id="bulk-tags" data-picker="tags"
                      data-picker-url="/pickers/tags/">
                <option value="${finance}" selected>finance</option></select>`;
            document.querySelector("main").append(box);
            window.CatalogPicker.scan(box);
        }""",
        str(finance.pk),
    )
    add_tags = combobox(page, "Add tags")
    bulk_chips = page.locator("#bulk-tags + .picker .picker-chip .chip-label")
    expect(bulk_chips).to_have_text(["finance"])
    add_tags.fill("rev")
    option = listbox_of(page, add_tags).get_by_role("option", name="revenue")
    expect(option).to_be_visible()  # from the server: the select had no such option
    add_tags.press("ArrowDown")
    add_tags.press("Enter")
    expect(bulk_chips).to_have_text(["finance", "revenue"])
    chosen = page.evaluate(
        "() => [...document.getElementById('bulk-tags').selectedOptions].map(o => o.text)"
    )
    assert chosen == ["finance", "revenue"]
    expect(page.get_by_role("button", name="Remove revenue", exact=True)).to_be_visible()
