"""Definitions and descriptions have a stored limit, the same on the catalog pages, in the
admin and in the services as in the API (tests/api/test_text_limits.py)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.models import Resource
from catalog.services.resources import resource_update
from tests.api.test_text_limits import TOO_LONG_DEFINITION
from tests.factories import SYSTEM, EventFactory
from tests.web.test_editing import edit_url, form_data
from tests.web.test_pages import text_of

pytestmark = pytest.mark.django_db


def test_the_services_refuse_it_for_every_caller():
    event = EventFactory()

    with pytest.raises(ValidationError) as refused:
        resource_update(ctx=SYSTEM, resource=event, data={"definition": "x" * 100_001})

    assert refused.value.message_dict == {"definition": [TOO_LONG_DEFINITION]}


def test_a_row_stored_before_the_limit_still_shows_and_other_fields_still_save(
    editor_web, order_completed
):
    Resource.objects.filter(pk=order_completed.pk).update(definition="y" * 150_000)

    page = editor_web.get(reverse("web:resource", args=[order_completed.pk]))
    saved = resource_update(ctx=SYSTEM, resource=order_completed, data={"verified": True})

    assert page.status_code == 200
    assert "y" * 100_000 in page.content.decode()
    assert "y" * 100_001 not in page.content.decode()
    assert saved.verified and len(saved.definition) == 150_000


def test_the_admin_shows_the_message_next_to_the_field(client, editor):
    event = EventFactory()
    client.force_login(editor)

    response = client.post(
        reverse("admin:catalog_event_change", args=[event.pk]),
        {"title": event.title, "parent": event.parent.pk, "definition": "x" * 100_001},
    )

    assert response.status_code == 200
    assert TOO_LONG_DEFINITION in response.content.decode()
    event.refresh_from_db()
    assert event.definition == ""


def test_the_edit_page_says_what_is_too_long(editor_web, order_completed):
    response = editor_web.post(
        edit_url(order_completed), form_data(order_completed, definition="x" * 100_001)
    )

    assert response.status_code == 400
    assert TOO_LONG_DEFINITION in text_of(response)
    assert "Nothing was saved" in text_of(response)
    order_completed.refresh_from_db()
    assert order_completed.definition.startswith("## When")


def test_line_breaks_count_once_however_the_browser_sends_them(editor_web, order_completed):
    # 100,000 characters once stored, 100,999 as sent.
    text = ("x" * 99 + "\r\n") * 999 + "x" * 100

    response = editor_web.post(
        edit_url(order_completed), form_data(order_completed, definition=text)
    )

    assert response.status_code == 302
    order_completed.refresh_from_db()
    assert len(order_completed.definition) == 100_000


@pytest.mark.parametrize("htmx", [True, False])
def test_the_preview_says_the_text_is_too_long_instead_of_rendering_it(editor_web, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = editor_web.post(
        reverse("web:markdown_preview"), {"definition": "**x**" * 20_001}, **headers
    )

    # htmx shows only a success; a plain request gets the status that says what happened.
    assert response.status_code == (200 if htmx else 400)
    assert text_of(response) == TOO_LONG_DEFINITION.replace("100,001", "100,005")
    assert "<strong>" not in response.content.decode()


def test_the_preview_button_of_the_form_says_it_too(editor_web, order_completed):
    response = editor_web.post(
        edit_url(order_completed),
        form_data(order_completed, definition="x" * 100_001, preview="1"),
    )

    assert response.status_code == 400
    assert TOO_LONG_DEFINITION in text_of(response)
