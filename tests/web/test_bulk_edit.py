"""Bulk edit on the events list: flags, owners and tags of ticked events, of a page or of
every event matching the filters, as one change set that the history shows and undoes."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import ChangeSet, ObjectChange, Resource
from catalog.web import bulk
from tests.factories import EventCategoryFactory, EventFactory, TagFactory, UserFactory
from tests.web.test_pages import text_of as page_text


def text_of(response) -> str:
    """The page's text, with no space left before a comma or full stop after a link."""
    return re.sub(r" ([,.;])", r"\1", page_text(response))


pytestmark = pytest.mark.django_db

URL = "/events/bulk/"


@pytest.fixture
def catalog(db):
    web = EventCategoryFactory(title="Checkout", integration__name="Web app")
    app = EventCategoryFactory(title="Account", integration__name="iOS app")
    events = {
        title: EventFactory(title=title, parent=parent)
        for title, parent in [
            ("Order Completed", web),
            ("Cart Viewed", web),
            ("Refund Issued", web),
            ("Signed Up", app),
        ]
    }
    return {
        "events": events,
        "web": web.integration_id,
        "ada": UserFactory(username="ada", first_name="Ada", last_name="Lovelace"),
        "grace": UserFactory(username="grace"),
        "money": TagFactory(title="money"),
        "legacy": TagFactory(title="legacy"),
    }


def ids(catalog, *titles) -> list[str]:
    return [str(catalog["events"][title].pk) for title in titles]


def post(client, follow=False, **data):
    data.setdefault("scope", "selected")
    return client.post(URL, data, follow=follow)


def fresh(catalog, title) -> Resource:
    return Resource.objects.get(pk=catalog["events"][title].pk)


def owners_of(catalog, title) -> set[str]:
    return {u.username for u in fresh(catalog, title).owners.all()}


def tags_of(catalog, title) -> set[str]:
    return {t.title for t in fresh(catalog, title).tags.all()}


def test_ticked_events_get_flags_owners_and_tags_in_one_change_set(editor_web, catalog):
    catalog["events"]["Cart Viewed"].tags.add(catalog["legacy"])
    before = ChangeSet.objects.count()
    response = post(
        editor_web,
        ids=ids(catalog, "Order Completed", "Cart Viewed"),
        pii="yes",
        verified="no",
        add_owners=[str(catalog["ada"].pk)],
        add_tags=[str(catalog["money"].pk)],
        remove_tags=[str(catalog["legacy"].pk)],
        query="pii=no",
    )
    assert response.status_code == 302
    change_set = ChangeSet.objects.order_by("-created_at").first()
    assert ChangeSet.objects.count() == before + 1
    assert response["Location"] == f"/events/bulk/{change_set.pk}/?back=pii%3Dno"
    for title in ("Order Completed", "Cart Viewed"):
        event = fresh(catalog, title)
        assert event.pii is True
        assert event.verified is False
        assert owners_of(catalog, title) == {"ada"}
        assert tags_of(catalog, title) == {"money"}
        # New owners follow, as on the edit form.
        assert event.subscribers.filter(username="ada").exists()
    untouched = fresh(catalog, "Refund Issued")
    assert (untouched.pii, owners_of(catalog, "Refund Issued")) == (False, set())
    changes = ObjectChange.objects.filter(change_set=change_set)
    assert {str(c.object_id) for c in changes} == set(
        ids(catalog, "Order Completed", "Cart Viewed")
    )
    assert change_set.actor_name == "editor"
    assert change_set.source == "web"

    summary = editor_web.get(response["Location"], follow=True)
    text = text_of(summary)
    assert (
        "Changed 2 events: PII: yes; Verified: no; Add owners: Ada Lovelace; Add tags: money; "
        "Remove tags: legacy." in text
    )
    assert "Bulk edit: 2 events changed" in text
    assert "By editor" in text
    assert "Cart Viewed, Order Completed." in text
    html = summary.content.decode()
    assert 'href="/events/?pii=no"' in html
    history = re.search(r'href="(/resources/[^"]+/history/)"', html).group(1)
    history_text = text_of(editor_web.get(history))
    assert "editor changed this" in history_text


def test_the_whole_bulk_edit_is_undone_at_once(editor_web, catalog):
    post(
        editor_web,
        ids=ids(catalog, "Order Completed", "Cart Viewed"),
        published="no",
        add_tags=[str(catalog["money"].pk)],
    )
    change_set = ChangeSet.objects.order_by("-created_at").first()
    event = catalog["events"]["Order Completed"]
    response = editor_web.post(f"/resources/{event.pk}/history/{change_set.pk}/revert/")
    assert response.status_code == 302
    for title in ("Order Completed", "Cart Viewed"):
        assert fresh(catalog, title).published is True
        assert tags_of(catalog, title) == set()


def test_remove_owners_and_every_event_on_the_page(editor_web, catalog):
    for event in catalog["events"].values():
        event.owners.add(catalog["grace"])
    response = post(
        editor_web,
        scope="page",
        page_ids=ids(catalog, "Order Completed", "Signed Up"),
        ids=ids(catalog, "Cart Viewed"),  # ticked boxes don't count for "the page"
        remove_owners=[str(catalog["grace"].pk)],
    )
    assert response.status_code == 302
    assert owners_of(catalog, "Order Completed") == set()
    assert owners_of(catalog, "Signed Up") == set()
    assert owners_of(catalog, "Cart Viewed") == {"grace"}


def test_every_event_matching_the_filters_is_confirmed_first(editor_web, catalog):
    query = f"integration={catalog['web']}"
    data = {"scope": "matching", "query": query, "verified": "yes"}
    response = editor_web.post(URL, data)
    assert response.status_code == 200
    text = text_of(response)
    assert "Change 3 events?" in text
    assert "Verified: yes" in text
    assert "Cart Viewed, Order Completed, Refund Issued" in text
    assert not Resource.objects.filter(verified=True).exists()  # nothing yet
    html = response.content.decode()
    assert f'name="query" value="{query}"' in unescape(html)
    assert '<button type="submit" name="confirm" value="1"' in html

    response = editor_web.post(URL, {**data, "confirm": "1"})
    assert response.status_code == 302
    verified = set(Resource.objects.filter(verified=True).values_list("title", flat=True))
    assert verified == {"Order Completed", "Cart Viewed", "Refund Issued"}


def test_more_matching_events_than_the_cap_change_nothing(editor_web, catalog, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_MAX", 2)
    response = editor_web.post(
        URL, {"scope": "matching", "query": "", "pii": "yes", "confirm": "1"}
    )
    assert response.status_code == 400
    assert (
        "More than 2 events match these filters; a bulk edit changes at most 2 at once. "
        "Narrow the filters" in text_of(response)
    )
    assert not Resource.objects.filter(pii=True).exists()


def test_the_list_says_the_cap(editor_web, catalog):
    assert "At most 10,000 events at once." in text_of(editor_web.get("/events/"))


def test_nothing_changed_is_said_and_records_nothing(editor_web, catalog):
    before = ChangeSet.objects.count()
    response = post(editor_web, ids=ids(catalog, "Order Completed"), pii="no", follow=True)
    assert "Nothing changed: the chosen events already were as asked." in text_of(response)
    assert ChangeSet.objects.count() == before


def test_admins_may_bulk_edit_too(admin_web, catalog):
    response = post(admin_web, ids=ids(catalog, "Signed Up"), published="no")
    assert response.status_code == 302
    assert fresh(catalog, "Signed Up").published is False


def test_viewers_get_a_403_and_nothing_changes(viewer_web, catalog):
    response = post(viewer_web, ids=ids(catalog, "Order Completed"), pii="yes")
    assert response.status_code == 403
    assert fresh(catalog, "Order Completed").pii is False
    change_set = ChangeSet.objects.create(source="web", actor_name="x")
    assert viewer_web.get(f"/events/bulk/{change_set.pk}/").status_code == 403


def test_signed_out_people_are_sent_to_log_in(catalog):
    response = Client().post(URL, {"ids": ids(catalog, "Order Completed"), "pii": "yes"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_post_needs_a_csrf_token(editor, catalog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(URL, {"ids": ids(catalog, "Order Completed"), "pii": "yes"})
    assert response.status_code == 403
    assert fresh(catalog, "Order Completed").pii is False


def test_the_get_of_the_bulk_url_is_not_allowed(editor_web):
    assert editor_web.get(URL).status_code == 405


def test_an_unknown_summary_is_a_404(editor_web):
    assert editor_web.get("/events/bulk/00000000-0000-4000-8000-000000000000/").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pii": "yes"}, "No event was chosen: tick the events to change"),
        ({"ids": "IDS"}, "Choose something to change"),
        ({"ids": "IDS", "pii": "maybe"}, "Select a valid choice. maybe is not one of"),
        ({"ids": "not-an-id", "pii": "yes"}, "“not-an-id” does not name one of the events."),
        ({"ids": "\x00", "pii": "yes"}, "does not name one of the events."),
        ({"ids": "9" * 5000, "pii": "yes"}, "does not name one of the events."),
        ({"ids": "IDS", "scope": "everything", "pii": "yes"}, "Select a valid choice."),
        (
            {"ids": "IDS", "add_tags": "00000000-0000-4000-8000-000000000000"},
            "is not among the choices: deleted meanwhile? Reload the list.",
        ),
        ({"ids": "IDS", "add_owners": "\x00"}, "is not among the choices"),
        (
            {"ids": "IDS", "add_tags": "MONEY", "remove_tags": "MONEY"},
            "The same tag can't be added and removed: choose one.",
        ),
        (
            {"scope": "matching", "query": "pii=maybe", "pii": "yes"},
            "The list's filters were not understood",
        ),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(editor_web, catalog, data, message):
    known = ids(catalog, "Order Completed")[0]
    data = {
        key: known if value == "IDS" else str(catalog["money"].pk) if value == "MONEY" else value
        for key, value in data.items()
    }
    before = ChangeSet.objects.count()
    response = post(editor_web, **data)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert ChangeSet.objects.count() == before
    # The form comes back, as sent, with a way back to the list.
    assert "Cancel and go back to the list" in text_of(response)


def test_unknown_and_hidden_ids_are_left_out_and_said(editor_web, catalog):
    gone = "00000000-0000-4000-8000-000000000000"
    response = post(
        editor_web, ids=[*ids(catalog, "Order Completed"), gone], pii="yes", follow=True
    )
    text = text_of(response)
    assert "1 chosen event was not found (deleted meanwhile?) and left out." in text
    assert "Changed 1 event: PII: yes." in text
    response = post(editor_web, ids=[gone], pii="yes")
    assert response.status_code == 400
    assert "None of the chosen events exists any more" in text_of(response)


def test_too_many_owners_at_once_are_refused(editor_web, catalog, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_PICKS", 1)
    response = post(
        editor_web,
        ids=ids(catalog, "Order Completed"),
        add_owners=[str(catalog["ada"].pk), str(catalog["grace"].pk)],
    )
    assert response.status_code == 400
    assert "At most 1 at once." in text_of(response)


def test_a_bulk_edit_costs_a_constant_number_of_queries(editor_web, catalog):
    parent = catalog["events"]["Order Completed"].parent
    for n in range(33):
        EventFactory(title=f"Extra {n:02}", parent=parent)
    extra = list(
        Resource.objects.filter(title__startswith="Extra").order_by("title").values_list("pk")
    )

    def queries(pks) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = post(
                editor_web,
                ids=[str(pk) for (pk,) in pks],
                pii="yes",
                add_owners=[str(catalog["ada"].pk)],
                add_tags=[str(TagFactory().pk)],
            )
        assert response.status_code == 302
        return len(captured.captured_queries)

    assert queries(extra[:3]) == queries(extra[3:])
    assert Resource.objects.filter(title__startswith="Extra", pii=True).count() == 33
