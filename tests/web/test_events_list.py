"""The events list as a steward runs it: when each event was last seen and its last 30 days,
sorted by either, titles in the order a person expects, and the events never received.

Tracking rows (first/last seen, daily volumes) are made with the ORM, as ingestion would."""

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import DailyVolume, Resource, ResourceSeen
from catalog.web import views
from tests.factories import EventCategoryFactory, EventFactory, TagFactory, UserFactory
from tests.web.test_pages import text_of

pytestmark = pytest.mark.django_db

#: Half an hour before midnight UTC: "today" is 9 March, whatever the machine's clock.
NOW = dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
PAGE = "/events/"
API = "/api/v1/event/events"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def seen(event, hours_ago: float) -> None:
    last = NOW - dt.timedelta(hours=hours_ago)
    ResourceSeen.objects.create(resource=event, first_seen_at=last, last_seen_at=last)


def received(event, counts: dict[int, int]) -> None:
    """`counts`: days ago -> how many arrived that day."""
    DailyVolume.objects.bulk_create(
        DailyVolume(resource=event, day=TODAY - dt.timedelta(days=n), count=count)
        for n, count in counts.items()
    )


@pytest.fixture
def events(db):
    """Five events of mixed case, three received at different times and volumes."""
    checkout = EventCategoryFactory(title="Checkout", integration__name="Web app")
    made = {
        title: EventFactory(title=title, parent=checkout)
        for title in ("Order Completed", "charge_disputed", "Cart Viewed", "apple_pay", "Zoom")
    }
    seen(made["Order Completed"], 3)  # busy and fresh
    received(made["Order Completed"], {0: 40, 1: 60, 29: 5, 30: 1000})  # day 30 is outside
    seen(made["Cart Viewed"], 24 * 40)  # stale: nothing in 30 days
    received(made["Cart Viewed"], {40: 7})
    seen(made["Zoom"], 0.01)  # just now, a few
    received(made["Zoom"], {0: 2})
    return made


def titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'class="strong">([^<]+)</a>', html)]


def page_titles(client, **params) -> list[str]:
    response = client.get(PAGE, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some filters were not understood" not in html
    return titles(html)


def api_titles(client, **params) -> list[str]:
    response = client.get(API, params)
    assert response.status_code == 200, response.json()
    return [row["title"] for row in response.json()["results"]]


def row_of(html: str, title: str) -> str:
    """The table row of the event titled `title`."""
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        if f'class="strong">{title}</a>' in row:
            return row
    raise AssertionError(f"no row for {title}")


def test_last_seen_reads_as_relative_time_with_the_exact_time_and_never(viewer_web, events):
    html = viewer_web.get(PAGE).content.decode()
    text = text_of(viewer_web.get(PAGE))
    assert "Last seen" in text and "Last 30 days" in text
    order = row_of(html, "Order Completed")
    assert re.search(
        r'<td data-label="Last seen" class="last-seen"><time '
        r'datetime="2026-03-09T20:30:00\+00:00" title="2026-03-09 20:30:00 UTC">3 hours ago</time>',
        order,
    ), order
    assert ">just now</time>" in row_of(html, "Zoom")
    assert ">1 month ago</time>" in row_of(html, "Cart Viewed")
    for never in ("charge_disputed", "apple_pay"):
        assert '<span class="never">Never</span>' in row_of(html, never)


def test_the_30_day_column_shows_the_count_and_a_daily_chart(viewer_web, events):
    html = viewer_web.get(PAGE).content.decode()
    order = row_of(html, "Order Completed")
    # 40 today, 60 yesterday, 5 twenty-nine days ago; the 1,000 of 30 days ago is outside.
    assert '<span class="count">105</span>' in order
    assert 'aria-label="Last 30 days: 105 in 30 days, at most 60 a day (Mar 8)"' in order
    assert order.count("<rect ") == 30
    stale = row_of(html, "Cart Viewed")
    assert '<span class="count">0</span>' in stale
    assert 'aria-label="Last 30 days: none in 30 days"' in stale


def test_owners_are_named_by_full_name_or_username(viewer_web, events):
    event = events["Order Completed"]
    event.owners.add(UserFactory(username="ada", first_name="Ada", last_name="Lovelace"))
    event.owners.add(UserFactory(username="grace"))
    text = text_of(viewer_web.get(PAGE))
    assert "Ada Lovelace" in text
    assert re.search(r"Ada Lovelace, grace|grace, Ada Lovelace", text)


def test_title_a_to_z_is_case_insensitive_on_the_page_and_in_the_api(viewer_web, as_viewer, events):
    expected = ["apple_pay", "Cart Viewed", "charge_disputed", "Order Completed", "Zoom"]
    assert page_titles(viewer_web) == expected  # the page's default
    assert page_titles(viewer_web, sort="title") == expected
    assert api_titles(as_viewer, sort="title") == expected
    assert page_titles(viewer_web, sort="-title") == expected[::-1]
    assert api_titles(as_viewer, sort="-title") == expected[::-1]


def test_titles_equal_but_for_case_keep_a_stable_order(viewer_web, events):
    EventFactory(title="zoom", parent=events["Zoom"].parent)
    # Case-insensitive first, then byte-wise (upper case first), then by id.
    assert page_titles(viewer_web)[-2:] == ["Zoom", "zoom"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # Never seen last, ties by title.
        (
            "-last_seen",
            ["Zoom", "Order Completed", "Cart Viewed", "apple_pay", "charge_disputed"],
        ),
        # The stalest first: never seen, then the oldest.
        ("last_seen", ["apple_pay", "charge_disputed", "Cart Viewed", "Order Completed", "Zoom"]),
        (
            "-volume_30d",
            ["Order Completed", "Zoom", "apple_pay", "Cart Viewed", "charge_disputed"],
        ),
        ("volume_30d", ["apple_pay", "Cart Viewed", "charge_disputed", "Zoom", "Order Completed"]),
    ],
)
def test_sorting_by_last_seen_and_by_30_day_volume(viewer_web, as_viewer, events, sort, expected):
    assert page_titles(viewer_web, sort=sort) == expected
    assert api_titles(as_viewer, sort=sort) == expected


def test_the_sort_menu_offers_every_sort(viewer_web, events):
    html = viewer_web.get(PAGE, {"sort": "-volume_30d"}).content.decode()
    for value, label in [
        ("title", "Title (A to Z)"),
        ("-title", "Title (Z to A)"),
        ("-updated", "Last change first"),
        ("-last_seen", "Last seen, newest first"),
        ("last_seen", "Last seen, oldest first"),
        ("volume_30d", "Least received in 30 days"),
    ]:
        assert f'<option value="{value}">{label}</option>' in html
    assert '<option value="-volume_30d" selected>Most received in 30 days</option>' in html


def test_column_headers_sort_and_say_how(viewer_web, events):
    html = unescape(viewer_web.get(PAGE, {"pii": "no"}).content.decode())
    # The default sort is by title: its header says so, and its button reverses it. The
    # buttons send the filter form, whose filters stay applied.
    assert re.search(
        r'<th scope="col" aria-sort="ascending"><button type="submit" form="event-filters" '
        r'name="sort" value="-title" class="sort-button" title="Sort: Title \(Z to A\)">Event',
        html,
    )
    assert 'id="event-filters"' in html
    assert (
        '<th scope="col"><button type="submit" form="event-filters" name="sort" value="-last_seen"'
        in html
    )
    assert 'name="sort" value="-volume_30d"' in html
    html = unescape(viewer_web.get(PAGE, {"sort": "-last_seen", "page": "1"}).content.decode())
    assert (
        '<th scope="col" aria-sort="descending"><button type="submit" form="event-filters" '
        'name="sort" value="last_seen"' in html
    )
    assert html.count("aria-sort=") == 1
    # What the header's button sends: the form's sort, then its own; the last one wins.
    assert page_titles(viewer_web, sort=["title", "-last_seen"])[0] == "Zoom"


def test_never_seen_filter_on_the_page_and_in_the_api(viewer_web, as_viewer, events):
    html = viewer_web.get(PAGE).content.decode()
    assert '<option value="never">Never seen</option>' in html
    assert page_titles(viewer_web, not_seen_days="never") == ["apple_pay", "charge_disputed"]
    assert api_titles(as_viewer, not_seen_days="never") == ["apple_pay", "charge_disputed"]
    assert api_titles(as_viewer, not_seen_days="NEVER", sort="title") == [
        "apple_pay",
        "charge_disputed",
    ]
    response = viewer_web.get(PAGE, {"not_seen_days": "never"})
    assert '<option value="never" selected>Never seen</option>' in response.content.decode()
    assert "2 events" in text_of(response)
    # A number of days still counts the never seen as stale.
    assert page_titles(viewer_web, not_seen_days="30") == [
        "apple_pay",
        "Cart Viewed",
        "charge_disputed",
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"not_seen_days": "nevermore"}, "Enter a whole number of days (1 to 3650) or never."),
        ({"not_seen_days": "9" * 5000}, "Enter a whole number of days (1 to 3650) or never."),
        ({"not_seen_days": "never\x00"}, "Enter a whole number of days (1 to 3650) or never."),
        ({"sort": "volume"}, "Must be one of title, -title, -updated, -last_seen"),
        ({"sort": "-last_seen\x00"}, "Must be one of title, -title, -updated, -last_seen"),
    ],
)
def test_bad_sorts_and_not_seen_are_explained_never_a_500(
    viewer_web, as_viewer, events, params, message
):
    response = viewer_web.get(PAGE, params)
    assert response.status_code == 200
    assert message in unescape(response.content.decode())
    assert len(titles(response.content.decode())) == 5  # left out: every event
    api = as_viewer.get(API, params)
    assert api.status_code == 400
    assert message in str(api.json())


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE, params).status_code == 200
    return len(captured.captured_queries)


def _more_events(n: int, parent, owner, prefix: str) -> None:
    tags = [TagFactory() for _ in range(2)]
    for index in range(n):
        event = EventFactory(title=f"{prefix} {index:02}", parent=parent)
        event.owners.add(owner)
        event.tags.add(*tags)
        seen(event, index + 1)
        received(event, {0: index, 3: 1})


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "-last_seen"}, {"sort": "-volume_30d", "not_seen_days": "never"}],
)
def test_the_list_costs_the_same_queries_for_3_or_30_events(
    editor_web, editor, events, params, django_assert_max_num_queries
):
    parent = events["Zoom"].parent
    _more_events(3, parent, editor, "Extra")
    few = _queries(editor_web, params)
    _more_events(27, parent, UserFactory(first_name="Bo", last_name="Owner"), "More")
    assert _queries(editor_web, params) == few
    # Session and user, the page and its count, owners, tags, daily volumes, the filter
    # form's integrations, tags and people (the bulk form reuses them).
    with django_assert_max_num_queries(10):
        response = editor_web.get(PAGE, params)
    assert response.status_code == 200


def test_viewers_see_no_bulk_edit(viewer_web, events):
    html = viewer_web.get(PAGE).content.decode()
    assert 'type="checkbox" name="ids"' not in html
    assert "Bulk edit" not in html
    assert "/events/bulk/" not in html
    assert "events-bulk.js" not in html


def test_editors_get_a_box_per_row_and_the_bulk_form(editor_web, events):
    html = editor_web.get(PAGE).content.decode()
    assert html.count('type="checkbox" name="ids"') == 5
    assert f'value="{events["Zoom"].pk}" aria-label="Select Zoom"' in html
    assert 'id="select-page" aria-label="Select every event on this page" hidden' in html
    assert '<form method="post" action="/events/bulk/" id="bulk-form"' in html
    assert 'data-picker="owners"' in html and 'data-picker="tags"' in html
    text = text_of(editor_web.get(PAGE))
    assert "Every event on this page (5)" in text
    assert "Every event matching these filters (5)" in text
    assert "At most 10,000 events at once." in text


@pytest.mark.parametrize("deep", [False, True])
def test_sorting_deep_pages_never_repeats_a_row(viewer_web, events, monkeypatch, deep):
    if deep:  # pages chosen by their ids first, as from row 500 on
        monkeypatch.setattr(views, "DEEP_OFFSET", 0)
    parent = events["Zoom"].parent
    Resource.objects.bulk_create(
        [
            Resource(
                title=f"Bulk {n:03}",
                entity_type="event",
                parent=parent,
                integration=parent.integration,
                published=True,
            )
            for n in range(120)
        ]
    )
    for sort in ("-volume_30d", "volume_30d", "-last_seen", "last_seen", "title", "-title"):
        seen_titles = []
        for number in (1, 2, 3):
            seen_titles += page_titles(viewer_web, sort=sort, page=number)
        assert len(seen_titles) == len(set(seen_titles)) == 125, sort
