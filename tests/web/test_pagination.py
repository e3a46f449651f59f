"""Deep pages of the events list choose their rows by id first: the same rows, in the same
order, in as many queries as the first pages."""

import re

import pytest

from catalog.web import views
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def titles(client, url) -> list[str]:
    html = client.get(url).content.decode()
    return re.findall(r'<a href="/resources/[^/]+/" class="strong">([^<]+)</a>', html)


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("query", ["", "sort=-updated&", "pii=no&"])
def test_deep_pages_show_the_rows_the_first_pages_would(
    editor_web, order_completed, monkeypatch, query
):
    for n in range(8):
        EventFactory(title=f"Event {n:02}", parent=order_completed.parent)
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    monkeypatch.setattr(views, "DEEP_OFFSET", 10**9)
    urls = [f"/events/?{query}page={n}" for n in (1, 2, 3, 4)]  # 9 events: 3 pages, 4 is last
    plain = {url: (titles(editor_web, url), _queries(editor_web, url)) for url in urls}
    monkeypatch.setattr(views, "DEEP_OFFSET", 0)
    deep = {url: (titles(editor_web, url), _queries(editor_web, url)) for url in urls}
    assert deep == plain
    listed = [name for url in urls[:3] for name in plain[url][0]]
    assert len(set(listed)) == len(listed) == 9  # every event once, no page overlaps
    if not query:
        assert listed == sorted(listed)
    assert plain[urls[3]] == plain[urls[2]]  # past the end: the last page


def test_a_deep_page_of_a_viewer_holds_only_what_they_see(viewer_web, order_completed, monkeypatch):
    for n in range(4):
        EventFactory(title=f"Event {n:02}", parent=order_completed.parent, published=n % 2 == 0)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    monkeypatch.setattr(views, "DEEP_OFFSET", 1)
    shown = [name for n in (1, 2, 3) for name in titles(viewer_web, f"/events/?page={n}")]
    assert shown == ["Event 00", "Event 02", "Order Completed"]
