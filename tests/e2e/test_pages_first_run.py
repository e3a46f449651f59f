"""The first run in a browser: the product's own 404 page for a trial user, the ReDoc page
loading nothing from other hosts (the ``page`` fixture blocks and reports any such request),
and Markdown tables and code that scroll in their own box on a phone."""

import pytest
from playwright.sync_api import Page, expect

from catalog.services.resources import resource_update
from tests.e2e.catalog_pages import PHONE, Checkout, check_page, open_error_page, url_of
from tests.e2e.harness import SCREENSHOTS_DIR, check_no_horizontal_scroll
from tests.factories import SYSTEM

LONG_CELL = "checkout_session_identifier_for_the_payment_provider_of_the_order"
LONG_CODE = (
    'analytics.track("Order Completed", {revenue: 42.5, currency: "EUR", '
    'session: "cs_live_a1b2c3d4e5f6g7h8", coupon: "SPRING10", shipping_method: "express"});'
)
DEFINITION = f"""Fires once the payment succeeded, on the confirmation page of the checkout.

| Property | Type | Meaning | Example | Since |
| --- | --- | --- | --- | --- |
| `{LONG_CELL}` | string | The payment provider's session | `cs_live_a1b2c3` | 2024-05 |
| `revenue` | number | What the customer paid, taxes included | `42.50` | 2023-01 |

```js
{LONG_CODE}
```
"""


# The product's 404 page.


@pytest.mark.parametrize("role", ["viewer", None])
def test_a_trial_user_meets_the_products_404_page(
    page: Page, page_errors, sign_in, checkout: Checkout, request, role
):
    if role:
        sign_in(page, request.getfixturevalue(role))
    open_error_page(page, page_errors, "/no-such-page/", 404)
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Back to the catalog")).to_be_visible()
    expect(page.get_by_text("URLconf")).to_have_count(0)
    check_page(page, f"first-run-404-{role or 'signed-out'}")


def test_a_hidden_resource_is_the_products_404_page_for_a_viewer(
    page: Page, page_errors, sign_in, viewer, checkout: Checkout
):
    sign_in(page, viewer)
    open_error_page(page, page_errors, url_of(checkout.draft), 404)
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    expect(page.get_by_text("Refund Issued")).to_have_count(0)


# ReDoc, from our own files only.


def test_redoc_loads_nothing_from_other_hosts(browser, live_server):
    """In a browser context of its own: the ``page`` fixture's routing (which blocks other
    hosts) keeps Chromium from starting ReDoc's web worker, made from a blob: URL, and ReDoc
    then never gets past "Loading". Here every request is recorded instead, and so are
    console errors and uncaught exceptions."""
    origin = live_server.url.rstrip("/")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=origin)
    requests: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.goto("/api/redoc/")
        # The schema is generated on the request, then ReDoc parses it: seconds.
        heading = page.get_by_role("heading", name="Event Catalog API", level=1)
        expect(heading).to_be_visible(timeout=90_000)
        # ReDoc's footer, whose logo would come from cdn.redoc.ly: left out, not fetched.
        footer = page.get_by_role("link", name="API docs by Redocly")
        expect(footer).to_be_attached()
        expect(footer.locator("img")).to_have_count(0)
        # The top of the page only: ReDoc's whole page is too tall to capture in time.
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS_DIR / "first-run-redoc.png"), timeout=60_000)
    finally:
        context.close()
    own = (f"{origin}/", "blob:", "data:")
    assert requests and [url for url in requests if not url.startswith(own)] == []
    assert f"{origin}/static/catalog/redoc-local.js" in requests
    assert problems == []


# Markdown tables and code on a phone.


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_a_wide_table_and_a_long_code_line_scroll_in_their_box_on_a_phone(
    page: Page, sign_in, checkout: Checkout, request, role
):
    resource_update(ctx=SYSTEM, resource=checkout.event, data={"definition": DEFINITION})
    sign_in(page, request.getfixturevalue(role))
    page.set_viewport_size(PHONE)
    page.goto(url_of(checkout.event))

    table_box = page.get_by_role("region", name="Table 1")
    expect(table_box.get_by_role("table")).to_be_visible()
    check_no_horizontal_scroll(page, **PHONE)

    # The table is wider than its box, which scrolls; the long name stays on one line.
    box = table_box.evaluate(
        """el => ({scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                   overflowX: getComputedStyle(el).overflowX})"""
    )
    assert box["overflowX"] == "auto"
    assert box["scrollWidth"] > box["clientWidth"], box
    cell = table_box.get_by_text(LONG_CELL)
    assert cell.evaluate("el => el.getClientRects().length") == 1  # one line, unbroken
    code = page.locator(".markdown pre")
    sizes = code.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert sizes["scroll"] > sizes["client"], sizes  # the code line scrolls, not wraps

    # The keyboard scrolls the table's box.
    table_box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=table_box.element_handle())

    page.set_viewport_size({"width": 1280, "height": 800})
    check_page(page, f"first-run-markdown-{role}")
