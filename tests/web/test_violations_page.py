"""The violations page: open violations across integrations, filters, trend, resolving."""

import datetime as dt

import pytest
from django.utils import timezone

from catalog.models import Violation, ViolationDay
from tests.factories import EventFactory, IntegrationFactory, UserFactory
from tests.web.test_pages import text_of

URL = "/violations/"


def _violation(integration, event_name, kind="wrong_type", prop="", *, event=None, **fields):
    now = timezone.now()
    return Violation.objects.create(
        integration=integration,
        event=event,
        event_name=event_name,
        property_name=prop,
        kind=kind,
        count=fields.pop("count", 1),
        first_seen_at=fields.pop("first_seen_at", now - dt.timedelta(days=3)),
        last_seen_at=fields.pop("last_seen_at", now),
        message=fields.pop("message", "Something was wrong."),
        **fields,
    )


@pytest.fixture
def web_app(db):
    return IntegrationFactory(name="Web app")


@pytest.fixture
def ios(db):
    return IntegrationFactory(name="iOS")


@pytest.fixture
def some(web_app, ios):
    event = EventFactory(title="Order Completed", parent__integration=web_app)
    wrong = _violation(
        web_app,
        "Order Completed",
        "wrong_type",
        "items",
        event=event,
        count=12,
        message="Property 'items' must be integer, not string.",
    )
    today = timezone.now().astimezone(dt.UTC).date()
    ViolationDay.objects.create(violation=wrong, day=today, count=7)
    ViolationDay.objects.create(violation=wrong, day=today - dt.timedelta(days=2), count=5)
    ViolationDay.objects.create(violation=wrong, day=today - dt.timedelta(days=20), count=99)
    missing = _violation(web_app, "Order Completed", "missing_required", "total", event=event)
    unknown = _violation(ios, "Screen Viewed", "unknown_event", count=3)
    return {"wrong": wrong, "missing": missing, "unknown": unknown, "event": event}


def test_lists_open_violations_grouped_by_event_with_counts_and_trend(editor_web, some):
    response = editor_web.get(URL)
    assert response.status_code == 200
    text = text_of(response)
    assert "3 open violations" in text
    html = response.content.decode().split("<table", 1)[1]
    # Grouped by event: Order Completed's two kinds sit together, then Screen Viewed.
    order = html.index("Order Completed")
    assert order < html.index("Missing required property") < html.index("Screen Viewed")
    assert html.index("Wrong type") < html.index("Screen Viewed")
    assert f'href="/resources/{some["event"].pk}/"' in html
    assert "Property &#x27;items&#x27; must be integer, not string." in html
    # The 14-day trend counts only the last 14 days (12 of them here).
    assert "Occurrences: 12 in 14 days, at most 7 a day" in html
    assert "Occurrences: none in 14 days" in html
    assert html.count('value="Resolve"') == 0  # buttons say their name in text
    assert text.count("Resolve") >= 3
    assert "iOS" in text and "Web app" in text


def test_filters_by_integration_kind_and_name(editor_web, some, ios):
    text = text_of(editor_web.get(URL, {"integration": str(ios.pk)}))
    assert "1 open violation matching the filters" in text
    assert "Screen Viewed" in text and "Order Completed" not in text
    text = text_of(editor_web.get(URL, {"kind": "missing_required"}))
    assert "1 open violation" in text and "total" in text and "Screen Viewed" not in text
    text = text_of(editor_web.get(URL, {"q": "order"}))
    assert "2 open violations" in text and "Screen Viewed" not in text


@pytest.mark.parametrize(
    "params",
    [
        {"integration": "00000000-0000-0000-0000-000000000000"},
        {"integration": "not-a-uuid\x00"},
        {"kind": "exploded"},
        {"q": "a\x00b"},
        {"q": "x" * 300},
        {"page": "99999999999999999999"},
        {"page": "-1"},
        {"status": "\x00"},
    ],
)
def test_bad_filters_are_left_out_and_said(editor_web, some, params):
    response = editor_web.get(URL, params)
    assert response.status_code == 200
    text = text_of(response)
    if "page" in params or "status" in params:
        assert "Screen Viewed" in text or "Order Completed" in text
    else:
        assert "Some filters were left out" in text
        assert "3 open violations" in text


def test_resolving_moves_it_to_the_resolved_tab(editor_web, editor, some):
    editor.first_name, editor.last_name = "Ada", "Lovelace"
    editor.save()
    wrong = some["wrong"]
    response = editor_web.post(
        f"/violations/{wrong.pk}/resolve/", {"next": "/violations/?kind=wrong_type"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/violations/?kind=wrong_type"
    wrong.refresh_from_db()
    assert wrong.resolved_by == editor and wrong.resolved_at is not None
    text = text_of(editor_web.get(URL))
    assert "2 open violations" in text
    assert "Resolved: Wrong type: Order Completed.items. It reopens if it happens again." in text
    text = text_of(editor_web.get(URL, {"status": "resolved"}))
    assert "1 resolved violation" in text
    assert "Resolved by Ada Lovelace just now" in text


def test_resolve_goes_back_only_to_this_page(editor_web, some):
    pk = some["unknown"].pk
    response = editor_web.post(f"/violations/{pk}/resolve/", {"next": "https://evil.example/"})
    assert response["Location"] == "/violations/"


def test_resolve_of_an_unknown_violation_is_a_404(editor_web, some):
    assert editor_web.post("/violations/999999/resolve/").status_code == 404
    assert editor_web.post("/violations/99999999999999999999999/resolve/").status_code == 404
    assert editor_web.get(f"/violations/{some['wrong'].pk}/resolve/").status_code == 405


def test_viewers_may_neither_read_nor_resolve(viewer_web, some):
    response = viewer_web.get(URL)
    assert response.status_code == 403
    assert "Only editors and admins can read what trackers sent." in text_of(response)
    assert "Screen Viewed" not in text_of(response)
    response = viewer_web.post(f"/violations/{some['wrong'].pk}/resolve/")
    assert response.status_code == 403
    assert Violation.objects.filter(resolved_at__isnull=False).count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client, some):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_admins_see_it_too(admin_web, some):
    assert "3 open violations" in text_of(admin_web.get(URL))


def test_empty_states(editor_web, db):
    assert "No open violations" in text_of(editor_web.get(URL))
    assert "No violation has been resolved yet" in text_of(
        editor_web.get(URL, {"status": "resolved"})
    )


def _many(count):
    integration = IntegrationFactory()
    resolver = UserFactory(first_name="Grace", last_name="Hopper")
    today = timezone.now().astimezone(dt.UTC).date()
    for n in range(count):
        event = EventFactory(title=f"Event {n}", parent__integration=integration)
        v = _violation(integration, f"Event {n}", "wrong_type", "p", event=event)
        ViolationDay.objects.create(violation=v, day=today, count=n + 1)
        r = _violation(integration, f"Event {n}", "not_allowed", "p", event=event)
        Violation.objects.filter(pk=r.pk).update(resolved_at=timezone.now(), resolved_by=resolver)


@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.parametrize("status", ["open", "resolved"])
def test_queries_are_constant(editor_web, count, status, django_assert_max_num_queries):
    _many(count)
    with django_assert_max_num_queries(6):
        response = editor_web.get(URL, {"status": status})
    assert text_of(response).count("Event ") >= count
    if status == "resolved":
        assert text_of(response).count("Resolved by Grace Hopper") == count
