"""The resource page as a steward runs it: activity, the property schema with how often each
property arrives, received payloads (PII masked, editors and admins only), violations, how to
send it, and who owns and follows it; in a constant number of queries."""

import base64
import datetime as dt
import json
import re
import shlex
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import DailyVolume, LoggedEvent, ResourceSeen, Violation
from catalog.selectors import PII_MASK
from catalog.services.eventlog import log_events
from catalog.services.writekeys import write_key_create
from catalog.web.views import FOLLOWERS_SHOWN, RECENT_EVENTS_SHOWN
from tests.factories import (
    SYSTEM,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
    UserFactory,
)
from tests.web.test_pages import text_of as _text_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def text_of(response) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return unescape(_text_of(response))


def _page(client, resource):
    response = client.get(reverse("web:resource", args=[resource.pk]))
    assert response.status_code == 200
    return response


def _send(event, *calls, key=None):
    """Send Segment track calls of `event` to our /v1/batch, as a tracker would."""
    if key is None:
        _, key = write_key_create(ctx=SYSTEM, integration=event.integration)
    batch = [
        {"type": "track", "event": event.title, "userId": user, "properties": props}
        for user, props in calls
    ]
    basic = base64.b64encode(f"{key}:".encode()).decode()
    response = Client().post(
        "/v1/batch",
        json.dumps({"batch": batch}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return key


@pytest.fixture
def received(order_completed):
    """Order Completed received three times: revenue each time, the PII email twice, and
    once a property the plan doesn't know (a violation, in flag mode)."""
    integration = order_completed.integration
    integration.validation_mode = "flag"
    integration.save()
    _send(
        order_completed,
        ("u-1", {"revenue": 10, "email": "ann@example.com"}),
        ("u-2", {"revenue": 20.5, "email": "bob@example.com"}),
        ("u-3", {"revenue": 30, "coupon": "SUMMER"}),
    )
    return order_completed


# What a steward sees


def test_an_event_page_puts_activity_and_the_schema_first(editor_web, received):
    response = _page(editor_web, received)
    text = text_of(response)
    html = response.content.decode()
    assert re.search(r"Activity Last seen just now Last 7 days 3 Last 30 days 3", text)
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+">just now</time>', html)
    assert 'aria-label="Received in the last 30 days: 3 in 30 days' in html
    # The schema: name, type, required, PII, allowed values, how often it came.
    assert "email string Optional PII Any 67% (2)" in text
    assert "revenue number Required No Any 100% (3)" in text
    # The sections in the order a steward reads them.
    order = ["Activity", "Properties", "Definition", "Recent events", "Violations"]
    start = text.index("Activity")  # after the header, whose links name pages too
    positions = [text.index(heading, start) for heading in order]
    assert positions == sorted(positions)
    assert text.index("How to send it") > positions[-1]


def test_a_rare_property_is_present_less_than_1_percent(editor_web, order_completed):
    from catalog.selectors import utc_today

    rare = EventPropertyFactory(parent=order_completed, title="rare")
    DailyVolume.objects.create(resource=order_completed, day=utc_today(), count=1000)
    DailyVolume.objects.create(resource=rare, day=utc_today(), count=3)
    text = text_of(_page(editor_web, order_completed))
    assert "rare string Optional No Any <1% (3)" in text
    assert "revenue number Required No Any 0% (0)" in text


def test_the_schema_caps_long_lists_of_allowed_values(editor_web, order_completed):
    plan = EventPropertyFactory(
        parent=order_completed, title="plan", allowed_values=[f"v{i}" for i in range(12)]
    )
    text = text_of(_page(editor_web, order_completed))
    assert "v0 , v1 , v2 , v3 , v4 , v5 , v6 , v7 all 12" in text
    assert "v8" not in text
    every = " , ".join(f"v{i}" for i in range(12))
    assert f"Allowed values {every} Examples" in text_of(_page(editor_web, plan))


def test_an_event_never_received_says_so(editor_web, order_completed):
    text = text_of(_page(editor_web, order_completed))
    assert "Never seen. No tracker has sent “Order Completed” yet: how to send it ." in text
    assert "revenue number Required No Any — " in text  # no share without a volume
    assert "Recent events None in the event log." in text
    assert "Last 7 days" not in text


def test_recent_events_show_payloads_with_pii_masked(editor_web, received):
    html = _page(editor_web, received).content.decode()
    text = text_of(_page(editor_web, received))
    section = html[html.index('id="recent-heading"') : html.index('id="violations-heading"')]
    assert section.count("<details>") == 3
    assert "ann@example.com" not in html and "bob@example.com" not in html
    assert PII_MASK in section
    assert "&quot;revenue&quot;: 20.5" in section  # pretty JSON, not masked
    assert "user u-3 · 2 properties" in text and "user u-1 · 2 properties" in text
    assert 'class="payload" tabindex="0"' in section  # scrolls inside its box, by keyboard too


def test_recent_events_are_the_newest_of_this_event_only(editor_web, order_completed):
    other = EventFactory(title="Signed Up", parent=order_completed.parent)
    now = timezone.now()
    rows = [
        LoggedEvent(
            integration=order_completed.integration,
            name="Order Completed",
            received_at=now - dt.timedelta(minutes=i),
            user_id=f"user-{i}",
            properties={"n": i},
            format="segment",
        )
        for i in range(RECENT_EVENTS_SHOWN + 3)
    ]
    rows.append(
        LoggedEvent(
            integration=other.integration,
            name="Signed Up",
            received_at=now,
            user_id="someone-else",
            format="segment",
        )
    )
    rows.append(  # a page call of the same name isn't this event
        LoggedEvent(
            integration=order_completed.integration,
            name="Order Completed",
            type="page",
            received_at=now,
            user_id="a-page-view",
            format="segment",
        )
    )
    log_events(rows)
    text = text_of(_page(editor_web, order_completed))
    shown = re.findall(r"user (user-\d+)", text)
    assert shown == [f"user-{i}" for i in range(RECENT_EVENTS_SHOWN)]
    assert "someone-else" not in text and "a-page-view" not in text


def test_viewers_see_no_payloads_violations_or_follower_names(viewer_web, viewer, received):
    received.subscribers.add(UserFactory(first_name="Zoe", last_name="Ng"), viewer)
    assert Violation.objects.filter(event=received).exists()
    response = _page(viewer_web, received)
    text = text_of(response)
    assert "Recent events" not in text and "u-1" not in text
    assert "Violations" not in text and "coupon" not in text
    assert "2 followers" in text and "Zoe Ng" not in text
    # What everyone may know: activity, schema, how to send it.
    assert "Last 30 days 3" in text and "How to send it" in text


def test_editors_and_admins_see_open_violations_with_counts(admin_web, received):
    response = _page(admin_web, received)
    text = text_of(response)
    assert re.search(r"Violations .*Unknown property coupon 1 \S+ \S+ just now", text)
    html = response.content.decode()
    assert f"/violations/?integration={received.integration_id}&amp;q=Order%20Completed" in html
    assert f"/event-log/?integration={received.integration_id}&amp;name=Order%20Completed" in html
    Violation.objects.filter(event=received).update(resolved_at=timezone.now())
    text = text_of(_page(admin_web, received))
    assert "Unknown property" not in text and "None open" in text


# How to send it


def test_the_page_offers_snippets_built_from_the_schema(editor_web, order_completed):
    EventPropertyFactory(
        parent=order_completed, title="plan", data_type="string", allowed_values=["pro", "free"]
    )
    response = _page(editor_web, order_completed)
    snippets = response.context["snippets"]
    assert [s.label for s in snippets] == [
        "JavaScript (analytics.js)",
        "Python (analytics-python)",
        "curl",
    ]
    text = text_of(response)
    assert 'analytics.track("Order Completed", { "revenue": 9.99, // Optional:' in text
    assert '"email": "text", "plan": "pro" });' in text
    assert 'analytics.track("user-123", "Order Completed", {' in text
    assert 'curl -u "$WRITE_KEY:"' in text and "http://testserver/v1/track" in text
    html = response.content.decode()
    assert html.count('<details class="snippet"') == 3
    assert '<details class="snippet" open>' in html  # the first one shows without a click


def test_the_curl_snippet_is_accepted_by_our_endpoint(editor_web, order_completed):
    snippets = _page(editor_web, order_completed).context["snippets"]
    words = shlex.split(snippets[2].code.replace("\\\n", " "))
    body, url = words[words.index("-d") + 1], words[-1]
    _, key = write_key_create(ctx=SYSTEM, integration=order_completed.integration)
    basic = base64.b64encode(f"{key}:".encode()).decode()
    response = Client().post(
        url.removeprefix("http://testserver"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.json() == {"success": True}
    text = text_of(_page(editor_web, order_completed))
    assert "Last 30 days 1" in text
    assert "revenue number Required No Any 100% (1)" in text


# Properties and categories


def test_a_property_page_shows_its_activity_values_and_event(editor_web, received):
    email = received.children.get(title="email")
    email.allowed_values = None
    email.examples = ["ann@example.com"]
    email.save()
    response = _page(editor_web, email)
    text = text_of(response)
    assert "Last 7 days 2 Last 30 days 2" in text
    assert "Data type string (String)" in text
    assert "Allowed values Any Examples ann@example.com Event Order Completed" in text
    assert f'href="/resources/{received.pk}/">Order Completed</a>' in response.content.decode()
    assert "Recent events" not in text  # the event's page has them


def test_a_property_page_shows_its_recent_values_to_editors(editor_web, viewer_web, received):
    revenue = received.children.get(title="revenue")
    email = received.children.get(title="email")
    text = text_of(_page(editor_web, revenue))
    assert re.search(r"Recent values .* Received Value (\S+ \S+ (10|20\.5|30) ){3}", text)
    text = text_of(_page(editor_web, email))
    assert "masked, as PII" in text
    assert text.count(PII_MASK) == 2 and "Not sent" in text  # u-3 sent no email
    assert "example.com" not in text
    assert "Recent values" not in text_of(_page(viewer_web, revenue))


def test_a_category_page_lists_its_events_with_activity(editor_web, received):
    quiet = EventFactory(title="checkout Started", parent=received.parent)
    text = text_of(_page(editor_web, received.parent))
    # By title as a person reads it: case-insensitive.
    assert re.search(r"checkout Started Never 0 0 No .*Order Completed just now 3 2 No", text)
    assert quiet.title in text


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _grow_event(event, n, today):
    for i in range(n):
        prop = EventPropertyFactory(parent=event, title=f"prop_{n}_{i}", allowed_values=["a"])
        prop.tags.add(TagFactory())
        ResourceSeen.objects.create(
            resource=prop, first_seen_at=timezone.now(), last_seen_at=timezone.now()
        )
        DailyVolume.objects.create(resource=prop, day=today, count=i + 1)
        event.subscribers.add(UserFactory())
        event.owners.add(UserFactory())
    log_events(
        LoggedEvent(
            integration=event.integration,
            name=event.title,
            received_at=timezone.now(),
            properties={"email": "x@example.com", f"prop_{n}_0": 1},
            format="segment",
        )
        for _ in range(n)
    )
    Violation.objects.bulk_create(
        Violation(
            integration=event.integration,
            event=event,
            event_name=event.title,
            property_name=f"unknown_{n}_{i}",
            kind="unknown_property",
            count=i + 1,
            first_seen_at=timezone.now(),
            last_seen_at=timezone.now(),
        )
        for i in range(n)
    )


def test_the_event_page_costs_the_same_queries_for_2_or_20_properties(
    editor_web, received, django_assert_max_num_queries
):
    from catalog.selectors import utc_today

    url = reverse("web:resource", args=[received.pk])
    _grow_event(received, 2, utc_today())
    small = _queries(editor_web, url)
    _grow_event(received, 20, utc_today())
    assert _queries(editor_web, url) == small
    with django_assert_max_num_queries(17):
        text = text_of(editor_web.get(url))
    assert "prop_20_19" in text and "unknown_20_19" in text


def test_the_category_and_property_pages_cost_the_same_queries_for_more_rows(
    editor_web, received, django_assert_max_num_queries
):
    category = reverse("web:resource", args=[received.parent_id])
    prop = reverse("web:resource", args=[received.children.get(title="revenue").pk])
    small = {url: _queries(editor_web, url) for url in (category, prop)}
    for i in range(20):
        event = EventFactory(parent=received.parent, title=f"Event {i}")
        ResourceSeen.objects.create(
            resource=event, first_seen_at=timezone.now(), last_seen_at=timezone.now()
        )
        EventPropertyFactory(parent=event)
    assert {url: _queries(editor_web, url) for url in (category, prop)} == small
    with django_assert_max_num_queries(14):
        assert "Event 19" in text_of(editor_web.get(category))
    with django_assert_max_num_queries(15):
        editor_web.get(prop)


# Owners and followers


def test_people_appear_by_name_sorted(editor_web, editor, order_completed):
    ann = UserFactory(username="ann", first_name="Ann", last_name="Lee")
    zed = UserFactory(username="aardvark", first_name="zed", last_name="Young")
    bob = UserFactory(username="bob")  # no name: the username
    order_completed.owners.add(zed, bob, ann)
    order_completed.subscribers.add(zed, bob, ann, editor)
    text = text_of(_page(editor_web, order_completed))
    assert "Owners Ann Lee, bob, zed Young" in text
    assert "4 followers Ann Lee bob editor (you) zed Young" in text
    assert "aardvark" not in text


def test_a_long_follower_list_is_capped(editor_web, order_completed):
    order_completed.subscribers.add(*[UserFactory() for _ in range(FOLLOWERS_SHOWN + 2)])
    text = text_of(_page(editor_web, order_completed))
    assert f"{FOLLOWERS_SHOWN + 2} followers" in text
    assert f"The first {FOLLOWERS_SHOWN} by name." in text


def test_subscribing_with_htmx_updates_the_button_count_and_list(
    editor_web, editor, order_completed
):
    order_completed.subscribers.add(UserFactory(first_name="Ann", last_name="Lee"))
    page = _page(editor_web, order_completed).content.decode()
    assert '<input type="hidden" name="show" value="followers">' in page
    assert "1 follower</a>" in page
    url = reverse("web:resource_subscribe", args=[order_completed.pk])
    response = editor_web.post(
        url, {"action": "subscribe", "show": "followers"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert ">Unsubscribe</button>" in html and "2 followers</a>" in html
    assert f'<div id="followers-{order_completed.pk}" class="followers" hx-swap-oob="true">' in html
    assert re.search(r"Ann Lee</li><li>editor <span[^>]*>\(you\)", html)
    response = editor_web.post(
        url, {"action": "unsubscribe", "show": "followers"}, HTTP_HX_REQUEST="true"
    )
    assert "1 follower</a>" in response.content.decode()
    # Elsewhere (the subscriptions page) the button comes alone.
    response = editor_web.post(url, {"action": "subscribe"}, HTTP_HX_REQUEST="true")
    assert "hx-swap-oob" not in response.content.decode()
    assert "follower" not in text_of(response)


def test_subscribing_without_javascript_redirects_to_the_page(viewer_web, order_completed):
    url = reverse("web:resource_subscribe", args=[order_completed.pk])
    response = viewer_web.post(url, {"action": "subscribe", "show": "followers"}, follow=True)
    text = text_of(response)
    assert "You follow “Order Completed”." in text
    assert "1 follower" in text and ">Unsubscribe</button>" in response.content.decode()


def test_bad_ids_are_404(viewer_web):
    for bad in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", "%00"):
        response = viewer_web.get(f"/resources/{bad}/")
        assert response.status_code == 404
