"""The integrations and collections pages in a browser, as each role that may see them, at
1280 and 390 px (``check_page``): changing an integration's validation mode, creating a write
key (its secret shown once) and revoking it, and following a collection."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from catalog.models import (
    DailyVolume,
    ObjectChange,
    ResourceSeen,
    ValidationMode,
    Violation,
    ViolationKind,
    WriteKey,
)
from catalog.selectors import utc_today
from catalog.services.writekeys import write_key_authenticate, write_key_create
from tests.e2e.catalog_pages import (
    Checkout,
    check_page,
    expect_error_status,
    expect_same_document,
    htmx_settles,
    mark_document,
    messages,
)
from tests.factories import SYSTEM, CollectionFactory, TagFactory

DEFINITION = """## What belongs here

Every step from the cart to the confirmation page. The funnel dashboard:
https://bi.example.com/dashboards/checkout-funnel-conversion-by-step-and-device

```js
analytics.track("Order Completed", {revenue: 42.5, currency: "EUR", session: "cs_live_a1b2c3"});
```
"""


@pytest.fixture
def tracked(checkout: Checkout, admin_user, editor) -> Checkout:
    """The checkout catalog with traffic, violations, a write key and a collection."""
    integration = checkout.event.integration
    integration.description = "The shop website, sending through Segment's analytics.js."
    integration.save()
    now = timezone.now()
    today = utc_today()
    for resource, volumes in ((checkout.event, [40, 0, 12, 31, 7]), (checkout.draft, [3, 1])):
        ResourceSeen.objects.create(resource=resource, first_seen_at=now, last_seen_at=now)
        for days_ago, count in enumerate(volumes):
            DailyVolume.objects.create(
                resource=resource, day=today - dt.timedelta(days=days_ago), count=count
            )
    for name, prop, kind, count in (
        ("Checkout Started", "", ViolationKind.UNKNOWN_EVENT, 120),
        ("Order Completed", "revenue", ViolationKind.WRONG_TYPE, 8),
        ("Order Completed", "coupon_code_applied_at_checkout", ViolationKind.UNKNOWN_PROPERTY, 3),
    ):
        Violation.objects.create(
            integration=integration,
            event_name=name,
            property_name=prop,
            kind=kind,
            count=count,
            first_seen_at=now - dt.timedelta(days=3),
            last_seen_at=now,
        )
    key, _ = write_key_create(ctx=SYSTEM, integration=integration, name="Website production")
    key.created_by = admin_user
    key.save()
    collection = CollectionFactory(
        title="Checkout funnel",
        icon="🛒",
        description="From the cart to the payment, on every platform.",
        definition=DEFINITION,
    )
    for resource in (checkout.event, checkout.revenue, checkout.draft, checkout.other_event):
        resource.collections.add(collection)
    collection.owners.add(editor)
    collection.tags.add(TagFactory(title="core-funnel", color="#b42318"))
    CollectionFactory(title="Onboarding", description="Signing up and the first week.")
    return checkout


def h1(page: Page):
    return page.get_by_role("heading", level=1)


@pytest.mark.parametrize("role", ["admin_user", "editor"])
def test_the_integrations_pages_as_admin_and_editor(page: Page, sign_in, tracked, role, request):
    user = request.getfixturevalue(role)
    sign_in(page, user)
    page.goto("/integrations/")
    expect(h1(page)).to_have_text("Integrations")
    table = page.get_by_role("table", name="Integrations, with their events and open violations")
    web_app = table.get_by_role("row").filter(has_text="Web app")
    expect(web_app).to_contain_text("Discover")
    expect(web_app).to_contain_text("2 events")
    expect(web_app.get_by_role("link", name="3 open violations of Web app")).to_have_attribute(
        "href", re.compile(r"^/violations/\?integration=")
    )
    expect(table.get_by_role("row").filter(has_text="iOS app")).to_contain_text("Never")
    check_page(page, f"integrations-{user.username}")

    web_app.get_by_role("link", name="Web app", exact=True).click()
    expect(h1(page)).to_have_text("Web app")
    busiest = page.get_by_role("table", name="Busiest events of the last 30 days")
    expect(busiest.get_by_role("row").nth(1)).to_contain_text("Order Completed")
    expect(busiest.get_by_role("row").nth(1)).to_contain_text("90")
    expect(busiest.get_by_role("img").first).to_be_visible()  # the daily chart
    kinds = page.get_by_role("table", name="Open violations of Web app by kind")
    expect(kinds.get_by_role("link")).to_have_text(
        ["Unknown event", "Wrong type", "Unknown property"]
    )
    mode = page.get_by_role("region", name="Validation mode")
    if user.role == "admin":
        expect(mode.get_by_role("radio", name="Discover")).to_be_checked()
        expect(page.get_by_role("region", name="Write keys")).to_contain_text("Website production")
    else:
        expect(mode.get_by_role("radio")).to_have_count(0)
        expect(mode).to_contain_text("Only admins can change the validation mode")
        expect(page.get_by_role("region", name="Write keys")).to_have_count(0)
    check_page(page, f"integration-{user.username}")


def test_viewers_are_refused_the_integrations(page: Page, sign_in, tracked, viewer, page_errors):
    sign_in(page, viewer)
    response = page.goto("/integrations/")
    assert response is not None and response.status == 403
    expect_error_status(page_errors, "/integrations/", 403)
    expect(page.get_by_role("main")).to_contain_text("Only editors and admins see the integrations")
    check_page(page, "integrations-viewer-refused")


def test_an_admin_changes_the_validation_mode(
    page: Page, sign_in, tracked, admin_user, page_errors
):
    integration = tracked.event.integration
    sign_in(page, admin_user)
    page.goto(f"/integrations/{integration.pk}/")
    mode = page.get_by_role("region", name="Validation mode")
    block = mode.get_by_role("radio", name="Block")
    # Each choice says what it does (its description).
    expect(block).to_have_accessible_description(re.compile("^Only events registered"))
    block.check()
    limit = mode.get_by_role("spinbutton", name="Properties per event")
    limit.fill("99999999999")
    mode.get_by_role("button", name="Save validation settings").click()
    # Too big: the message is next to the field, the choice is kept.
    expect(mode.locator(".errorlist")).to_contain_text("less than or equal to 100000")
    expect(mode.get_by_role("radio", name="Block")).to_be_checked()
    expect_error_status(page_errors, f"/integrations/{integration.pk}/", 400)
    check_page(page, "integration-settings-error")
    mode = page.get_by_role("region", name="Validation mode")
    mode.get_by_role("spinbutton", name="Properties per event").fill("300")
    mode.get_by_role("button", name="Save validation settings").click()

    expect(messages(page)).to_have_text("Saved. The validation mode is Block.")
    expect(page.locator(".kind-line")).to_contain_text("validation mode Block")
    expect(page.get_by_role("radio", name="Block")).to_be_checked()
    integration.refresh_from_db()
    assert integration.validation_mode == ValidationMode.BLOCK
    assert integration.max_properties_per_event == 300
    change = ObjectChange.objects.get(object_id=integration.pk)
    assert change.diff["validation_mode"] == ["discover", "block"]


def test_an_admin_creates_a_write_key_then_revokes_it(page: Page, sign_in, tracked, admin_user):
    integration = tracked.event.integration
    sign_in(page, admin_user)
    page.goto(f"/integrations/{integration.pk}/")
    keys = page.get_by_role("region", name="Write keys")
    expect(keys.get_by_label("Key name")).to_have_attribute("required", "")
    keys.get_by_label("Key name").fill("Android app")
    keys.get_by_role("button", name="Create write key").click()

    expect(h1(page)).to_have_text("New write key for Web app")
    secret = page.locator("#write-key-secret").inner_text()
    key = WriteKey.objects.get(name="Android app")
    assert secret.startswith(f"wk_{key.prefix}_")
    assert write_key_authenticate(secret) == key
    usage = page.get_by_role("region", name="Send an event with it")
    expect(usage.locator("pre").first).to_contain_text(f"curl -u '{secret}:'")
    expect(usage.locator("pre").first).to_contain_text("/v1/batch")
    check_page(page, "write-key-created")

    page.get_by_role("link", name="Back to Web app").click()
    expect(h1(page)).to_have_text("Web app")
    assert secret not in page.content()  # shown once
    row = page.get_by_role("row").filter(has_text="Android app")
    expect(row).to_contain_text(f"wk_{key.prefix}_…")
    expect(row).to_contain_text("admin")
    row.get_by_role("link", name="Revoke write key Android app").click()

    expect(h1(page)).to_have_text("Revoke the write key “Android app”?")
    check_page(page, "write-key-revoke")
    page.get_by_role("button", name="Revoke the key").click()

    expect(messages(page)).to_contain_text("The write key “Android app” is revoked")
    expect(page.get_by_role("row").filter(has_text="Android app")).to_contain_text("Revoked")
    assert write_key_authenticate(secret) is None
    assert ObjectChange.objects.filter(object_id=key.pk).count() == 2  # created, revoked


@pytest.mark.parametrize("role", ["admin_user", "editor", "viewer"])
def test_the_collections_pages(page: Page, sign_in, tracked, role, request):
    user = request.getfixturevalue(role)
    sign_in(page, user)
    page.goto("/collections/")
    expect(h1(page)).to_have_text("Collections")
    funnel = page.locator(".collection-card").filter(has_text="Checkout funnel")
    # Viewers count what they may see: the draft event isn't.
    resources = "3 resources" if user.role == "viewer" else "4 resources"
    expect(funnel).to_contain_text(resources)
    check_page(page, f"collections-{user.username}")

    funnel.get_by_role("link", name="Checkout funnel").click()
    expect(page.get_by_role("heading", level=1, name="Checkout funnel")).to_be_visible()
    definition = page.get_by_role("region", name="Definition")
    expect(definition.get_by_role("heading", name="What belongs here")).to_be_visible()
    table = page.get_by_role("table", name="Resources in Checkout funnel")
    expect(table.get_by_role("row").filter(has_text="Signed Up")).to_contain_text("iOS app")
    expect(table.get_by_role("row").filter(has_text="Refund Issued")).to_have_count(
        0 if user.role == "viewer" else 1
    )
    check_page(page, f"collection-{user.username}")


def test_following_a_collection_updates_the_button_and_the_count(
    page: Page, sign_in, tracked, viewer
):
    sign_in(page, viewer)
    page.goto("/collections/")
    page.get_by_role("link", name="Checkout funnel").click()
    mark_document(page)
    follow = page.locator(".collection-follow")
    expect(follow).to_contain_text("0 followers")
    with htmx_settles(page):
        follow.get_by_role("button", name="Follow", exact=True).click()
    expect(follow.get_by_role("button", name="Unfollow")).to_be_focused()
    expect(follow).to_contain_text("1 follower")
    expect_same_document(page)  # htmx swapped the button in place
    page.reload()
    expect(page.locator(".collection-follow")).to_contain_text("You follow this collection")
    with htmx_settles(page):
        page.get_by_role("button", name="Unfollow").click()
    expect(page.locator(".collection-follow")).to_contain_text("0 followers")
    expect(page.get_by_role("button", name="Follow", exact=True)).to_be_visible()
