"""A service's refusal on a catalog page shows on the form that was sent, with what was
typed, as in the admin (tests/test_admin_refusals.py); never a 500."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from catalog.models import ApiKey, Resource
from tests.web.test_editing import edit_url, form_data
from tests.web.test_pages import text_of

pytestmark = pytest.mark.django_db


def refusing(refusal):
    def service(**kwargs):
        raise refusal

    return service


def test_a_resource_deleted_meanwhile_keeps_the_typed_text(
    editor_web, order_completed, monkeypatch
):
    monkeypatch.setattr(
        "catalog.web.views.resource_update", refusing(Resource.DoesNotExist("gone"))
    )

    response = editor_web.post(
        edit_url(order_completed), form_data(order_completed, definition="My new words.")
    )

    assert response.status_code == 400
    assert "It was deleted meanwhile: nothing was saved." in text_of(response)
    assert "My new words.</textarea>" in response.content.decode()


def test_a_field_refusal_shows_next_to_its_field(editor_web, order_completed, monkeypatch):
    refusal = ValidationError({"title": "An event with this title already exists here."})
    monkeypatch.setattr("catalog.web.views.resource_update", refusing(refusal))

    response = editor_web.post(
        edit_url(order_completed), form_data(order_completed, title="Order Placed")
    )

    assert response.status_code == 400
    assert "An event with this title already exists here." in text_of(response)
    assert 'value="Order Placed"' in response.content.decode()


def test_a_refused_api_key_shows_on_the_key_form(viewer_web, monkeypatch):
    refusal = PermissionDenied("An API key may not create API keys.")
    monkeypatch.setattr("catalog.web.views.api_key_create", refusing(refusal))

    response = viewer_web.post(reverse("web:settings"), {"name": "CI schema check"})

    assert response.status_code == 400
    assert "An API key may not create API keys." in text_of(response)
    assert 'value="CI schema check"' in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_refused_email_preference_shows_on_its_form(viewer_web, viewer, monkeypatch):
    refusal = ValidationError("Email is off in this workspace.")
    monkeypatch.setattr("catalog.web.views.user_update_profile", refusing(refusal))

    response = viewer_web.post(reverse("web:settings"), {"email_frequency": "daily"})

    assert response.status_code == 400
    assert "Email is off in this workspace." in text_of(response)
    assert 'value="daily" id="id_email_frequency_1" required checked' in (response.content.decode())
