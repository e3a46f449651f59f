"""The events list as each role sees it, with last seen and the last 30 days, at 1280 and
390 px; then an editor's bulk edit, by mouse and by keyboard, end to end."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from catalog.models import ChangeSet, DailyVolume, Resource, ResourceSeen
from tests.e2e.catalog_pages import Checkout, check_page, messages, tab_to
from tests.factories import TagFactory, UserFactory


@pytest.fixture
def tracked(checkout: Checkout, editor) -> Checkout:
    """The checkout catalog with traffic: Order Completed busy and fresh, Signed Up stale,
    the draft never seen; owners and a tag to show."""
    now = timezone.now()
    event = checkout.event
    ResourceSeen.objects.create(
        resource=event, first_seen_at=now - dt.timedelta(days=60), last_seen_at=now
    )
    today = now.astimezone(dt.UTC).date()
    DailyVolume.objects.bulk_create(
        DailyVolume(resource=event, day=today - dt.timedelta(days=n), count=10 + (n * 7) % 23)
        for n in range(30)
    )
    ResourceSeen.objects.create(
        resource=checkout.other_event,
        first_seen_at=now - dt.timedelta(days=90),
        last_seen_at=now - dt.timedelta(days=40),
    )
    event.owners.add(UserFactory(username="ada", first_name="Ada", last_name="Lovelace"))
    event.tags.add(TagFactory(title="revenue", color="#1a7f37"))
    TagFactory(title="checkout-v2", color="#8250df")
    return checkout


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_the_events_list_for_each_role(page: Page, sign_in, tracked, role, request):
    user = request.getfixturevalue({"admin": "admin_user"}.get(role, role))
    sign_in(page, user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/events/")
    table = page.get_by_role("table", name="Events")
    row = table.get_by_role("row", name="Order Completed")
    expect(row.locator("td.last-seen time")).to_have_text("just now")
    expect(row.locator("td.volume svg")).to_have_attribute(
        "aria-label", "Last 30 days: " + _thirty_days() + " in 30 days" + _peak()
    )
    expect(row).to_contain_text("Ada Lovelace")
    stale = table.get_by_role("row", name="Signed Up")
    expect(stale.locator("td.last-seen time")).to_have_text("1 month ago")
    boxes = page.get_by_role("checkbox", name="Select Order Completed")
    if role == "viewer":
        expect(boxes).to_have_count(0)
        expect(page.get_by_text("Bulk edit")).to_have_count(0)
        expect(table.get_by_role("row", name="Refund Issued")).to_have_count(0)
    else:
        expect(boxes).to_have_count(1)
        expect(table.get_by_role("row", name="Refund Issued").locator(".never")).to_have_text(
            "Never"
        )
    # Sorting by the column header.
    page.get_by_role("button", name="Last 30 days").click()
    page.wait_for_url("**sort=-volume_30d**")
    expect(page.get_by_role("columnheader", name="Last 30 days")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(table.locator("tbody tr").first).to_contain_text("Order Completed")
    page.goto("/events/")
    if role != "viewer":
        page.get_by_text("Bulk edit: change several events at once").click()
    check_page(page, f"events-list-{role}")


def _counts() -> list[int]:
    return [10 + (n * 7) % 23 for n in range(30)]


def _thirty_days() -> str:
    return f"{sum(_counts()):,}"


def _peak() -> str:
    counts = _counts()  # index: days ago
    peak = max(counts)
    # The chart names the earliest busiest day: the largest "days ago" among the peaks.
    days_ago = max(n for n, count in enumerate(counts) if count == peak)
    day = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=days_ago)
    return f", at most {peak} a day ({day:%b} {day.day})"


def test_an_editor_bulk_edits_ticked_events_with_the_mouse(page: Page, sign_in, tracked, editor):
    sign_in(page, editor)
    page.goto("/events/")
    page.get_by_role("checkbox", name="Select Order Completed").check()
    page.get_by_role("checkbox", name="Select Refund Issued").check()
    page.get_by_text("Bulk edit: change several events at once").click()
    expect(page.locator("[data-selected-count]")).to_have_text("(2 ticked)")
    bulk = page.locator("#bulk-form")
    bulk.get_by_label("Verified", exact=True).select_option("yes")
    bulk.get_by_label("Add tags").select_option(label="checkout-v2")
    page.get_by_role("button", name="Apply to the chosen events").click()

    page.wait_for_url("**/events/bulk/**")
    expect(messages(page)).to_have_text("Changed 2 events: Verified: yes; Add tags: checkout-v2.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulk edit: 2 events changed")
    check_page(page, "events-bulk-done")
    verified = set(Resource.objects.filter(verified=True).values_list("title", flat=True))
    assert verified == {"Order Completed", "Refund Issued"}
    assert ChangeSet.objects.filter(actor=editor).count() == 1

    page.get_by_role("link", name="Back to the events").click()
    page.wait_for_url("**/events/")
    row = page.get_by_role("row", name="Refund Issued")
    expect(row).to_contain_text("Verified")
    expect(row).to_contain_text("checkout-v2")


def test_select_all_on_the_page_and_a_keyboard_bulk_edit(page: Page, sign_in, tracked, editor):
    sign_in(page, editor)
    page.goto("/events/")
    select_page = page.get_by_role("checkbox", name="Select every event on this page")
    tab_to(page, select_page, most=80)
    page.keyboard.press("Space")
    for title in ("Order Completed", "Refund Issued", "Signed Up"):
        expect(page.get_by_role("checkbox", name=f"Select {title}")).to_be_checked()
    summary = page.get_by_text("Bulk edit: change several events at once")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-selected-count]")).to_have_text("(3 ticked)")
    pii = page.locator("#bulk-form").get_by_label("PII", exact=True)
    tab_to(page, pii)
    pii.select_option("yes")  # a select's own keys differ by platform: set it as the user would
    tab_to(page, page.get_by_role("button", name="Apply to the chosen events"), most=60)
    page.keyboard.press("Enter")

    page.wait_for_url("**/events/bulk/**")
    expect(messages(page)).to_have_text("Changed 3 events: PII: yes.")
    assert Resource.objects.filter(entity_type="event", pii=True).count() == 3


def test_every_matching_event_is_confirmed_first(page: Page, sign_in, tracked, editor):
    sign_in(page, editor)
    page.goto(f"/events/?integration={tracked.event.integration_id}")
    page.get_by_text("Bulk edit: change several events at once").click()
    page.get_by_label("Every event matching these filters (2)").check()
    page.locator("#bulk-form").get_by_label("Published", exact=True).select_option("no")
    page.get_by_role("button", name="Apply to the chosen events").click()
    expect(page.get_by_role("heading", name="Change 2 events?")).to_be_visible()
    check_page(page, "events-bulk-confirm")
    page.get_by_role("button", name="Change 2 events").click()
    page.wait_for_url("**/events/bulk/**")
    expect(messages(page)).to_have_text("Changed 1 event: Published: no.")  # one was a draft
    assert not Resource.objects.get(pk=tracked.event.pk).published
