"""Editing, following, history and settings on the catalog pages, through the pipeline."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from catalog.models import ApiKey, ChangeSource, EmailFrequency, ObjectChange, Resource
from tests.factories import EventFactory, TagFactory, UserFactory
from tests.traces import assert_shown_once
from tests.web.test_pages import text_of

pytestmark = pytest.mark.django_db


def edit_url(resource) -> str:
    return reverse("web:resource_edit", args=[resource.pk])


def form_data(resource, **changes) -> dict:
    """What the browser posts when the form is submitted as loaded, plus `changes`."""
    data = {
        "title": resource.title,
        "description": resource.description,
        "definition": resource.definition,
        "owners": [str(pk) for pk in resource.owners.values_list("pk", flat=True)],
        "teams": [str(pk) for pk in resource.teams.values_list("pk", flat=True)],
        "tags": [str(pk) for pk in resource.tags.values_list("pk", flat=True)],
        "collections": [str(pk) for pk in resource.collections.values_list("pk", flat=True)],
    }
    for flag in ("pii", "verified", "published"):
        if getattr(resource, flag):
            data[flag] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_edit_form_has_the_labelled_fields(editor_web, order_completed):
    html = editor_web.get(edit_url(order_completed)).content.decode()
    for label in (
        "Title",
        "Description",
        "Definition",
        "PII",
        "Verified",
        "Published",
        "Owners",
        "Teams",
        "Tags",
        "Collections",
    ):
        assert re.search(rf'<label for="id_\w+">{label}</label>', html), label
    assert '<button type="submit" class="button primary">Save</button>' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_saving_only_the_description_records_only_that(editor_web, editor, order_completed):
    order_completed.tags.add(TagFactory())
    response = editor_web.post(
        edit_url(order_completed),
        form_data(order_completed, description="Placed and paid.\r\nOnce per order."),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:resource", args=[order_completed.pk])
    order_completed.refresh_from_db()
    assert order_completed.description == "Placed and paid.\nOnce per order."
    change = ObjectChange.objects.get(object_id=order_completed.pk)
    assert change.diff == {
        "description": ["The order was placed and paid.", "Placed and paid.\nOnce per order."]
    }
    assert change.change_set.source == ChangeSource.WEB
    assert change.change_set.actor == editor
    page = editor_web.get(response["Location"])
    assert "Saved." in text_of(page)


def test_crlf_in_the_definition_is_not_a_change(editor_web, order_completed):
    crlf = order_completed.definition.replace("\n", "\r\n")
    response = editor_web.post(
        edit_url(order_completed), form_data(order_completed, definition=crlf)
    )
    assert response.status_code == 302
    assert not ObjectChange.objects.filter(object_id=order_completed.pk).exists()
    assert "Nothing changed" in text_of(editor_web.get(response["Location"]))


def test_markdown_saved_is_rendered_on_the_detail_page(editor_web, order_completed):
    editor_web.post(
        edit_url(order_completed),
        form_data(order_completed, definition="# Money\n\n- `revenue` in **cents**"),
    )
    html = editor_web.get(reverse("web:resource", args=[order_completed.pk])).content.decode()
    assert "<h1>Money</h1>" in html
    assert "<code>revenue</code> in <strong>cents</strong>" in html


def test_flags_and_relations_are_saved(editor_web, editor, order_completed):
    tag = TagFactory(title="finance")
    response = editor_web.post(
        edit_url(order_completed),
        form_data(order_completed, pii="on", tags=[str(tag.pk)], owners=[str(editor.pk)]),
    )
    assert response.status_code == 302
    order_completed.refresh_from_db()
    assert order_completed.pii
    assert list(order_completed.tags.all()) == [tag]
    diff = ObjectChange.objects.get(object_id=order_completed.pk).diff
    assert set(diff) == {"pii", "tags", "owners"}  # New owners follow, which is no edit.


def test_validation_errors_are_shown_next_to_the_field(editor_web, order_completed):
    EventFactory(title="Taken", parent=order_completed.parent)
    response = editor_web.post(edit_url(order_completed), form_data(order_completed, title="Taken"))
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(
        r'<label for="id_title">Title</label>.*The parent already has a child with this title.*'
        r'<input[^>]*name="title"',
        html,
        re.S,
    )
    assert "Nothing was saved" in text_of(response)
    assert Resource.objects.get(pk=order_completed.pk).title == "Order Completed"
    blank = editor_web.post(edit_url(order_completed), form_data(order_completed, title=""))
    assert "This field is required." in text_of(blank)


def test_viewers_cannot_edit(viewer_web, order_completed):
    response = viewer_web.get(edit_url(order_completed))
    assert response.status_code == 403
    assert "Only editors and admins can change the catalog." in text_of(response)
    response = viewer_web.post(edit_url(order_completed), form_data(order_completed, title="X"))
    assert response.status_code == 403
    assert Resource.objects.get(pk=order_completed.pk).title == "Order Completed"
    hidden = EventFactory(published=False)
    assert viewer_web.get(edit_url(hidden)).status_code == 404


def test_the_edit_form_is_csrf_protected(editor, order_completed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(edit_url(order_completed), form_data(order_completed, title="X"))
    assert response.status_code == 403
    assert Resource.objects.get(pk=order_completed.pk).title == "Order Completed"


def test_preview_without_javascript_saves_nothing(editor_web, order_completed):
    response = editor_web.post(
        edit_url(order_completed),
        form_data(order_completed, definition="**bold** <script>x()</script>", preview="1"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script>x()" not in html
    assert not ObjectChange.objects.exists()


def test_live_preview_renders_sanitised_markdown(editor_web):
    response = editor_web.post(
        reverse("web:markdown_preview"),
        {"definition": "_hi_ <a href='javascript:alert(1)' onclick='x()'>y</a>"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<em>hi</em>" in html
    assert "javascript:" not in html and "onclick" not in html


def test_saving_emails_the_subscribers(
    editor_web, order_completed, django_capture_on_commit_callbacks
):
    follower = UserFactory(username="follower", email="follower@example.com")
    order_completed.subscribers.add(follower)
    with django_capture_on_commit_callbacks(execute=True):
        editor_web.post(edit_url(order_completed), form_data(order_completed, description="New."))
    assert [message.to for message in mail.outbox] == [["follower@example.com"]]
    assert "Order Completed" in mail.outbox[0].subject
    assert f"/resources/{order_completed.pk}/" in mail.outbox[0].body


# Following


def test_subscribe_and_unsubscribe_with_htmx(viewer_web, viewer, order_completed):
    url = reverse("web:resource_subscribe", args=[order_completed.pk])
    response = viewer_web.post(url, {"action": "subscribe"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert ">Unsubscribe</button>" in html
    assert "<html" not in html  # Just the button, swapped in place.
    assert list(order_completed.subscribers.all()) == [viewer]
    detail = viewer_web.get(reverse("web:resource", args=[order_completed.pk])).content.decode()
    assert ">Unsubscribe</button>" in detail  # The state survives a reload.
    response = viewer_web.post(url, {"action": "unsubscribe"}, HTTP_HX_REQUEST="true")
    assert ">Subscribe</button>" in response.content.decode()
    assert not order_completed.subscribers.exists()
    assert not ObjectChange.objects.filter(object_id=order_completed.pk).exists()  # no edit
    assert not mail.outbox


def test_subscribe_without_javascript_redirects_back(viewer_web, order_completed):
    url = reverse("web:resource_subscribe", args=[order_completed.pk])
    response = viewer_web.post(url, {"action": "subscribe"}, follow=True)
    assert "You follow “Order Completed”." in text_of(response)
    assert viewer_web.post(url, {"action": "subscribe", "next": "https://evil.example/"})[
        "Location"
    ] == reverse("web:resource", args=[order_completed.pk])


def test_viewers_cannot_follow_what_they_cannot_see(viewer_web, order_completed):
    hidden = EventFactory(published=False)
    url = reverse("web:resource_subscribe", args=[hidden.pk])
    assert viewer_web.post(url, {"action": "subscribe"}).status_code == 404
    assert not hidden.subscribers.exists()


def test_subscriptions_page_lists_what_the_user_follows(viewer_web, viewer, order_completed):
    prop = order_completed.children.get(title="revenue")
    prop.subscribers.add(viewer)
    order_completed.subscribers.add(viewer)
    EventFactory(title="Not followed")
    text = text_of(viewer_web.get(reverse("web:subscriptions")))
    assert "Order Completed" in text
    assert "revenue" in text and "Event property in Checkout \u203a Order Completed" in text
    assert "Not followed" not in text
    assert text.count("Unsubscribe") == 2


def test_header_links_to_subscriptions_and_has_a_search_field(viewer_web):
    html = viewer_web.get("/").content.decode()
    assert '<a href="/subscriptions/">Subscriptions</a>' in html
    assert '<label for="site-search" class="visually-hidden">Search</label>' in html


# History


def test_history_shows_actor_time_fields_and_values(editor_web, viewer_web, order_completed):
    editor_web.post(edit_url(order_completed), form_data(order_completed, description="v2"))
    editor_web.post(
        edit_url(order_completed), form_data(Resource.objects.get(pk=order_completed.pk), pii="on")
    )
    response = viewer_web.get(reverse("web:resource_history", args=[order_completed.pk]))
    html = response.content.decode()
    text = text_of(response)
    assert "<h2>History</h2>" in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">', html)
    newest, oldest = (
        text.index("PII No Yes"),
        text.index("Description The order was placed and paid. v2"),
    )
    assert newest < oldest  # Newest first.
    assert text.count("editor changed this") == 2


# Settings


def test_api_key_is_shown_once_and_works(viewer_web, viewer, caplog):
    response = viewer_web.post(reverse("web:settings"), {"name": "CI schema check"})
    text = text_of(response)
    secret = re.search(r"ec_\w+_[\w-]+", text).group(0)
    assert "shown only once" in text
    assert_shown_once(response, secret, caplog)
    assert secret not in text_of(viewer_web.get(reverse("web:settings")))
    assert "CI schema check" in text_of(viewer_web.get(reverse("web:settings")))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/event/events").status_code == 200
    key = ApiKey.objects.get(user=viewer)
    response = viewer_web.post(reverse("web:api_key_revoke", args=[key.pk]), follow=True)
    assert "is revoked" in text_of(response)
    assert api.get("/api/v1/event/events").status_code == 401


def test_an_api_key_needs_a_name(viewer_web):
    response = viewer_web.post(reverse("web:settings"), {"name": ""})
    assert response.status_code == 400
    assert "This field is required." in text_of(response)
    assert not ApiKey.objects.exists()


def test_nobody_revokes_another_users_key(viewer_web, editor):
    from catalog.services.keys import api_key_create
    from tests.factories import SYSTEM

    key, _ = api_key_create(ctx=SYSTEM, user=editor)
    assert viewer_web.post(reverse("web:api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_email_preference(viewer_web, viewer):
    response = viewer_web.post(reverse("web:settings"), {"email_frequency": "daily"}, follow=True)
    assert "Your email preference is saved." in text_of(response)
    viewer.refresh_from_db()
    assert viewer.email_frequency == EmailFrequency.DAILY
    bad = viewer_web.post(reverse("web:settings"), {"email_frequency": "hourly"})
    assert bad.status_code == 400


# Errors and odd input


def test_unknown_pages_are_styled_404s(viewer_web):
    response = viewer_web.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in text_of(response)
    assert "/static/catalog/site.css" in response.content.decode()


@pytest.mark.parametrize("q", ["\x00", "a" * 5000, "' OR 1=1 --", "*", "NEAR(", "", "a:b & !c"])
def test_ugly_search_input_is_never_an_error(viewer_web, order_completed, q):
    assert viewer_web.get("/search/", {"q": q}).status_code == 200
    assert (
        viewer_web.get("/search/", {"q": q, "suggest": "1"}, HTTP_HX_REQUEST="true").status_code
        == 200
    )


def test_invalid_utf8_in_the_query_string(viewer_web, order_completed):
    assert viewer_web.get("/search/?q=%ED%A0%80%FF").status_code == 200
    assert viewer_web.get("/events/?tag=%FF%FE&owner=%00").status_code == 200


def test_methods_not_allowed(viewer_web, order_completed):
    assert viewer_web.delete(edit_url(order_completed)).status_code == 405
    assert (
        viewer_web.get(reverse("web:resource_subscribe", args=[order_completed.pk])).status_code
        == 405
    )


def test_a_save_on_top_of_a_newer_change_is_stopped(editor_web, order_completed):
    """Two people open the form; the second to save is told, and undoes nothing silently."""
    from catalog.services.context import ChangeContext
    from catalog.services.resources import resource_update

    html = editor_web.get(edit_url(order_completed)).content.decode()
    loaded = re.search(r'name="loaded" value="([^"]+)"', html).group(1)
    someone = UserFactory(username="dana")
    resource_update(
        ctx=ChangeContext(source="api", user=someone),
        resource=order_completed,
        data={"description": "Dana's better description."},
    )
    stale = form_data(order_completed, title="Order Done", loaded=loaded)
    response = editor_web.post(edit_url(order_completed), stale)
    assert response.status_code == 409
    text = text_of(response)
    assert "dana changed this event after you opened the form, so nothing was saved." in text
    assert "Your form differs from it in: Title, Description." in text
    current = Resource.objects.get(pk=order_completed.pk)
    assert (current.title, current.description) == ("Order Completed", "Dana's better description.")
    # The form now carries the current version: saving again keeps the editor's version.
    again = re.search(r'name="loaded" value="([^"]+)"', response.content.decode()).group(1)
    response = editor_web.post(edit_url(order_completed), {**stale, "loaded": again})
    assert response.status_code == 302
    assert Resource.objects.get(pk=order_completed.pk).title == "Order Done"


@pytest.mark.django_db(transaction=True)
def test_two_identical_subscribe_clicks_at_once_follow_once(viewer, order_completed):
    """A double click from two tabs at the same moment: both answer, they follow once."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    url = reverse("web:resource_subscribe", args=[order_completed.pk])
    barrier = threading.Barrier(2)
    codes = []

    def click():
        client = Client()
        client.force_login(viewer)
        barrier.wait()
        try:
            codes.append(client.post(url, {"action": "subscribe"}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [302, 302]
    assert list(order_completed.subscribers.all()) == [viewer]
    assert not ObjectChange.objects.filter(object_id=order_completed.pk).exists()  # no edit


def test_viewers_have_no_preview_to_ask_for(viewer_web):
    response = viewer_web.post(reverse("web:markdown_preview"), {"definition": "**x**"})
    assert response.status_code == 403
    assert "<strong>" not in response.content.decode()
