"""Viewers read only what they may see: in emails about a change, and in history.

A resource that leaves a viewer's sight (unpublished) or comes into it (published) reads, for
them, as published or unpublished only, never with the draft's text; the titles of parents
and collections they may not see are hidden wherever a diff names them.
"""

import pytest

from catalog.models import Notification
from catalog.notifications.emails import change_email
from catalog.selectors import HIDDEN_LABEL
from catalog.services.resources import resource_update, resources_bulk_update
from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    UserFactory,
    acting,
)

pytestmark = pytest.mark.django_db


def _email_to(user):
    return change_email(Notification.objects.filter(recipient=user).latest("id"))


def test_an_unpublish_that_rewrites_the_definition_tells_viewers_only_of_the_unpublish(
    editor, viewer
):
    event = EventFactory(title="Order Completed", definition="Sent by the server.")
    colleague = UserFactory(role="editor", email="colleague@example.com")
    event.subscribers.add(viewer, colleague)
    data = {"published": False, "definition": "Launch plan: Project Falcon, 1 March."}
    resource_update(ctx=acting(editor), resource=event, data=data)

    email = _email_to(viewer)
    html = email.alternatives[0][0]
    assert "Order Completed" in email.subject
    assert "Published" in email.body
    for part in (email.body, html):
        assert "Falcon" not in part and "Sent by the server" not in part
        assert "Definition" not in part
    # Editors read the whole change.
    assert "Falcon" in _email_to(colleague).body


def test_a_publish_that_rewrites_the_definition_shows_viewers_only_the_publish(editor, viewer):
    event = EventFactory(title="Order Completed", published=False, definition="Draft: TBD.")
    event.subscribers.add(viewer)
    data = {"published": True, "description": "Paid orders"}
    resource_update(ctx=acting(editor), resource=event, data=data)
    body = _email_to(viewer).body
    assert "Published" in body and "Paid orders" not in body


def test_a_bulk_unpublish_tells_viewers_only_of_the_unpublish(editor, viewer):
    event = EventFactory(title="Order Completed", pii=False)
    event.subscribers.add(viewer)
    resources_bulk_update(ctx=acting(editor), resources=[event], data={"published": False})
    row = Notification.objects.get(recipient=viewer)
    assert row.shown == [{"id": str(event.pk), "fields": ["published"]}]
    assert "Published" in change_email(row).body


def test_viewers_read_whole_changes_of_what_they_see_before_and_after(editor, viewer):
    event = EventFactory(title="Order Completed")
    event.subscribers.add(viewer)
    resource_update(ctx=acting(editor), resource=event, data={"description": "Paid orders"})
    row = Notification.objects.get(recipient=viewer)
    assert row.shown == [str(event.pk)]
    assert "Paid orders" in change_email(row).body


def _moved_and_collected(editor):
    """A published event moved out of a draft category into a published one, and added to a
    draft collection and a published one."""
    draft = EventCategoryFactory(title="Skunkworks", published=False)
    event = EventFactory(title="Order Completed", parent=draft, published=True)
    public = EventCategoryFactory(title="Checkout", integration=event.integration)
    secret = CollectionFactory(title="Acquisition target", published=False)
    open_collection = CollectionFactory(title="Funnel", published=True)
    resource_update(ctx=acting(editor), resource=event, data={"parent": public})
    resource_update(
        ctx=acting(editor), resource=event, data={"collections": [secret, open_collection]}
    )
    return event, draft, secret


def test_history_hides_from_viewers_the_titles_of_what_they_cant_see(editor, as_viewer, as_editor):
    event, draft, _ = _moved_and_collected(editor)
    url = f"/api/v1/event/events/{event.pk}/history"

    changes = as_viewer.get(url).json()["results"]
    collections, moved = changes[0]["diff"]["collections"], changes[1]["diff"]["parent"]
    assert moved[0] == {"id": str(draft.pk), "label": HIDDEN_LABEL, "hidden": True}
    assert moved[1]["label"] == "Checkout"
    labels = {item["label"] for item in collections[1]}
    assert labels == {HIDDEN_LABEL, "Funnel"}
    assert "Skunkworks" not in str(changes) and "Acquisition" not in str(changes)

    full = str(as_editor.get(url).json())
    assert "Skunkworks" in full and "Acquisition target" in full


def test_the_history_page_hides_them_too(editor, viewer, client, django_assert_max_num_queries):
    event, _, _ = _moved_and_collected(editor)
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        page = client.get(f"/resources/{event.pk}/history/").content.decode()
    assert "Order Completed" in page and "Checkout" in page and "Funnel" in page
    assert "Skunkworks" not in page and "Acquisition target" not in page
    assert HIDDEN_LABEL in page


def test_emails_to_viewers_hide_them_too(editor, viewer):
    event = EventFactory(title="Order Completed")
    event.subscribers.add(viewer)
    secret = CollectionFactory(title="Acquisition target", published=False)
    resource_update(ctx=acting(editor), resource=event, data={"collections": [secret]})
    email = _email_to(viewer)
    assert "Acquisition" not in email.body and "Acquisition" not in email.alternatives[0][0]
    assert HIDDEN_LABEL in email.body
