"""The event log page: received events, newest first, filtered, paged by keyset, refreshed."""

import datetime as dt
import re
import uuid
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from catalog.models import LoggedEvent
from catalog.selectors import PII_MASK
from catalog.services.eventlog import log_events
from catalog.web.eventlog import PAGE_SIZE, cursor_of
from tests.factories import EventFactory, EventPropertyFactory, IntegrationFactory
from tests.web.test_pages import text_of

URL = "/event-log/"
POLLER = r'id="event-log-poller"[^>]*hx-get="([^"]+)"'


def _log(integration, name, properties=None, *, ago=0, **fields):
    """A received event, stored as ingestion stores it (in its day's partition)."""
    event = LoggedEvent(
        integration=integration,
        name=name,
        type=fields.pop("type", "track"),
        received_at=fields.pop("received_at", timezone.now() - dt.timedelta(seconds=ago)),
        properties=properties or {},
        format="segment",
        **fields,
    )
    log_events([event])
    return event


@pytest.fixture
def web_app(db):
    return IntegrationFactory(name="Web app")


@pytest.fixture
def ios(db):
    return IntegrationFactory(name="iOS")


@pytest.fixture
def signed_up(web_app):
    event = EventFactory(title="Signed Up", parent__integration=web_app)
    EventPropertyFactory(title="email", parent=event, pii=True)
    EventPropertyFactory(title="plan", parent=event)
    return event


@pytest.fixture
def logged(web_app, ios, signed_up):
    return [
        _log(
            web_app,
            "Signed Up",
            {"email": "ada@example.com", "plan": "pro"},
            ago=30,
            user_id="user-42",
        ),
        _log(ios, "Screen Viewed", {"screen": "home"}, ago=20, anonymous_id="anon-7"),
        _log(web_app, "", {"traits": 1}, ago=10, type="identify", user_id="user-42"),
    ]


def _rows(response) -> str:
    return unescape(response.content.decode().split('id="event-log-rows"', 1)[1])


def test_lists_the_newest_events_with_masked_payloads(editor_web, logged, signed_up):
    response = editor_web.get(URL)
    assert response.status_code == 200
    rows = _rows(response)
    # Newest first.
    assert rows.index("identify") < rows.index("Screen Viewed") < rows.index("Signed Up")
    assert f'<a href="/resources/{signed_up.pk}/">Signed Up</a>' in rows
    assert "Screen Viewed <span" in rows and "(not in the catalog)" in rows
    assert "user-42" in rows and "anon-7" in rows and "(anonymous)" in rows
    # PII is masked in the payload, other values shown as pretty JSON.
    assert "ada@example.com" not in response.content.decode()
    assert f'"email": "{PII_MASK}"' in rows
    assert '"plan": "pro"' in rows
    assert "<pre" in rows and "<details" in rows
    assert "every 5 seconds" in text_of(response)
    assert 'hx-trigger="every 5s"' in response.content.decode()


def test_filters_by_integration_name_and_time(editor_web, logged, ios):
    rows = _rows(editor_web.get(URL, {"integration": str(ios.pk)}))
    assert "Screen Viewed" in rows and "Signed Up" not in rows
    rows = _rows(editor_web.get(URL, {"name": "Signed Up"}))
    assert "Signed Up" in rows and "Screen Viewed" not in rows and "identify" not in rows
    start = (timezone.now() - dt.timedelta(seconds=25)).strftime("%Y-%m-%dT%H:%M:%S")
    end = (timezone.now() - dt.timedelta(seconds=15)).strftime("%Y-%m-%dT%H:%M:%S")
    response = editor_web.get(URL, {"start": start, "end": end})
    rows = _rows(response)
    assert "Screen Viewed" in rows and "Signed Up" not in rows and "identify" not in rows
    # A range that ends doesn't poll.
    assert "event-log-poller" not in response.content.decode()
    assert "A range that ends doesn't refresh." in text_of(response)


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"start": "yesterday"}, "'yesterday' is not a date"),
        ({"end": "2026-02-30"}, "is not a date"),
        ({"start": "2026-01-01T00:00+23:00"}, "an offset is at most"),
        ({"start": "2026-01-02", "end": "2026-01-01"}, "Must be after"),
        ({"integration": str(uuid.uuid4())}, "Select a valid choice"),
        ({"integration": "x\x00"}, "Select a valid choice"),
        ({"name": "a\x00b"}, "Null characters are not allowed"),
        ({"name": "n" * 300}, "at most 255 characters"),
        ({"start": "9" * 100}, "at most 64 characters"),
    ],
)
def test_bad_filters_are_said_and_left_out(editor_web, logged, params, said):
    response = editor_web.get(URL, params)
    assert response.status_code == 200
    text = text_of(response)
    assert "Some filters were left out" in text
    assert said in unescape(text)
    assert "Screen Viewed" in _rows(response)


@pytest.mark.parametrize("before", ["nonsense", "\x00", "2026-01-01~not-a-uuid", "~", "9" * 5000])
def test_a_bad_cursor_shows_the_newest(editor_web, logged, before):
    response = editor_web.get(URL, {"before": before})
    assert response.status_code == 200
    assert "showing the newest events" in text_of(response)
    assert "Screen Viewed" in _rows(response)


def test_older_pages_continue_by_keyset(editor_web, web_app):
    moment = timezone.now()
    # A batch shares its received_at: the id breaks the tie.
    for n in range(PAGE_SIZE + 5):
        _log(web_app, f"E{n:03d}", received_at=moment - dt.timedelta(seconds=n // 10))
    first = editor_web.get(URL)
    html = first.content.decode()
    older = re.search(r'href="\?before=([^"]+)" rel="next">Older', html)
    assert older
    second = editor_web.get(URL + "?before=" + unescape(older.group(1)))
    names = set(re.findall(r"E\d{3}", _rows(first))) | set()
    more = set(re.findall(r"E\d{3}", _rows(second)))
    assert len(names) == PAGE_SIZE and len(more) == 5
    assert not names & more
    assert "event-log-poller" not in second.content.decode()  # older pages don't poll
    assert "No older events." in text_of(second)


def test_polling_returns_only_newer_rows_and_moves_the_cursor(editor_web, logged, web_app):
    page = editor_web.get(URL)
    poll = re.search(POLLER, page.content.decode()).group(1)
    poll = unescape(poll)
    headers = {"HX-Request": "true"}
    assert editor_web.get(poll, headers=headers).status_code == 204  # nothing new: quiet
    new = _log(web_app, "Signed Up", {"email": "bob@example.com"})
    response = editor_web.get(poll, headers=headers)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert f'id="event-{new.pk}"' in html
    assert "Screen Viewed" not in html  # only what is new
    assert "bob@example.com" not in html and PII_MASK in html
    assert "1 new event at" in html and 'hx-swap-oob="true"' in html
    next_poll = unescape(re.search(POLLER, html).group(1))
    assert parse_qs(urlparse(next_poll).query)["after"] == [cursor_of(new)]
    assert editor_web.get(next_poll, headers=headers).status_code == 204


def test_polling_keeps_the_filters(editor_web, logged, web_app, ios):
    page = editor_web.get(URL, {"integration": str(ios.pk)})
    poll = unescape(re.search(POLLER, page.content.decode()).group(1))
    _log(web_app, "Signed Up")
    assert editor_web.get(poll, headers={"HX-Request": "true"}).status_code == 204
    _log(ios, "Screen Viewed")
    assert editor_web.get(poll, headers={"HX-Request": "true"}).status_code == 200


def test_a_bad_poll_cursor_is_quiet(editor_web, logged):
    response = editor_web.get(URL, {"after": "junk\x00"}, headers={"HX-Request": "true"})
    assert response.status_code == 204


def test_pause_stops_polling(editor_web, logged):
    response = editor_web.get(URL, {"live": "0"})
    assert "event-log-poller" not in response.content.decode()
    assert "Updates paused." in text_of(response)
    assert "Resume updates" in text_of(response)


def test_poll_interval_is_a_setting(editor_web, logged, settings):
    settings.EVENT_LOG_POLL_SECONDS = 1
    assert 'hx-trigger="every 1s"' in editor_web.get(URL).content.decode()


def test_viewers_may_not_read_it(viewer_web, logged):
    response = viewer_web.get(URL)
    assert response.status_code == 403
    assert "Only editors and admins can read what trackers sent." in text_of(response)
    assert "ada@example.com" not in response.content.decode()
    poll = viewer_web.get(URL, {"after": cursor_of(logged[0])}, headers={"HX-Request": "true"})
    assert poll.status_code == 403


def test_admins_read_it(admin_web, logged):
    assert "Screen Viewed" in _rows(admin_web.get(URL))


def test_empty_log_says_how_to_fill_it(editor_web, db):
    response = editor_web.get(URL)
    assert "No events received yet." in text_of(response)


def _many(count):
    integrations = [IntegrationFactory() for _ in range(3)]
    for n in range(count):
        integration = integrations[n % 3]
        event = EventFactory(title=f"Event {n}", parent__integration=integration)
        EventPropertyFactory(title="email", parent=event, pii=True)
        _log(integration, f"Event {n}", {"email": f"u{n}@example.com"}, ago=n)
    return integrations


@pytest.mark.parametrize("count", [3, 30])
def test_queries_are_constant(editor_web, count, django_assert_max_num_queries):
    _many(count)
    with django_assert_max_num_queries(7):
        response = editor_web.get(URL)
    assert _rows(response).count("/resources/") == count
    assert "@example.com" not in response.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_poll_queries_are_constant(editor_web, count, django_assert_max_num_queries):
    integrations = _many(1)
    cursor = cursor_of(LoggedEvent.objects.get())
    for n in range(count):
        event = EventFactory(title=f"New {n}", parent__integration=integrations[0])
        _log(integrations[0], event.title, {"n": n})
    with django_assert_max_num_queries(7):
        response = editor_web.get(URL, {"after": cursor}, headers={"HX-Request": "true"})
    assert response.content.decode().count("/resources/") == count
