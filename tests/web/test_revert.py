"""The history page's Revert button: undo from the catalog pages."""

import pytest
from django.urls import reverse

from catalog.models import ChangeSet
from catalog.services.context import ChangeContext
from catalog.services.resources import resource_update
from tests.web.test_editing import edit_url, form_data
from tests.web.test_pages import text_of

pytestmark = pytest.mark.django_db


def history_url(resource) -> str:
    return reverse("web:resource_history", args=[resource.pk])


def revert_url(resource, change_set) -> str:
    return reverse("web:change_set_revert", args=[resource.pk, change_set.pk])


def test_an_editor_reverts_an_edit_from_the_history(editor_web, order_completed):
    editor_web.post(edit_url(order_completed), form_data(order_completed, description="Wrong"))
    change_set = ChangeSet.objects.get()
    page = editor_web.get(history_url(order_completed)).content.decode()
    assert revert_url(order_completed, change_set) in page and ">Revert</button>" in page

    response = editor_web.post(revert_url(order_completed, change_set), follow=True)

    order_completed.refresh_from_db()
    assert order_completed.description == "The order was placed and paid."
    text = text_of(response)
    assert "Undone: 1 change, recorded in the history." in text
    assert "undid an earlier change to this" in text and "Undo" in text and "Wrong" in text


def test_a_later_edit_is_shown_before_reverting_anyway(editor_web, admin_user, order_completed):
    editor_web.post(edit_url(order_completed), form_data(order_completed, description="Two"))
    first = ChangeSet.objects.get()
    ctx = ChangeContext(source="api", user=admin_user)
    resource_update(ctx=ctx, resource=order_completed, data={"description": "Three"})

    response = editor_web.post(revert_url(order_completed, first))

    assert response.status_code == 409
    text = text_of(response)
    assert "Later changes would be overwritten" in text
    assert "description" in text and str(admin_user) in text
    assert "overwrites these later changes" in text and "force" not in text
    later = ChangeSet.objects.order_by("-created_at").first()
    assert f"{later.created_at:%Y-%m-%d %H:%M}" in text
    order_completed.refresh_from_db()
    assert order_completed.description == "Three"
    editor_web.post(revert_url(order_completed, first), {"force": "1"})
    order_completed.refresh_from_db()
    assert order_completed.description == "The order was placed and paid."


def test_viewers_see_no_revert_button_and_cannot_post_one(editor_web, viewer_web, order_completed):
    editor_web.post(edit_url(order_completed), form_data(order_completed, description="New"))
    change_set = ChangeSet.objects.get()
    page = viewer_web.get(history_url(order_completed)).content.decode()
    assert ">Revert</button>" not in page
    assert viewer_web.post(revert_url(order_completed, change_set)).status_code == 403
    order_completed.refresh_from_db()
    assert order_completed.description == "New"


def test_a_change_set_of_another_resource_is_404(editor_web, order_completed):
    editor_web.post(edit_url(order_completed), form_data(order_completed, description="New"))
    change_set = ChangeSet.objects.get()
    other = order_completed.parent
    assert editor_web.post(revert_url(other, change_set)).status_code == 404
