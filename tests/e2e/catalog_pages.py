"""What the catalog-page browser tests share: a small catalog, signing in, the header's search
field, error pages, keyboard steps and the checks every page gets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from django.test import Client
from playwright.sync_api import Locator, Page, expect

from catalog.models import Resource, User
from tests.e2e.harness import (
    CONSOLE_ERROR,
    PageProblems,
    check_accessibility,
    check_no_horizontal_scroll,
    screenshot,
)
from tests.factories import EventCategoryFactory, EventFactory, EventPropertyFactory

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's

#: A word of the descriptions of both Order Completed (published) and Refund Issued (not).
PAID = "paid"


@dataclass
class Checkout:
    """A realistic corner of a catalog (see tests/web/conftest.py ``order_completed``)."""

    category: Resource
    event: Resource
    revenue: Resource
    page_url: Resource
    draft: Resource  # unpublished: viewers never see it
    other_event: Resource  # in another integration


def build_checkout() -> Checkout:
    category = EventCategoryFactory(title="Checkout", integration__name="Web app")
    event = EventFactory(
        title="Order Completed",
        parent=category,
        description="The order was placed and paid.",
        definition="## When\n\nFires once the **payment** succeeded.",
    )
    revenue = EventPropertyFactory(title="revenue", parent=event, data_type="number", required=True)
    page_url = EventPropertyFactory(title="page_url", parent=event)
    draft = EventFactory(
        title="Refund Issued",
        parent=category,
        description="The money paid for an order went back.",
        published=False,
    )
    other_event = EventFactory(
        title="Signed Up",
        parent__title="Onboarding",
        parent__integration__name="iOS app",
        description="A person created an account.",
    )
    return Checkout(category, event, revenue, page_url, draft, other_event)


def url_of(resource: Resource, view: str = "") -> str:
    """The page of a resource: its detail, or its "history" or "edit" page."""
    return f"/resources/{resource.pk}/{view + '/' if view else ''}"


def sign_in(page: Page, user: User, server_url: str) -> None:
    """Give the page's context a session of ``user`` without the login form (which
    test_pages_browse.py tests): for tests about what comes after. The ``sign_in`` fixture
    passes the live server's URL."""
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": server_url}])


def search_box(page: Page) -> Locator:
    return page.get_by_role("searchbox", name="Search")


def suggestions(page: Page) -> Locator:
    """The list under the search field that htmx fills as one types."""
    return page.locator("#search-suggestions")


def suggestion_links(page: Page) -> Locator:
    return suggestions(page).get_by_role("listitem").get_by_role("link")


def type_in_search(page: Page, text: str) -> None:
    """Type ``text`` in the header's search field key by key, then wait for the suggestions
    for all of it (their link to the results page), so no later answer replaces them."""
    search_box(page).press_sequentially(text, delay=30)
    results_page = suggestions(page).locator(f'a[href="/search/?q={quote(text)}"]')
    expect(results_page).to_be_visible()


def search_results(page: Page) -> Locator:
    """The results on the search results page (not the suggestions)."""
    return page.locator("main ol.results > li")


def messages(page: Page) -> Locator:
    """The messages a page shows after an action ("Saved.")."""
    return page.locator("main .messages")


def follow_buttons(scope: Page | Locator) -> tuple[Locator, Locator]:
    """(Subscribe, Unsubscribe) in ``scope``: exact names, as one contains the other."""
    return (
        scope.get_by_role("button", name="Subscribe", exact=True),
        scope.get_by_role("button", name="Unsubscribe", exact=True),
    )


def expect_error_status(page_errors: PageProblems, url: str, status: int) -> None:
    """A page answered with an error ``status`` on purpose: Chromium's console line about it
    is expected, not a problem."""
    page_errors.expect(
        CONSOLE_ERROR, rf"status of {status} .*{re.escape(url)}", "an error answer on purpose"
    )


def open_error_page(page: Page, page_errors: PageProblems, url: str, status: int) -> None:
    """Open ``url`` on purpose for its error page, which must answer ``status``."""
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response)
    expect_error_status(page_errors, url, status)


def expect_site_style(page: Page) -> None:
    """The page is one of ours: header, search field and the stylesheet applied."""
    expect(page.get_by_role("link", name="Event Catalog")).to_be_visible()
    expect(search_box(page)).to_be_visible()
    header = page.locator(".site-header")
    expect(header).to_have_css("background-color", "rgb(13, 42, 74)")


def mark_document(page: Page) -> None:
    """Put a marker in the current document; ``expect_same_document`` finds it until a
    navigation or reload replaces the document."""
    page.evaluate("window.__marker = 1")


def expect_same_document(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded or navigated"


@contextmanager
def htmx_settles(page: Page) -> Iterator[None]:
    """Wait at the end of the block until htmx has settled the content it swapped in: only
    then does the new content answer to htmx (before, a form submits as a plain form)."""
    page.evaluate(
        """() => { window.__settled = new Promise(resolve =>
            document.body.addEventListener("htmx:afterSettle", resolve, {once: true})); }"""
    )
    yield
    page.evaluate("window.__settled.then(() => true)")


def focused(page: Page) -> str:
    """A short description of the focused element: tag, id and text or name."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return "";
            const text = (el.innerText || el.value || el.name || "").trim().slice(0, 40);
            return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} ${text}`.trim();
        }"""
    )


def tab_to(page: Page, target: Locator, most: int = 40) -> int:
    """Press Tab until ``target`` has the focus; returns how many presses it took."""
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{most} Tab presses never reached {target}; focus is on {focused(page)}")


PHONE = {"width": 390, "height": 844}


def check_page(page: Page, name: str) -> None:
    """What every page must pass as it is now: screenshots for people to look at (``name``
    and ``name``-phone, 390 px wide), no serious or critical WCAG A/AA violation, and no
    horizontal scrolling on a phone."""
    screenshot(page, name)
    check_accessibility(page)
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        screenshot(page, f"{name}-phone")
        check_no_horizontal_scroll(page, **PHONE)
    finally:
        page.set_viewport_size(desktop)
