"""A service's refusal in the admin is shown where the user acted, never a 500: on the form
(what was typed kept), as a message after a delete, as a message after a bulk action."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from catalog.models import Event, Integration, Role, Tag, User
from catalog.services.errors import InUse
from tests.factories import EventFactory, IntegrationFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

LAST_ADMIN = "The workspace needs at least one active admin: make someone else an admin first."


def user_form(user: User, **changes) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "is_active": "on",
        "is_staff": "on",
        "email_frequency": "immediate",
        **changes,
    }


def messages_of(client, response) -> str:
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_the_last_admin_demoting_themselves_sees_why_on_the_form(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:catalog_user_change", args=[admin_user.pk])

    response = client.post(url, user_form(admin_user, role="editor", first_name="Ada"))

    assert response.status_code == 200
    page = response.content.decode()
    assert f'<ul class="errorlist nonfield"><li>{LAST_ADMIN}</li></ul>' in page
    # What was typed stays on the form.
    assert 'name="first_name" value="Ada"' in page
    assert '<option value="editor" selected>' in page
    admin_user.refresh_from_db()
    assert (admin_user.role, admin_user.first_name) == (Role.ADMIN, "")


def test_deleting_the_last_admin_is_a_message(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:catalog_user_delete", args=[admin_user.pk])

    response = client.post(url, {"post": "yes"})

    assert response["Location"] == reverse("admin:catalog_user_change", args=[admin_user.pk])
    assert LAST_ADMIN in messages_of(client, response)
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_a_bulk_delete_with_the_last_admin_deletes_nobody(client, admin_user):
    viewer = UserFactory(role=Role.VIEWER)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:catalog_user_changelist"),
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [viewer.pk, admin_user.pk],
        },
    )

    assert LAST_ADMIN in messages_of(client, response)
    assert User.objects.filter(pk__in=[viewer.pk, admin_user.pk]).count() == 2


def test_an_integration_found_in_use_on_delete_is_a_message(client, admin_user, monkeypatch):
    """Resources added to the integration after the confirmation page: the service refuses."""
    integration = IntegrationFactory(name="Web app")

    def in_use(**kwargs):
        raise InUse("The integration Web app is still used by catalog resources.")

    monkeypatch.setattr("catalog.admin.workspace.workspace_object_delete", in_use)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:catalog_integration_delete", args=[integration.pk]), {"post": "yes"}
    )

    assert "is still used by catalog resources" in messages_of(client, response)
    assert Integration.objects.filter(pk=integration.pk).exists()


def test_a_tag_refused_on_delete_keeps_every_selected_tag(client, editor, monkeypatch):
    from catalog.services import workspace

    first, second = TagFactory(title="aaa"), TagFactory(title="zzz")

    delete = workspace.workspace_object_delete

    def refuse_the_second(*, ctx, obj):
        if obj.pk == second.pk:
            raise InUse("The tag zzz is still used.")
        delete(ctx=ctx, obj=obj)

    monkeypatch.setattr(workspace, "workspace_object_delete", refuse_the_second)
    client.force_login(editor)

    response = client.post(
        reverse("admin:catalog_tag_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [first.pk, second.pk]},
    )

    assert "The tag zzz is still used." in messages_of(client, response)
    assert Tag.objects.filter(pk__in=[first.pk, second.pk]).count() == 2


def test_a_refused_resource_change_shows_on_its_field_with_the_input_kept(
    client, editor, monkeypatch
):
    event = EventFactory(title="signed_up")

    def refuse(**kwargs):
        raise ValidationError({"title": "An event with this title already exists here."})

    monkeypatch.setattr("catalog.admin.resources.resource_update", refuse)
    client.force_login(editor)
    url = reverse("admin:catalog_event_change", args=[event.pk])

    response = client.post(
        url, {"title": "signed_in", "parent": event.parent_id, "description": "Typed."}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        '<ul class="errorlist" id="id_title_error"><li>An event with this title already '
        "exists here.</li></ul>" in page
    )
    assert 'value="signed_in"' in page
    assert "Typed.</textarea>" in page
    assert Event.objects.get(pk=event.pk).title == "signed_up"


@pytest.mark.parametrize(
    ("refusal", "said"),
    [
        (PermissionDenied("Only admins may do this."), "Only admins may do this."),
        (Event.DoesNotExist(), "It was deleted meanwhile: nothing was saved."),
    ],
)
def test_other_refusals_show_above_the_form(client, editor, monkeypatch, refusal, said):
    event = EventFactory()

    def refuse(**kwargs):
        raise refusal

    monkeypatch.setattr("catalog.admin.resources.resource_update", refuse)
    client.force_login(editor)

    response = client.post(
        reverse("admin:catalog_event_change", args=[event.pk]),
        {"title": "renamed", "parent": event.parent_id},
    )

    assert response.status_code == 200
    assert f'<ul class="errorlist nonfield"><li>{said}</li></ul>' in response.content.decode()


def test_a_refused_bulk_action_is_a_message(client, editor, monkeypatch):
    event = EventFactory(verified=False)

    def refuse(**kwargs):
        raise PermissionDenied("Only editors and admins can change the catalog.")

    monkeypatch.setattr("catalog.admin.resources.resources_bulk_update", refuse)
    client.force_login(editor)

    response = client.post(
        reverse("admin:catalog_event_changelist"),
        {"action": "mark_verified", "_selected_action": [event.pk]},
    )

    assert "Only editors and admins can change the catalog." in messages_of(client, response)
    assert not Event.objects.get(pk=event.pk).verified


def test_a_refused_new_user_shows_on_the_add_form(client, admin_user, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"username": "A user with that username already exists."})

    monkeypatch.setattr("catalog.admin.people.user_create", refuse)
    client.force_login(admin_user)
    password = "a-long-pass-phrase-1"

    response = client.post(
        reverse("admin:catalog_user_add"),
        {
            "username": "newcomer",
            "email": "new@example.com",
            "role": "editor",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "A user with that username already exists." in page
    assert 'value="new@example.com"' in page
    assert not User.objects.filter(username="newcomer").exists()
