"""What really arrives, as the catalog shows it: first/last seen and volumes of events and
properties, stale events, and violations of the plan (API, admin and pages).

The ingestion pipeline fills these tables; here the rows are made with the ORM.
"""

import datetime as dt
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import (
    DailyVolume,
    Resource,
    ResourceSeen,
    Violation,
    ViolationKind,
)
from catalog.selectors import tracking_of
from tests.api.conftest import DETAIL_QUERIES
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
)
from tests.web.conftest import _client as _web_client

pytestmark = pytest.mark.django_db

#: Half an hour before midnight UTC: "today" is 9 March, whatever the clock of the machine.
NOW = dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
EVENTS = "/api/v1/event/events"
PROPERTIES = "/api/v1/event/event_properties"
CATEGORIES = "/api/v1/event/category"
TRACKING_FIELDS = {"first_seen_at", "last_seen_at", "volume_7d", "volume_30d"}


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def editor_web(editor):
    return _web_client(editor)


@pytest.fixture
def viewer_web(viewer):
    return _web_client(viewer)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def seen(resource, first: dt.datetime, last: dt.datetime) -> ResourceSeen:
    return ResourceSeen.objects.create(resource=resource, first_seen_at=first, last_seen_at=last)


def volumes(resource, counts: dict[int, int]) -> None:
    """`counts`: days ago -> count."""
    DailyVolume.objects.bulk_create(
        DailyVolume(resource=resource, day=days_ago(n), count=count) for n, count in counts.items()
    )


def violation(event=None, *, integration=None, **fields) -> Violation:
    integration = integration or event.integration
    defaults = {
        "event_name": event.title if event else "Ghost Event",
        "property_name": "",
        "kind": ViolationKind.UNKNOWN_EVENT if event is None else ViolationKind.WRONG_TYPE,
        "count": 1,
        "first_seen_at": NOW - dt.timedelta(days=3),
        "last_seen_at": NOW - dt.timedelta(hours=1),
        "message": "",
        "example": {},
    }
    return Violation.objects.create(integration=integration, event=event, **{**defaults, **fields})


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
        assert response.status_code == 200, response.content[:500]
    return len(captured.captured_queries)


@pytest.fixture
def order():
    """A published event (seen, with volumes) and a property of it (seen once, today)."""
    event = EventFactory(title="Order Completed")
    seen(event, NOW - dt.timedelta(days=40), NOW - dt.timedelta(minutes=5))
    volumes(event, {0: 5, 3: 10, 20: 100, 45: 1000})
    prop = EventPropertyFactory(title="revenue", parent=event)
    seen(prop, NOW - dt.timedelta(hours=2), NOW - dt.timedelta(hours=2))
    volumes(prop, {0: 2})
    return event


# --- the fields -----------------------------------------------------------------------------


def test_an_event_carries_first_and_last_seen_and_its_volumes(as_viewer, order):
    body = as_viewer.get(f"{EVENTS}/{order.pk}").json()
    assert body["first_seen_at"] == "2026-01-28T23:30:00Z"
    assert body["last_seen_at"] == "2026-03-09T23:25:00Z"
    assert (body["volume_7d"], body["volume_30d"]) == (15, 115)
    listed = as_viewer.get(EVENTS).json()["results"]
    assert [{k: row[k] for k in TRACKING_FIELDS} for row in listed] == [
        {k: body[k] for k in TRACKING_FIELDS}
    ]


def test_a_property_carries_them_too(as_editor, order):
    prop = order.children.get()
    for url in (f"{PROPERTIES}/{prop.pk}", f"/api/v1/resource/all/{prop.pk}"):
        body = as_editor.get(url).json()
        assert body["first_seen_at"] == body["last_seen_at"] == "2026-03-09T21:30:00Z"
        assert (body["volume_7d"], body["volume_30d"]) == (2, 2)
    assert as_editor.get(PROPERTIES).json()["results"][0]["volume_7d"] == 2


def test_never_seen_is_null_and_zero(as_editor):
    event = EventFactory()
    prop = EventPropertyFactory(parent=event)
    for url in (f"{EVENTS}/{event.pk}", f"{PROPERTIES}/{prop.pk}", EVENTS, PROPERTIES):
        body = as_editor.get(url).json()
        row = body["results"][0] if "results" in body else body
        assert {k: row[k] for k in TRACKING_FIELDS} == {
            "first_seen_at": None,
            "last_seen_at": None,
            "volume_7d": 0,
            "volume_30d": 0,
        }


def test_categories_have_no_tracking_fields(as_editor, order):
    category_id = order.parent_id
    for body in (
        as_editor.get(f"{CATEGORIES}/{category_id}").json(),
        as_editor.get(CATEGORIES).json()["results"][0],
        as_editor.get(f"/api/v1/resource/all/{category_id}").json(),
    ):
        assert not TRACKING_FIELDS & set(body)


def test_the_resource_query_carries_them_for_events_and_properties(as_editor, order):
    rows = as_editor.get("/api/v1/resource/catalog").json()["results"]
    by_title = {row["title"]: row for row in rows}
    assert by_title["Order Completed"]["volume_30d"] == 115
    assert by_title["revenue"]["volume_7d"] == 2
    assert not TRACKING_FIELDS & set(by_title[order.parent.title])


def test_create_and_update_answers_carry_them(as_editor, order):
    response = as_editor.patch(f"{EVENTS}/{order.pk}", {"description": "Paid."}, format="json")
    assert response.status_code == 200
    assert response.json()["volume_30d"] == 115
    response = as_editor.post(
        EVENTS, {"title": "Brand New", "parent": str(order.parent_id)}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["last_seen_at"] is None
    assert response.json()["volume_7d"] == 0


def test_read_only_tracking_fields_sent_back_are_ignored(as_editor, order):
    body = as_editor.get(f"{EVENTS}/{order.pk}").json()
    body.update(volume_7d=999999, last_seen_at=None, description="Sent back")
    response = as_editor.patch(f"{EVENTS}/{order.pk}", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["volume_7d"] == 15
    assert response.json()["last_seen_at"] == "2026-03-09T23:25:00Z"


# --- the volume windows -----------------------------------------------------------------------


def test_seven_days_are_today_and_the_six_before_thirty_days_the_twenty_nine_before(as_editor):
    event = EventFactory()
    volumes(event, {0: 1, 6: 10, 7: 100, 29: 1000, 30: 10000, 400: 100000})
    body = as_editor.get(f"{EVENTS}/{event.pk}").json()
    assert (body["volume_7d"], body["volume_30d"]) == (11, 1111)


def test_days_are_utc_days(monkeypatch, as_editor):
    """Half an hour after midnight UTC it is a new day, even where it is still yesterday."""
    event = EventFactory()
    volumes(event, {6: 1, 7: 10})  # 3 and 2 March
    assert as_editor.get(f"{EVENTS}/{event.pk}").json()["volume_7d"] == 1
    later = dt.datetime(2026, 3, 10, 0, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert as_editor.get(f"{EVENTS}/{event.pk}").json()["volume_7d"] == 0  # 4 to 10 March
    # A clock in another zone names the same instant: the day is still 10 March.
    local = later.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    monkeypatch.setattr(timezone, "now", lambda: local)
    assert as_editor.get(f"{EVENTS}/{event.pk}").json()["volume_7d"] == 0


def test_tracking_of_many_resources_in_one_query(django_assert_num_queries):
    events = [EventFactory() for _ in range(3)]
    volumes(events[0], {0: 3, 10: 4})
    seen(events[1], NOW, NOW)
    with django_assert_num_queries(1):
        found = tracking_of([e.pk for e in events], today=TODAY)
    assert [(t.volume_7d, t.volume_30d, t.last_seen_at) for t in found.values()] == [
        (3, 7, None),
        (0, 0, NOW),
        (0, 0, None),
    ]
    with django_assert_num_queries(0):
        assert tracking_of([]) == {}


# --- query counts -----------------------------------------------------------------------------


def _grow(parent, n: int, kind: str):
    factory = EventFactory if kind == "event" else EventPropertyFactory
    for _ in range(n):
        resource = factory(parent=parent)
        seen(resource, NOW - dt.timedelta(days=2), NOW)
        volumes(resource, {0: 1, 1: 2, 10: 3})


@pytest.mark.parametrize(
    ("kind", "url"),
    [("event", EVENTS), ("property", PROPERTIES), ("event", "/api/v1/resource/catalog")],
)
def test_lists_cost_the_same_queries_for_5_and_50_rows(as_editor, kind, url):
    parent = EventCategoryFactory() if kind == "event" else EventFactory()
    as_editor.get(url)  # the key's first use writes last_used_at once
    _grow(parent, 5, kind)
    small = queries(as_editor, url, {"page_size": 200})
    _grow(parent, 45, kind)
    big = queries(as_editor, url, {"page_size": 200})
    # Key, page (with its relation ids and tracking on PostgreSQL, else a query each); no
    # count: a page shorter than page_size tells it.
    assert small == big == 2 + DETAIL_QUERIES
    rows = as_editor.get(url, {"page_size": 200}).json()["results"]
    tracked = [row for row in rows if row["entity_type"] != "event_category"]
    assert len(tracked) >= 50
    assert all((row["volume_7d"], row["volume_30d"]) == (3, 6) for row in tracked[:50])


def test_a_category_list_costs_no_extra_query(as_editor, order, django_assert_num_queries):
    as_editor.get(CATEGORIES)
    # Key, page, on SQLite relation ids (and no tracking query); a short page: no count.
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        as_editor.get(CATEGORIES)


def test_a_detail_reads_its_tracking_with_its_row(as_editor, order, django_assert_num_queries):
    as_editor.get(EVENTS)
    with django_assert_num_queries(2 + DETAIL_QUERIES):  # key, the event (and its details)
        assert as_editor.get(f"{EVENTS}/{order.pk}").status_code == 200


# --- stale events -----------------------------------------------------------------------------


@pytest.fixture
def ages():
    """Events last seen an hour, 8 days and 40 days ago, and one never seen."""
    category = EventCategoryFactory()
    made = {}
    for name, age in [("fresh", 1 / 24), ("week", 8), ("month", 40), ("never", None)]:
        event = EventFactory(title=name, parent=category)
        if age is not None:
            last = NOW - dt.timedelta(days=age)
            seen(event, last - dt.timedelta(days=100), last)
        made[name] = event
    return made


def titles(client, **params) -> list[str]:
    response = client.get(EVENTS, params)
    assert response.status_code == 200, response.json()
    return sorted(row["title"] for row in response.json()["results"])


def test_not_seen_days_finds_stale_and_never_seen_events(as_viewer, ages):
    assert titles(as_viewer, not_seen_days=1) == ["month", "never", "week"]
    assert titles(as_viewer, not_seen_days=7) == ["month", "never", "week"]
    assert titles(as_viewer, not_seen_days=30) == ["month", "never"]
    assert titles(as_viewer, not_seen_days=3650) == ["never"]
    assert titles(as_viewer) == ["fresh", "month", "never", "week"]
    assert titles(as_viewer, not_seen_days="") == ["fresh", "month", "never", "week"]


def test_not_seen_days_counts_from_now(as_viewer):
    just_over, just_under = EventFactory(title="over"), EventFactory(title="under")
    seen(just_over, NOW - dt.timedelta(days=30), NOW - dt.timedelta(days=7, minutes=1))
    seen(just_under, NOW - dt.timedelta(days=30), NOW - dt.timedelta(days=6, hours=23))
    assert titles(as_viewer, not_seen_days=7) == ["over"]


def test_not_seen_days_combines_with_other_filters(as_editor, ages):
    other = EventFactory(title="elsewhere", parent=EventCategoryFactory())
    assert "elsewhere" in titles(as_editor, not_seen_days=30)
    only = titles(as_editor, not_seen_days=30, integration_id=str(other.integration_id))
    assert only == ["elsewhere"]
    assert titles(as_editor, not_seen_days=30, title="month") == ["month"]


def test_viewers_see_only_published_stale_events(as_viewer, ages):
    EventFactory(title="hidden", parent=ages["never"].parent, published=False)
    assert "hidden" not in titles(as_viewer, not_seen_days=7)


@pytest.mark.parametrize(
    "value", ["0", "3651", "-1", "abc", "1.5", "1e3", "7 days", "9" * 5000, "\x00", "x"]
)
def test_a_bad_not_seen_days_is_a_400_naming_it(as_editor, value):
    response = as_editor.get(EVENTS, {"not_seen_days": value})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["not_seen_days"]


def test_not_seen_days_is_in_the_schema_with_the_read_only_fields(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    params = {p["name"]: p for p in schema["paths"][EVENTS]["get"]["parameters"]}
    # A number of days, or `never`.
    kinds = [option.get("type") for option in params["not_seen_days"]["schema"]["oneOf"]]
    assert kinds == ["integer", "string"]
    assert "not_seen_days" not in {
        p["name"] for p in schema["paths"][PROPERTIES]["get"]["parameters"]
    }
    components = schema["components"]["schemas"]
    for name in ("Event", "EventProperty"):
        fields = components[name]["properties"]
        for field in TRACKING_FIELDS:
            assert fields[field]["readOnly"] is True, (name, field)
        assert fields["last_seen_at"]["nullable"] is True
        assert fields["volume_7d"]["type"] == "integer"
    assert not TRACKING_FIELDS & set(components["EventCategory"]["properties"])
    for path in (
        "/api/v1/event/events/{id}/violations",
        "/api/v1/integration/integrations/{id}/violations",
    ):
        operation = schema["paths"][path]["get"]
        assert {"401", "403", "404"} <= set(operation["responses"])
        assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == [
            "kind",
            "page",
            "page_size",
        ]
        item = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert "results" in components[item["$ref"].rsplit("/", 1)[1]]["properties"]


def test_the_events_page_filters_by_not_seen_for(viewer_web, ages):
    html = viewer_web.get("/events/").content.decode()
    assert '<label for="id_not_seen_days">Not seen for</label>' in html
    assert '<option value="30">30 days</option>' in html
    text = text_of(viewer_web.get("/events/?not_seen_days=30"))
    assert "2 events" in text
    assert "month" in text and "never" in text
    assert "fresh" not in text and "week" not in text
    assert (
        '<option value="30" selected>'
        in viewer_web.get("/events/?not_seen_days=30").content.decode()
    )


def test_the_events_page_takes_any_not_seen_for_the_api_takes(viewer_web, as_viewer, ages):
    text = text_of(viewer_web.get("/events/?not_seen_days=5"))
    assert "3 events" in text
    assert titles(as_viewer, not_seen_days=5) == ["month", "never", "week"]
    html = viewer_web.get("/events/?not_seen_days=5").content.decode()
    assert '<option value="5" selected>5 days</option>' in html


@pytest.mark.parametrize("value", ["abc", "0", "3651", "9" * 5000, "\x00"])
def test_the_events_page_ignores_a_bad_not_seen_for(viewer_web, ages, value):
    response = viewer_web.get("/events/", {"not_seen_days": value})
    assert response.status_code == 200
    text = text_of(response)
    assert "Some filters were not understood" in text
    assert "4 events" in text


def test_the_filtered_events_page_costs_no_extra_query(editor_web, ages):
    plain = queries(editor_web, "/events/")
    assert queries(editor_web, "/events/", {"not_seen_days": "7"}) == plain


# --- violations: the API ----------------------------------------------------------------------


def event_violations(client, event, **params):
    return client.get(f"{EVENTS}/{event.pk}/violations", params)


def integration_violations(client, integration, **params):
    return client.get(f"/api/v1/integration/integrations/{integration.pk}/violations", params)


def test_an_events_violations_newest_first_with_every_field(as_editor, order):
    older = violation(
        order,
        property_name="revenue",
        kind=ViolationKind.WRONG_TYPE,
        count=12,
        first_seen_at=NOW - dt.timedelta(days=2),
        last_seen_at=NOW - dt.timedelta(hours=5),
        message="`revenue` should be a number, got a string.",
        example={"event": "Order Completed", "properties": {"revenue": "12"}},
    )
    newer = violation(
        order,
        property_name="coupon",
        kind=ViolationKind.UNKNOWN_PROPERTY,
        last_seen_at=NOW - dt.timedelta(minutes=1),
    )
    violation(EventFactory(parent=order.parent))  # another event's
    violation(None, integration=order.integration)  # an unknown event's
    response = event_violations(as_editor, order)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["total_pages"]) == (2, 1)
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["results"][1] == {
        "id": older.pk,
        "integration_id": str(order.integration_id),
        "event_id": str(order.pk),
        "event_name": "Order Completed",
        "property_name": "revenue",
        "kind": "wrong_type",
        "kind_label": "Wrong type",
        "count": 12,
        "first_seen_at": "2026-03-07T23:30:00Z",
        "last_seen_at": "2026-03-09T18:30:00Z",
        "message": "`revenue` should be a number, got a string.",
        "example": {"event": "Order Completed", "properties": {"revenue": "12"}},
        "resolved_at": None,
        "resolved_by_id": None,
        "resolved_by_name": None,
    }


def test_an_integrations_violations_include_unknown_events(as_admin, order):
    ghost = violation(None, integration=order.integration, event_name="Ordr Completed")
    known = violation(order, last_seen_at=NOW - dt.timedelta(days=1))
    violation(EventFactory())  # another integration's
    body = integration_violations(as_admin, order.integration).json()
    assert [row["id"] for row in body["results"]] == [ghost.pk, known.pk]
    assert body["results"][0]["event_id"] is None
    assert body["results"][0]["kind"] == "unknown_event"


def test_violations_filter_by_kind(as_editor, order):
    wrong = violation(order, kind=ViolationKind.WRONG_TYPE, property_name="a")
    violation(order, kind=ViolationKind.NOT_ALLOWED, property_name="b")
    for response in (
        event_violations(as_editor, order, kind="wrong_type"),
        integration_violations(as_editor, order.integration, kind="wrong_type"),
    ):
        assert [row["id"] for row in response.json()["results"]] == [wrong.pk]
    assert event_violations(as_editor, order, kind="missing_required").json()["count"] == 0
    assert event_violations(as_editor, order, kind="").json()["count"] == 2


@pytest.mark.parametrize("kind", ["nope", "WRONG_TYPE", "\x00", "wrong_type,not_allowed"])
def test_a_bad_kind_is_a_400_naming_it(as_editor, order, kind):
    for response in (
        event_violations(as_editor, order, kind=kind),
        integration_violations(as_editor, order.integration, kind=kind),
    ):
        assert response.status_code == 400
        assert list(response.json()) == ["kind"]
        assert "wrong_type" in response.json()["kind"][0]


def test_viewers_may_not_read_violations(as_viewer, order):
    violation(order)
    for response in (
        event_violations(as_viewer, order),
        integration_violations(as_viewer, order.integration),
        as_viewer.get(f"{EVENTS}/{uuid.uuid4()}/violations"),  # 403 before 404: says nothing
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "Only editors and admins can read violations."}


def test_anonymous_requests_are_refused(client, order):
    assert client.get(f"{EVENTS}/{order.pk}/violations").status_code in (401, 403)


@pytest.mark.parametrize("pk", [lambda: uuid.uuid4(), lambda: "not-an-id", lambda: "1"])
def test_unknown_ids_are_404(as_editor, pk):
    for url in (
        f"{EVENTS}/{pk()}/violations",
        f"/api/v1/integration/integrations/{pk()}/violations",
    ):
        response = as_editor.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_a_property_or_category_id_is_no_event(as_editor, order):
    prop = order.children.get()
    assert as_editor.get(f"{EVENTS}/{prop.pk}/violations").status_code == 404
    assert as_editor.get(f"{EVENTS}/{order.parent_id}/violations").status_code == 404


def test_violations_are_paginated_like_other_lists(as_editor, order):
    for n in range(7):
        violation(order, property_name=f"p{n}", last_seen_at=NOW - dt.timedelta(minutes=n))
    body = event_violations(as_editor, order, page_size=3, page=2).json()
    assert (body["count"], body["total_pages"], body["meta"]["page"]) == (7, 3, 2)
    assert [row["property_name"] for row in body["results"]] == ["p3", "p4", "p5"]
    assert event_violations(as_editor, order, page_size=0).status_code == 400
    assert event_violations(as_editor, order, page="x").status_code == 400


def test_violations_cost_a_constant_number_of_queries(as_editor, order):
    event_violations(as_editor, order)
    violation(order)
    urls = [
        f"{EVENTS}/{order.pk}/violations",
        f"/api/v1/integration/integrations/{order.integration_id}/violations",
    ]
    small = [queries(as_editor, url) for url in urls]
    for n in range(40):
        violation(order, property_name=f"p{n}")
    big = [queries(as_editor, url) for url in urls]
    # Key, the event or integration, page; no count: a page shorter than page_size tells it.
    assert small == big == [3, 3]


# --- violations: the admin --------------------------------------------------------------------


def test_editors_read_violations_in_the_admin(client, editor, order):
    violation(order, property_name="revenue", kind=ViolationKind.WRONG_TYPE, count=12)
    violation(order, property_name="coupon", kind=ViolationKind.UNKNOWN_PROPERTY)
    client.force_login(editor)
    url = reverse("admin:catalog_violation_changelist")
    response = client.get(url)
    assert response.status_code == 200
    text = text_of(response)
    assert "Order Completed revenue Wrong type 12" in text
    assert "Add violation" not in text
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', response.content.decode())
    assert [h for h in headers if h != "action_checkbox"] == [
        "event_name",
        "property_name",
        "kind",
        "count",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "resolved_by",
    ]
    only_wrong = text_of(client.get(url, {"kind__exact": "wrong_type"}))
    assert "revenue" in only_wrong and "coupon" not in only_wrong
    assert "coupon" in text_of(client.get(url, {"q": "coup"}))
    assert "revenue" not in text_of(client.get(url, {"q": "coup"}))
    by_integration = client.get(url, {"integration__id__exact": str(order.integration_id)})
    assert "2 violations" in text_of(by_integration)
    # No add, no change, no delete for editors.
    assert client.get(reverse("admin:catalog_violation_add")).status_code == 403
    one = Violation.objects.first()
    page = client.get(reverse("admin:catalog_violation_change", args=[one.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:catalog_violation_delete", args=[one.pk])).status_code == 403
    assert "delete_selected" not in response.content.decode()


def test_admins_delete_resolved_violations(client, admin_user, order):
    fixed, other = violation(order, property_name="a"), violation(order, property_name="b")
    client.force_login(admin_user)
    url = reverse("admin:catalog_violation_delete", args=[fixed.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    response = client.post(
        reverse("admin:catalog_violation_changelist"),
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Violation.objects.exists()
    assert Resource.objects.filter(pk=order.pk).exists()


def test_viewers_dont_see_violations_in_the_admin(client, viewer, order):
    violation(order)
    client.force_login(viewer)
    assert client.get(reverse("admin:catalog_violation_changelist")).status_code == 403
    assert "Violations" not in text_of(client.get(reverse("admin:index")))


# --- the catalog pages ------------------------------------------------------------------------


def detail(client, resource):
    response = client.get(reverse("web:resource", args=[resource.pk]))
    assert response.status_code == 200
    return response


def test_an_events_page_shows_when_it_arrived_and_how_often(viewer_web, order):
    text = text_of(detail(viewer_web, order))
    assert "First seen 2026-01-28 23:30" in text
    assert "Last seen 2026-03-09 23:25" in text
    assert "Last 7 days 15 received" in text
    assert "Last 30 days 115 received" in text
    assert "Violations" not in text  # viewers don't read them


def test_a_propertys_page_shows_them_too(viewer_web, order):
    text = text_of(detail(viewer_web, order.children.get()))
    assert "First seen 2026-03-09 21:30" in text
    assert "Last 7 days 2 received Last 30 days 2 received" in text


def test_a_never_seen_event_says_so(viewer_web):
    text = text_of(detail(viewer_web, EventFactory()))
    assert "Last seen Never seen" in text
    assert "First seen" not in text
    assert "Last 7 days 0 received" in text


def test_a_categorys_page_has_no_such_facts(editor_web, order):
    text = text_of(detail(editor_web, order.parent))
    assert "Last seen" not in text and "Last 7 days" not in text
    assert "Violations" not in text


def test_large_volumes_are_grouped(viewer_web):
    event = EventFactory()
    volumes(event, {0: 1234567})
    assert "Last 7 days 1,234,567 received" in text_of(detail(viewer_web, event))


def test_editors_see_an_events_violations(editor_web, order):
    violation(
        order,
        property_name="revenue",
        kind=ViolationKind.WRONG_TYPE,
        count=12,
        last_seen_at=NOW - dt.timedelta(hours=1),
        message="<b>revenue</b> should be a number.",
    )
    violation(EventFactory(parent=order.parent), message="Someone else's")
    response = detail(editor_web, order)
    text = text_of(response)
    assert "Kind Property Count Last seen Message" in text
    assert "Wrong type revenue 12 2026-03-09 22:30 &lt;b&gt;revenue" in text
    assert "&lt;b&gt;revenue" in response.content.decode()  # escaped
    assert "Someone else's" not in text


def test_a_propertys_page_lists_the_violations_of_its_name(editor_web, order):
    prop = order.children.get()
    violation(order, property_name="revenue", message="about revenue")
    violation(order, property_name="coupon", message="about coupon")
    violation(order, message="about the event")
    text = text_of(detail(editor_web, prop))
    assert "about revenue" in text
    assert "about coupon" not in text and "about the event" not in text


def test_an_event_without_violations_says_none(editor_web, order):
    assert "Violations None recorded." in text_of(detail(editor_web, order))


def test_only_the_latest_violations_are_listed(editor_web, order, monkeypatch):
    from catalog.web import views

    monkeypatch.setattr(views, "VIOLATIONS_SHOWN", 3)
    for n in range(5):
        violation(order, property_name=f"p{n}", last_seen_at=NOW - dt.timedelta(minutes=n))
    text = text_of(detail(editor_web, order))
    assert all(f"p{n}" in text for n in range(3))
    assert "p3" not in text and "p4" not in text
    assert "Only the 3 most recent are shown" in text


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_the_detail_page_stays_within_its_query_budget(editor_web, viewer_web, order, who):
    client = editor_web if who == "editor" else viewer_web
    prop = order.children.get()
    small = {r.pk: queries(client, reverse("web:resource", args=[r.pk])) for r in (order, prop)}
    for n in range(30):
        name = "revenue" if n < 5 else f"p{n}"
        violation(order, property_name=name, kind=ViolationKind.values[n % 5])
        EventPropertyFactory(parent=order)
    volumes(order, {n: n for n in range(4, 20)})
    big = {r.pk: queries(client, reverse("web:resource", args=[r.pk])) for r in (order, prop)}
    assert small == big
    # The same 12 as before the facts and violations: the resource's own query brings the
    # facts, and the violations take the query that fetched the resource a second time.
    assert max(big.values()) == (12 if who == "editor" else 11)
