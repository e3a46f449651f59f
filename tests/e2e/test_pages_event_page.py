"""The event's page as a steward runs it, in the browser: activity, schema, received payloads
(PII masked), violations and how to send it, for each role at 1280 and 390 px; the follower
count following the Subscribe button."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from catalog.models import DailyVolume, LoggedEvent, ResourceSeen, Violation
from catalog.selectors import PII_MASK, utc_today
from catalog.services.eventlog import log_events
from catalog.services.resources import resource_update
from tests.e2e.catalog_pages import (
    Checkout,
    check_page,
    expect_same_document,
    follow_buttons,
    mark_document,
    url_of,
)
from tests.factories import SYSTEM, EventPropertyFactory, TagFactory, TeamFactory, UserFactory

LONG_VALUE = "https://shop.example.com/checkout/confirmation?" + "order=1234567&" * 12


@pytest.fixture
def tracked(checkout: Checkout, editor, viewer) -> Checkout:
    """The checkout with what trackers sent: volumes on 30 days, payloads (one with a PII
    email and a long unbroken value), a violation; owners, tags, followers with names."""
    event = checkout.event
    email = EventPropertyFactory(title="email", parent=event, pii=True, examples=["a@b.c"])
    plan = EventPropertyFactory(
        title="plan", parent=event, data_type="string", allowed_values=["free", "pro", "team"]
    )
    ann = UserFactory(username="ann", first_name="Ann", last_name="Lee")
    resource_update(
        ctx=SYSTEM,
        resource=event,
        data={
            "owners": [str(ann.pk)],  # who then follows it
            "tags": [str(TagFactory(title="revenue", color="#1a7f37").pk)],
            "teams": [str(TeamFactory(name="Payments").pk)],
        },
    )
    now = timezone.now()
    today = utc_today()
    for resource, share in ((event, 1.0), (checkout.revenue, 1.0), (email, 0.6), (plan, 0.3)):
        ResourceSeen.objects.create(
            resource=resource, first_seen_at=now - dt.timedelta(days=40), last_seen_at=now
        )
        DailyVolume.objects.bulk_create(
            DailyVolume(
                resource=resource,
                day=today - dt.timedelta(days=day),
                count=round((40 + (day * 7) % 23) * share),
            )
            for day in range(0, 30, 2)
        )
    log_events(
        LoggedEvent(
            integration=event.integration,
            name=event.title,
            received_at=now - dt.timedelta(minutes=i),
            user_id=f"user-{i}",
            message_id=f"m-{i}",
            properties={
                "revenue": 10 + i,
                "email": f"person{i}@example.com",
                "plan": "pro",
                "page_url": LONG_VALUE,
            },
            format="segment",
        )
        for i in range(4)
    )
    Violation.objects.create(
        integration=event.integration,
        event=event,
        event_name=event.title,
        property_name="plan",
        kind="not_allowed",
        count=12,
        first_seen_at=now - dt.timedelta(days=3),
        last_seen_at=now,
        message='plan: "enterprise" is not one of the allowed values.',
    )
    return checkout


@pytest.mark.parametrize("role", ["viewer", "editor", "admin_user"])
def test_the_event_page_for_each_role(role, page: Page, request, sign_in, tracked):
    sign_in(page, request.getfixturevalue(role))
    page.goto(url_of(tracked.event))
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Order Completed")
    expect(main.get_by_role("img", name="Received in the last 30 days")).to_be_visible()
    schema = page.get_by_role("table", name="Properties of Order Completed")
    expect(schema.get_by_role("row", name="revenue")).to_contain_text("100%")
    expect(schema.get_by_role("row", name="plan")).to_contain_text("free, pro, team")
    expect(page.get_by_role("complementary", name="About")).to_contain_text("Ann Lee")
    send = main.get_by_role("region", name="How to send it")
    expect(send).to_contain_text('analytics.track("Order Completed", {')
    if role == "viewer":
        expect(page.get_by_role("heading", name="Recent events")).to_have_count(0)
        expect(page.get_by_role("heading", name="Violations")).to_have_count(0)
        expect(main).not_to_contain_text("user-0")
    else:
        recent = main.get_by_role("region", name="Recent events")
        expect(recent.locator("details")).to_have_count(4)
        recent.locator("summary").first.click()
        payload = recent.get_by_label("Properties received at").first
        expect(payload).to_contain_text(PII_MASK)
        expect(payload).to_contain_text('"revenue": 10')
        expect(main).not_to_contain_text("person0@example.com")
        violations = main.get_by_role("table", name="What received events")
        expect(violations).to_contain_text("Value not allowed")
        main.get_by_text("Python (analytics-python)").click()
    check_page(page, f"event-page-{role}")


def test_a_never_seen_event_says_so(page: Page, sign_in, editor, checkout):
    sign_in(page, editor)
    page.goto(url_of(checkout.event))
    expect(page.get_by_role("main")).to_contain_text(
        "Never seen. No tracker has sent “Order Completed” yet"
    )
    page.get_by_role("link", name="how to send it").click()
    expect(page.get_by_role("heading", name="How to send it")).to_be_in_viewport()
    check_page(page, "event-page-never-seen")


def test_the_property_and_category_pages(page: Page, sign_in, editor, tracked):
    sign_in(page, editor)
    page.goto(url_of(tracked.revenue))
    expect(page.get_by_role("main")).to_contain_text("Last 30 days")
    check_page(page, "event-page-property")
    page.goto(url_of(tracked.category))
    events = page.get_by_role("table", name="Events in Checkout")
    expect(events.get_by_role("row", name="Order Completed")).to_contain_text("just now")
    check_page(page, "event-page-category")


def test_the_follower_count_follows_the_subscribe_button(page: Page, sign_in, editor, tracked):
    sign_in(page, editor)
    page.goto(url_of(tracked.event))
    subscribe, unsubscribe = follow_buttons(page)
    about = page.get_by_role("complementary", name="About")
    count = page.locator("form.subscribe .follower-count")
    expect(count).to_have_text("1 follower")
    mark_document(page)

    subscribe.click()

    expect(unsubscribe).to_be_visible()
    expect(count).to_have_text("2 followers")
    expect(about.locator(".followers li")).to_have_text(["Ann Lee", "editor (you)"])
    expect(unsubscribe).to_be_focused()
    expect_same_document(page)

    unsubscribe.click()

    expect(subscribe).to_be_visible()
    expect(count).to_have_text("1 follower")
    expect(about.locator(".followers li")).to_have_text(["Ann Lee"])
    expect_same_document(page)
    page.reload()
    expect(count).to_have_text("1 follower")
