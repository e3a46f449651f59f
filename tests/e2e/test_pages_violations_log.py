"""The violations page and the event log in a browser, as editor and admin at 1280 and 390 px:
axe-core, no sideways scroll, no JavaScript error; resolving a violation; the event log
showing a new event without a reload (htmx polling, shortened here)."""

import re

import pytest
from playwright.sync_api import Page, expect

from catalog.models import ValidationMode
from catalog.selectors import PII_MASK
from catalog.services.context import ChangeContext
from catalog.services.ingest import TrackedEvent, ingest
from tests.e2e.catalog_pages import (
    check_page,
    expect_same_document,
    mark_document,
    messages,
    open_error_page,
)
from tests.factories import EventPropertyFactory


def _send(integration, *events: TrackedEvent) -> None:
    ingest(ctx=ChangeContext.for_write_key(integration), events=list(events))


@pytest.fixture
def traffic(checkout):
    """What a tracker sent: fine events, wrong types, an unknown event and property, PII."""
    event = checkout.event
    EventPropertyFactory(title="email", parent=event, pii=True)
    integration = event.integration
    integration.validation_mode = ValidationMode.FLAG
    integration.save()
    _send(
        integration,
        TrackedEvent(
            "segment",
            name="Order Completed",
            properties={
                "revenue": 42.5,
                "email": "ada@example.com",
                "page_url": "https://shop.example.com/checkout/confirmation?session=cs_live_a1b2c3d4e5f6g7h8",
                "cart": {"items": [{"sku": "SKU-1", "quantity": 2, "price": 19.99}] * 3},
            },
            user_id="user-42",
        ),
        *[
            TrackedEvent("segment", name="Order Completed", properties={"revenue": "twelve"})
            for _ in range(3)
        ],
        TrackedEvent("segment", name="Order Completed", properties={"coupon_code": "X"}),
        TrackedEvent("segment", name="Checkout Abandoned", anonymous_id="anon-7"),
        TrackedEvent("segment", type="identify", user_id="user-42", properties={"plan": "pro"}),
    )
    return checkout


@pytest.mark.parametrize("role", ["editor", "admin_user"])
def test_violations_page_looks_right(page: Page, sign_in, traffic, role, request):
    sign_in(page, request.getfixturevalue(role))
    page.goto("/violations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Violations")
    table = page.get_by_role("table", name="Open violations, grouped by event")
    expect(table.get_by_role("button", name=re.compile("^Resolve"))).to_have_count(5)
    expect(table).to_contain_text("Wrong type")
    expect(table).to_contain_text("Unknown event")
    expect(table.locator("svg.daily-chart").first).to_be_visible()
    check_page(page, f"violations-{role}")


def test_resolving_a_violation(page: Page, sign_in, traffic, editor):
    editor.first_name, editor.last_name = "Ada", "Lovelace"
    editor.save()
    sign_in(page, editor)
    page.goto("/violations/?kind=wrong_type")
    table = page.get_by_role("table", name=re.compile("Open violations"))
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one violation
    table.get_by_role("button", name="Resolve Wrong type of revenue on Order Completed").click()
    page.wait_for_url("**/violations/?kind=wrong_type")
    expect(messages(page)).to_contain_text("Resolved: Wrong type: Order Completed.revenue.")
    expect(page.get_by_text("No open violation matches these filters.")).to_be_visible()
    page.get_by_role("navigation", name="Violations").get_by_role("link", name="Resolved").click()
    resolved = page.get_by_role("table", name="Resolved violations")
    expect(resolved).to_contain_text("Resolved by Ada Lovelace")
    check_page(page, "violations-resolved")
    # It happens again: it reopens.
    _send(
        traffic.event.integration,
        TrackedEvent("segment", name="Order Completed", properties={"revenue": "again"}),
    )
    page.goto("/violations/?kind=wrong_type")
    expect(page.get_by_role("table", name=re.compile("Open violations"))).to_contain_text("4")


@pytest.mark.parametrize("role", ["editor", "admin_user"])
def test_event_log_looks_right(page: Page, sign_in, traffic, role, request):
    sign_in(page, request.getfixturevalue(role))
    page.goto("/event-log/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Event log")
    table = page.get_by_role("table", name=re.compile("Received events"))
    expect(table.locator("tbody tr")).to_have_count(7)
    # One batch: the rows share their time. The one with the whole payload:
    first = table.locator("tbody tr", has_text="user-42").filter(has_text="Order Completed")
    first.locator("summary").click()
    payload = first.locator("pre")
    expect(payload).to_contain_text(f'"email": "{PII_MASK}"')
    expect(payload).not_to_contain_text("ada@example.com")
    expect(table.get_by_role("link", name="Order Completed").first).to_be_visible()
    check_page(page, f"event-log-{role}")


def test_event_log_shows_new_events_without_a_reload(
    page: Page, sign_in, traffic, editor, settings
):
    settings.EVENT_LOG_POLL_SECONDS = 0.5
    # The polls pass through this thread: none reaches the server while `_send` writes here.
    # (The test database is SQLite in shared-cache mode, where a read during another
    # connection's write fails at once with "table is locked" instead of waiting.)
    page.route(re.compile(r"/event-log/\?.*after="), lambda route: route.continue_())
    sign_in(page, editor)
    page.goto("/event-log/")
    rows = page.get_by_role("table", name=re.compile("Received events")).locator("tbody tr")
    expect(rows).to_have_count(7)
    mark_document(page)
    # The reader is reading a payload: it stays open while new rows come in.
    rows.nth(0).locator("summary").click()
    _send(
        traffic.event.integration,
        TrackedEvent("segment", name="Cart Viewed", properties={"items": 3}, user_id="u-9"),
    )
    expect(rows).to_have_count(8)
    expect(rows.first).to_contain_text("Cart Viewed")
    expect(page.locator("#event-log-live")).to_contain_text("1 new event")
    expect(rows.nth(1).locator("details")).to_have_attribute("open", "")
    expect_same_document(page)
    # Paused: nothing more comes in.
    page.get_by_role("link", name="Pause updates").click()
    expect(page.get_by_text("Updates paused.")).to_be_visible()
    mark_document(page)
    _send(traffic.event.integration, TrackedEvent("segment", name="Cart Emptied"))
    page.wait_for_timeout(1500)
    expect(rows).to_have_count(8)
    expect_same_document(page)


def test_viewers_get_neither_page(page: Page, sign_in, traffic, viewer, page_errors):
    sign_in(page, viewer)
    open_error_page(page, page_errors, "/violations/", 403)
    expect(page.get_by_role("main")).to_contain_text("Only editors and admins")
    open_error_page(page, page_errors, "/event-log/", 403)
    expect(page.get_by_role("main")).not_to_contain_text("ada@example.com")
