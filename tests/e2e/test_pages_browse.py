"""Logging in and out, finding an event by its description and opening it, and what a viewer
can't find: the catalog pages in Chromium, on the live server."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.catalog_pages import (
    PAID,
    PASSWORD,
    expect_site_style,
    open_error_page,
    search_box,
    search_results,
    suggestion_links,
    suggestions,
    type_in_search,
    url_of,
)
from tests.e2e.harness import login


@pytest.mark.parametrize("role", ["admin_user", "editor", "viewer"])
def test_every_role_logs_in_and_out_from_the_header(page: Page, request, role):
    user = request.getfixturevalue(role)

    login(page, user.username, PASSWORD)

    assert page.url.endswith("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalog")
    log_out = page.get_by_role("banner").get_by_role("button", name=re.compile(r"^Log out"))
    expect(log_out).to_have_accessible_name(f"Log out ({user.username})")

    log_out.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert page.url.endswith("/login/")
    page.goto("/events/")
    assert page.url.endswith("/login/?next=/events/")  # the session is gone


def test_search_as_you_type_then_enter_then_open_the_event(page: Page, sign_in, viewer, checkout):
    sign_in(page, viewer)
    page.goto("/")

    type_in_search(page, PAID)

    # As you type: a link per result, named by its title, its kind and place beside it.
    links = suggestion_links(page)
    expect(links).to_have_count(1)
    expect(links.first).to_have_text("Order Completed")
    expect(suggestions(page).get_by_role("listitem").first).to_contain_text(
        "Event in Checkout · Web app"
    )
    assert page.url.endswith("/")  # no navigation yet

    search_box(page).press("Enter")

    page.wait_for_url(f"**/search/?q={PAID}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{PAID}”")
    expect(search_box(page)).to_have_value(PAID)
    results = search_results(page)
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Event in Checkout · Web app")
    expect(results.first).to_contain_text("The order was placed and paid.")

    results.first.get_by_role("link", name="Order Completed").click()

    page.wait_for_url(f"**{url_of(checkout.event)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Order Completed")
    crumbs = page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link")
    expect(crumbs).to_have_text(["Catalog", "Web app", "Checkout"])

    crumbs.last.click()

    page.wait_for_url(f"**{url_of(checkout.category)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")
    events = page.get_by_role("table", name="Events in Checkout")
    expect(events.get_by_role("link", name="Order Completed")).to_be_visible()


def test_search_with_javascript_off_still_works_with_enter(new_page, sign_in, viewer, checkout):
    page = new_page(java_script_enabled=False)
    sign_in(page, viewer)
    page.goto("/")

    assert page.evaluate("typeof window.htmx") == "undefined"  # the page's scripts didn't run

    search_box(page).fill(PAID)
    search_box(page).press("Enter")

    page.wait_for_url(f"**/search/?q={PAID}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{PAID}”")
    expect(search_results(page).get_by_role("link")).to_have_text(["Order Completed"])


def test_a_viewer_cannot_find_or_open_an_unpublished_event(
    page: Page, new_page, page_errors, sign_in, viewer, editor, checkout
):
    # The same search finds the draft for an editor: the word is right, only the role differs.
    editors_page = new_page()
    sign_in(editors_page, editor)
    editors_page.goto(f"/search/?q={PAID}")
    found = search_results(editors_page).get_by_role("link")
    expect(found).to_have_count(2)
    assert sorted(found.all_inner_texts()) == ["Order Completed", "Refund Issued"]

    sign_in(page, viewer)
    page.goto("/")
    type_in_search(page, PAID)
    expect(suggestion_links(page)).to_have_text(["Order Completed"])

    search_box(page).press("Enter")
    page.wait_for_url(f"**/search/?q={PAID}")
    expect(search_results(page).get_by_role("link")).to_have_text(["Order Completed"])

    page.get_by_role("link", name="Events", exact=True).click()
    page.wait_for_url("**/events/")
    expect(page.get_by_role("status")).to_have_text("2 events")
    expect(
        page.get_by_role("table", name="Events").get_by_role("link", name="Refund Issued")
    ).to_have_count(0)

    open_error_page(page, page_errors, url_of(checkout.draft), 404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page).to_have_title("Not found · Event Catalog")
    expect(page.get_by_text("Refund Issued")).to_have_count(0)
    expect_site_style(page)


def test_a_viewer_gets_no_edit_link_and_a_403_page_on_the_edit_url(
    page: Page, page_errors, sign_in, viewer, checkout
):
    sign_in(page, viewer)
    page.goto(url_of(checkout.event))
    expect(page.get_by_role("heading", level=1)).to_have_text("Order Completed")
    expect(page.get_by_role("link", name="History", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("edit", re.I))).to_have_count(0)

    open_error_page(page, page_errors, url_of(checkout.event, "edit"), 403)

    expect(page.get_by_role("heading", level=1)).to_have_text("You can't do this")
    expect(page.get_by_role("main")).to_contain_text(
        "Only editors and admins can change the catalog."
    )
    expect(page.get_by_role("textbox", name="Definition")).to_have_count(0)
    expect_site_style(page)
