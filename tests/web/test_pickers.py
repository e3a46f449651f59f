"""The pickers' JSON endpoint (catalog/web/pickers.py): matches as one types, and a new tag
made in place through the services."""

import pytest
from django.test import Client

from catalog.models import ChangeSource, ObjectChange, ObjectType, Tag
from catalog.web.pickers import LIMIT, TAG_COLORS
from tests.factories import CollectionFactory, TagFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

#: Session, user, and the one query of matches.
PICKER_QUERIES = 3


def results(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["label"] for item in response.json()["results"]]


def test_tags_match_what_was_typed_best_first(editor_web):
    TagFactory(title="revenue", color="#b42318")
    TagFactory(title="gross revenue")
    TagFactory(title="checkout")
    answer = editor_web.get("/pickers/tags/", {"q": "REV"})
    assert results(answer) == ["revenue", "gross revenue"]  # starting with it first
    first = answer.json()["results"][0]
    assert first["color"] == "#b42318"
    assert str(Tag.objects.get(title="revenue").pk) == first["value"]
    assert answer.json()["more"] is False
    assert results(editor_web.get("/pickers/tags/")) == ["checkout", "gross revenue", "revenue"]


def test_owners_are_found_by_name_or_username_and_show_their_full_name(editor_web):
    UserFactory(username="dpark", first_name="Dana", last_name="Park")
    UserFactory(username="danny")
    UserFactory(username="dan-gone", is_active=False)
    answer = editor_web.get("/pickers/owners/", {"q": "dan"})
    assert results(answer) == ["Dana Park", "danny"]
    assert answer.json()["results"][0]["hint"] == "dpark"
    assert results(editor_web.get("/pickers/owners/", {"q": "park"})) == ["Dana Park"]


def test_teams_and_collections(editor_web):
    TeamFactory(name="Growth")
    CollectionFactory(title="Checkout funnel")
    CollectionFactory(title="Checkout drafts", published=False)
    assert results(editor_web.get("/pickers/teams/", {"q": "gro"})) == ["Growth"]
    assert results(editor_web.get("/pickers/collections/", {"q": "check"})) == [
        "Checkout drafts",
        "Checkout funnel",
    ]


def test_at_most_twenty_in_one_query_however_many_match(editor_web, django_assert_max_num_queries):
    TagFactory.create_batch(LIMIT + 5)
    with django_assert_max_num_queries(PICKER_QUERIES):
        answer = editor_web.get("/pickers/tags/", {"q": "tag"})
    assert len(results(answer)) == LIMIT
    assert answer.json()["more"] is True
    UserFactory.create_batch(30)
    with django_assert_max_num_queries(PICKER_QUERIES):
        assert len(results(editor_web.get("/pickers/owners/", {"q": "user"}))) == LIMIT


@pytest.mark.parametrize(
    "q", ["\x00", "a\x00b", "%", "_", "'; drop table", "x" * 10_000, "😀", "\\", "  "]
)
def test_odd_text_is_never_an_error(editor_web, q):
    TagFactory(title="100% done")
    answer = editor_web.get("/pickers/tags/", {"q": q})
    assert answer.status_code == 200
    if q == "%":
        assert results(answer) == ["100% done"]  # a literal %, not a wildcard


def test_viewers_and_strangers_are_refused(viewer_web, client):
    TagFactory(title="secret-plan")
    refused = viewer_web.get("/pickers/tags/", {"q": "secret"})
    assert refused.status_code == 403
    assert b"secret-plan" not in refused.content
    assert viewer_web.post("/pickers/tags/", {"title": "mine"}).status_code == 403
    assert not Tag.objects.filter(title="mine").exists()
    anonymous = client.get("/pickers/tags/", {"q": "secret"})
    assert anonymous.status_code == 302  # to the login page
    assert "/login" in anonymous["Location"]


def test_unknown_kinds_and_methods(editor_web):
    assert editor_web.get("/pickers/users/").status_code == 404
    assert editor_web.get("/pickers/subscribers/").status_code == 404
    refused = editor_web.post("/pickers/teams/", {"title": "New team"})
    assert refused.status_code == 405
    assert refused.json()["error"] == "New teams are made in the admin."
    assert editor_web.put("/pickers/tags/").status_code == 405


def test_an_editor_creates_a_tag_recorded_in_the_history(editor_web, editor):
    answer = editor_web.post("/pickers/tags/", {"title": "  loyalty  "})
    assert answer.status_code == 201
    created = answer.json()
    tag = Tag.objects.get(title="loyalty")
    assert created == {
        "value": str(tag.pk),
        "label": "loyalty",
        "hint": "",
        "color": tag.color,
        "created": True,
    }
    assert tag.color in TAG_COLORS
    change = ObjectChange.objects.get(object_type=ObjectType.TAG, object_id=tag.pk)
    assert change.action == "create"
    assert change.change_set.actor == editor
    assert change.change_set.source == ChangeSource.WEB
    # The same name again (in any case) answers the tag there is.
    again = editor_web.post("/pickers/tags/", {"title": "Loyalty"})
    assert again.status_code == 200
    assert again.json()["value"] == str(tag.pk)
    assert again.json()["created"] is False
    assert Tag.objects.count() == 1


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Type the new tag's name first."),
        ("   ", "Type the new tag's name first."),
        ("a\x00b", "A tag's name can't contain NUL characters."),
        ("x" * 101, "A tag's name has at most 100 characters."),
        ("bad\u202etitle", None),  # refused by the model's name rules, with its message
    ],
)
def test_bad_tag_names_are_refused_with_a_message(editor_web, title, message):
    answer = editor_web.post("/pickers/tags/", {"title": title})
    assert answer.status_code == 400
    if message:
        assert answer.json()["error"] == message
    else:
        assert answer.json()["error"]
    assert not Tag.objects.exists()
    assert not ObjectChange.objects.exists()


def test_creating_a_tag_needs_the_csrf_token(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post("/pickers/tags/", {"title": "forged"}).status_code == 403
    assert not Tag.objects.exists()
