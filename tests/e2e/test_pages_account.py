"""What a user keeps for themself on the catalog pages: what they follow, their email
preference and their API keys."""

import re

from django.test import Client
from playwright.sync_api import Page, expect

from catalog.models import ApiKey, EmailFrequency
from tests.e2e.catalog_pages import (
    expect_same_document,
    follow_buttons,
    htmx_settles,
    mark_document,
    messages,
    url_of,
)


def test_subscribe_and_unsubscribe_in_place_on_the_detail_page(
    page: Page, sign_in, viewer, checkout
):
    event = checkout.event
    sign_in(page, viewer)
    page.goto(url_of(event))
    subscribe, unsubscribe = follow_buttons(page)
    mark_document(page)

    subscribe.click()

    expect(unsubscribe).to_be_visible()  # swapped in place by htmx: no reload
    expect(subscribe).to_have_count(0)
    expect(unsubscribe).to_have_accessible_description(
        "You follow this and get an email when it changes."
    )
    expect_same_document(page)
    assert list(event.subscribers.all()) == [viewer]

    page.reload()
    expect(unsubscribe).to_be_visible()  # the state survives a reload
    mark_document(page)

    unsubscribe.click()

    expect(subscribe).to_be_visible()
    expect_same_document(page)
    assert not event.subscribers.exists()
    page.reload()
    expect(subscribe).to_be_visible()


def test_the_follow_button_keeps_the_keyboard_focus(page: Page, sign_in, viewer, checkout):
    sign_in(page, viewer)
    page.goto(url_of(checkout.event))
    subscribe, unsubscribe = follow_buttons(page)

    subscribe.focus()
    mark_document(page)
    with htmx_settles(page):
        page.keyboard.press("Enter")

    expect(unsubscribe).to_be_focused()  # the new button, so Enter again undoes it
    page.keyboard.press("Enter")
    expect(subscribe).to_be_focused()
    expect_same_document(page)


def test_the_subscriptions_page_lists_what_you_follow_and_unsubscribes(
    page: Page, sign_in, viewer, checkout
):
    checkout.event.subscribers.add(viewer)
    checkout.revenue.subscribers.add(viewer)
    sign_in(page, viewer)
    page.goto("/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subscriptions").click()

    page.wait_for_url("**/subscriptions/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscriptions")
    items = page.locator("main ul.results > li")
    expect(items.get_by_role("link")).to_have_text(["Order Completed", "revenue"])
    event_item = items.filter(has=page.get_by_role("link", name="Order Completed"))
    expect(event_item).to_contain_text("Event in Checkout · Web app")
    expect(items.filter(has_text="revenue")).to_contain_text(
        "Event property in Checkout \u203a Order Completed · Web app"
    )
    subscribe, unsubscribe = follow_buttons(event_item)
    mark_document(page)

    unsubscribe.click()

    expect(subscribe).to_be_visible()  # in place: the user can still change their mind
    expect_same_document(page)
    assert list(checkout.event.subscribers.all()) == []
    page.reload()
    expect(items.get_by_role("link")).to_have_text(["revenue"])

    subscribe, unsubscribe = follow_buttons(page)
    unsubscribe.click()
    expect(subscribe).to_be_visible()
    page.reload()
    expect(page.get_by_role("main")).to_contain_text("You follow nothing yet.")


def test_create_list_and_revoke_an_api_key(page: Page, sign_in, viewer):
    sign_in(page, viewer)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/")
    expect(page.get_by_role("main")).to_contain_text("You have no API keys.")

    page.get_by_label("Key name").fill("CI schema check")
    page.get_by_role("button", name="Create key").click()

    secret = page.locator("code.secret")
    expect(secret).to_have_text(re.compile(r"^ec_[A-Za-z0-9]+_\S+$"))
    expect(page.get_by_role("main")).to_contain_text("it is shown only once")
    key = secret.inner_text()
    row = (
        page.get_by_role("table", name="Your API keys")
        .get_by_role("row")
        .filter(has_text="CI schema check")
    )
    expect(row).to_have_count(1)
    prefix = row.locator("code").inner_text()  # ec_<prefix>_…
    assert key.startswith(prefix.removesuffix("…")), (key, prefix)
    expect(row).to_contain_text("Never")  # not used yet
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/event/events").status_code == 200  # the key shown is the key

    page.goto("/settings/")
    expect(page.locator("code.secret")).to_have_count(0)  # shown once
    expect(page.get_by_text(key)).to_have_count(0)

    row.get_by_role("button", name="Revoke key CI schema check").click()

    expect(messages(page)).to_have_text("The key “CI schema check” is revoked.")
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    assert ApiKey.objects.get(user=viewer).revoked_at is not None
    assert api.get("/api/v1/event/events").status_code == 401


def test_change_the_email_preference(page: Page, sign_in, viewer):
    sign_in(page, viewer)
    page.goto("/settings/")
    each_change = page.get_by_role("radio", name="An email per change")
    daily = page.get_by_role("radio", name="A daily digest")
    expect(page.get_by_role("group", name="Email me about changes")).to_be_visible()
    expect(each_change).to_be_checked()

    daily.check()
    page.get_by_role("button", name="Save email preference").click()

    expect(messages(page)).to_have_text("Your email preference is saved.")
    expect(daily).to_be_checked()
    viewer.refresh_from_db()
    assert viewer.email_frequency == EmailFrequency.DAILY
    page.goto("/subscriptions/")
    expect(page.get_by_role("main")).to_contain_text("in a daily digest")
