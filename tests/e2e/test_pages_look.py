"""Every main catalog page, with realistic content: a screenshot, no serious or critical WCAG
A/AA violation (axe-core), no horizontal scrolling at 390 px, and (the ``page`` fixture) no
JavaScript error, broken file of ours or request to another host. Then the keyboard."""

from collections.abc import Callable

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from catalog.services.keys import api_key_create
from catalog.services.resources import resource_update
from tests.e2e.catalog_pages import (
    PAID,
    PASSWORD,
    Checkout,
    check_page,
    expect_error_status,
    focused,
    open_error_page,
    search_box,
    search_results,
    suggestion_links,
    tab_to,
    type_in_search,
    url_of,
)
from tests.e2e.harness import PageProblems
from tests.factories import SYSTEM, TagFactory, TeamFactory

DEFINITION = """## When

Fires once the **payment** succeeded, on the confirmation page of the checkout. Not sent again
when the page is reloaded. The payment flow: https://wiki.example.com/payments/checkout-confirmation-flow

| Property | Type | Meaning |
| --- | --- | --- |
| `revenue` | number | What the customer paid, in the order's currency, taxes included |
| `checkout_session_identifier_for_the_payment_provider` | string | The provider's session |

```js
analytics.track("Order Completed", {revenue: 42.5, currency: "EUR", session: "cs_live_a1b2c3"});
```

- Sent by the web app only.
- See also ![the funnel](https://example.com/funnel.png).
"""


@pytest.fixture
def rich_checkout(checkout: Checkout, editor, viewer) -> Checkout:
    """The checkout catalog as people fill it in: owners, tags, teams, a long definition
    with a table and code, changes in the history, things the viewer follows, an API key."""
    event = checkout.event
    resource_update(
        ctx=SYSTEM,
        resource=event,
        data={
            "definition": DEFINITION,
            "verified": True,
            "owners": [str(editor.pk)],
            "tags": [
                str(TagFactory(title="revenue", color="#1a7f37").pk),
                str(TagFactory(title="core-funnel", color="#b42318").pk),
            ],
            "teams": [str(TeamFactory(name="Payments").pk)],
        },
    )
    resource_update(
        ctx=SYSTEM,
        resource=event,
        data={"description": "Placed and paid, see https://wiki.example.com/payments/order-states"},
    )
    resource_update(
        ctx=SYSTEM,
        resource=checkout.page_url,
        data={
            "description": "The confirmation page's address.",
            "allowed_values": [],
            "examples": [
                "https://shop.example.com/checkout/confirmation?order=1234567&currency=EUR"
            ],
        },
    )
    event.subscribers.add(viewer)
    checkout.revenue.subscribers.add(viewer)
    api_key_create(ctx=SYSTEM, user=viewer, name="Nightly schema check")
    return checkout


# Each main page: who looks at it, how to get there, and its h1.
Opener = Callable[[Page, Checkout, PageProblems], str]
PAGES: dict[str, tuple[str | None, Opener]] = {}


def main_page(name: str, role: str | None = "viewer") -> Callable[[Opener], Opener]:
    def register(opener: Opener) -> Opener:
        PAGES[name] = (role, opener)
        return opener

    return register


@main_page("login", role=None)
def _login(page, data, problems):
    page.goto("/login/")
    return "Log in"


@main_page("login-refused", role=None)
def _login_refused(page, data, problems):
    page.goto("/login/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
    return "Log in"


@main_page("login-locked", role=None)
def _login_locked(page, data, problems):
    """Someone elsewhere tried too many passwords for "viewer": even the right one is refused,
    and the page says when to try again."""
    AccessAttempt.objects.create(
        username="viewer",
        ip_address="203.0.113.7",
        user_agent="elsewhere",
        failures_since_start=settings.LOGIN_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )
    page.goto("/login/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed attempts to log in. Try again in 15 minutes."
    )
    expect_error_status(problems, "/login/", 429)
    return "Log in"


@main_page("home")
def _home(page, data, problems):
    page.goto("/")
    return "Catalog"


@main_page("events-filtered", role="editor")
def _events(page, data, problems):
    page.goto("/events/")
    filters = page.get_by_role("form", name="Filter events")
    filters.get_by_label("Integration").select_option(label="Web app")
    filters.get_by_label("Published").select_option(label="No")
    filters.get_by_label("Sort by").select_option(label="Last change first")
    filters.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/events/?*published=no*")
    expect(page.get_by_role("table", name="Events").get_by_role("link")).to_have_text(
        ["Refund Issued", "Checkout"]
    )
    return "Events"


@main_page("search-results")
def _search(page, data, problems):
    page.goto(f"/search/?q={PAID}")
    expect(search_results(page)).not_to_have_count(0)
    return f"Results for “{PAID}”"


@main_page("search-suggestions")
def _suggestions(page, data, problems):
    page.goto("/events/")
    type_in_search(page, "o")  # a prefix: several results
    expect(suggestion_links(page)).not_to_have_count(0)
    return "Events"


@main_page("event")
def _event(page, data, problems):
    page.goto(url_of(data.event))
    expect(page.get_by_role("table", name="Properties of Order Completed")).to_be_visible()
    return "Order Completed"


@main_page("property")
def _property(page, data, problems):
    page.goto(url_of(data.page_url))
    return "page_url"


@main_page("category")
def _category(page, data, problems):
    page.goto(url_of(data.category))
    return "Checkout"


@main_page("history")
def _history(page, data, problems):
    page.goto(url_of(data.event, "history"))
    expect(page.locator("ol.history > li")).not_to_have_count(0)
    return "Order Completed"


@main_page("edit", role="editor")
def _edit(page, data, problems):
    page.goto(url_of(data.event, "edit"))
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("table")).to_be_visible()  # the live preview has loaded
    return "Order Completed"


@main_page("edit-invalid", role="editor")
def _edit_invalid(page, data, problems):
    url = url_of(data.event, "edit")
    page.goto(url)
    page.get_by_label("Title", exact=True).fill("")
    with page.expect_navigation() as saved:
        page.get_by_role("button", name="Save", exact=True).click()
    assert saved.value.status == 400
    expect_error_status(problems, url, 400)
    expect(page.get_by_role("alert")).to_have_text(
        "Nothing was saved: fix the fields marked below."
    )
    expect(page.get_by_label("Title", exact=True)).to_have_attribute("aria-invalid", "true")
    return "Order Completed"


@main_page("subscriptions")
def _subscriptions(page, data, problems):
    page.goto("/subscriptions/")
    expect(page.locator("main ul.results > li")).to_have_count(2)
    return "Subscriptions"


@main_page("settings")
def _settings(page, data, problems):
    page.goto("/settings/")
    page.get_by_label("Key name").fill("A key for the dashboard exporter")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("code.secret")).to_be_visible()  # the new key, shown once
    return "Settings"


@main_page("not-found")
def _not_found(page, data, problems):
    open_error_page(page, problems, url_of(data.draft), 404)
    return "Page not found"


@main_page("forbidden")
def _forbidden(page, data, problems):
    open_error_page(page, problems, url_of(data.event, "edit"), 403)
    return "You can't do this"


# Bugs these checks found in the pages, to fix there (then remove the entry): name -> reason.
#: Pages with a known bug, as `name: reason`; each case is a strict xfail until fixed.
PAGE_BUGS: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=PAGE_BUGS[name]))
        if name in PAGE_BUGS
        else name
        for name in PAGES
    ],
)
def test_every_main_page_is_accessible_and_fits_a_phone(
    name, page: Page, page_errors, request, sign_in, rich_checkout
):
    role, opener = PAGES[name]
    if role:
        sign_in(page, request.getfixturevalue(role))

    heading = opener(page, rich_checkout, page_errors)

    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_page(page, f"page-{name}")


def test_tab_from_the_top_reaches_the_skip_link_then_the_search_field(
    page: Page, sign_in, viewer, checkout
):
    sign_in(page, viewer)
    page.goto("/events/")
    skip = page.get_by_role("link", name="Skip to content")

    page.keyboard.press("Tab")

    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Event Catalog")).to_be_focused()
    page.keyboard.press("Tab")
    expect(search_box(page)).to_be_focused()

    # The skip link skips the header: the next Tab lands in the main content.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), (
        focused(page)
    )
    expect(
        page.get_by_role("form", name="Filter events").get_by_label("Integration")
    ).to_be_focused()


def test_the_keyboard_reaches_and_opens_a_search_suggestion(page: Page, sign_in, viewer, checkout):
    sign_in(page, viewer)
    page.goto("/")
    tab_to(page, search_box(page))
    type_in_search(page, PAID)  # key by key, where the focus is
    first = suggestion_links(page).first
    expect(first).to_have_text("Order Completed")

    page.keyboard.press("Tab")

    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{url_of(checkout.event)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Order Completed")
