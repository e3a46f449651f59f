"""Integrations' write keys: made by admins (API, admin, command), shown once, revocable, and
useless as API keys."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import WriteKey
from catalog.services.key_secrets import LAST_USED_EVERY
from catalog.services.keys import api_key_create
from catalog.services.writekeys import (
    write_key_authenticate,
    write_key_create,
    write_key_revoke,
)
from tests.factories import SYSTEM, EventFactory, IntegrationFactory
from tests.traces import assert_shown_once

pytestmark = pytest.mark.django_db

SHOWN_ONCE = "Copy the key now: it is not recoverable; you can create new keys."
ADMINS_ONLY = {"detail": "Only admins can manage the workspace."}


def client_with(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def api_client_for(user) -> APIClient:
    return client_with(api_key_create(ctx=SYSTEM, user=user)[1])


@pytest.fixture
def integration():
    return IntegrationFactory(name="Web app")


def keys_url(integration, key=None) -> str:
    url = f"/api/v1/integration/integrations/{integration.pk}/write_keys"
    return url if key is None else f"{url}/{getattr(key, 'pk', key)}"


# --- The service ------------------------------------------------------------------------------


def test_a_key_authenticates_as_its_integration_until_revoked(integration):
    key, secret = write_key_create(ctx=SYSTEM, integration=integration, name="web")
    assert secret.startswith(f"wk_{key.prefix}_") and secret not in key.key_hash
    found = write_key_authenticate(secret)
    assert found == key and found.integration == integration

    write_key_revoke(ctx=SYSTEM, key=key)
    assert write_key_authenticate(secret) is None
    revoked_at = WriteKey.objects.get(pk=key.pk).revoked_at
    write_key_revoke(ctx=SYSTEM, key=key)  # twice: nothing changes
    assert WriteKey.objects.get(pk=key.pk).revoked_at == revoked_at


def test_last_use_is_written_at_most_once_a_minute(integration):
    key, secret = write_key_create(ctx=SYSTEM, integration=integration)
    assert key.last_used_at is None
    first = write_key_authenticate(secret).last_used_at
    assert first is not None
    write_key_authenticate(secret)
    assert WriteKey.objects.get(pk=key.pk).last_used_at == first  # within the minute: no write

    # Within the minute still (just under it): no write.
    recent = first - timedelta(seconds=LAST_USED_EVERY - 5)
    WriteKey.objects.filter(pk=key.pk).update(last_used_at=recent)
    write_key_authenticate(secret)
    assert WriteKey.objects.get(pk=key.pk).last_used_at == recent

    # Over a minute ago: recorded again.
    old = first - timedelta(seconds=LAST_USED_EVERY + 5)
    WriteKey.objects.filter(pk=key.pk).update(last_used_at=old)
    write_key_authenticate(secret)
    assert WriteKey.objects.get(pk=key.pk).last_used_at > old


@pytest.mark.parametrize(
    "attempt",
    [
        "{secret}x",  # the right prefix, a wrong secret
        "wk_{prefix}_wrong",
        "wk_{prefix}",
        "ec_{prefix}_{rest}",  # an API key's shape
        "",
        "wk",
        "wk__",
        "\x00",
        "wk_{prefix}\x00_{rest}",
        "wk_\x00_x",
        "wk_{prefix}_\x00",
        "wk_é_ü",
        "wk_" + "a" * 5000 + "_x",
        "wk_%_x",
        "wk_{prefix}_{rest}\n",
    ],
)
def test_wrong_or_garbage_secrets_are_refused(integration, attempt):
    key, secret = write_key_create(ctx=SYSTEM, integration=integration)
    rest = secret.split("_", 2)[2]
    assert (
        write_key_authenticate(attempt.format(secret=secret, prefix=key.prefix, rest=rest)) is None
    )
    assert WriteKey.objects.get(pk=key.pk).last_used_at is None


# --- The API ----------------------------------------------------------------------------------


def test_admins_create_list_and_revoke_keys(as_admin, admin_user, integration):
    created = as_admin.post(keys_url(integration), {"name": "web tracker"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
        "key",
        "detail",
    }
    assert body["name"] == "web tracker"
    assert body["last_used_at"] is None and body["revoked_at"] is None
    assert body["detail"] == SHOWN_ONCE
    secret = body["key"]
    assert secret.startswith(f"wk_{body['prefix']}_")
    key = WriteKey.objects.get(pk=body["id"])
    assert key.integration == integration and key.created_by == admin_user
    assert secret not in key.key_hash

    listed = as_admin.get(keys_url(integration))
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert [row["id"] for row in rows] == [body["id"]]
    assert set(rows[0]) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}
    assert secret not in listed.content.decode() and key.key_hash not in listed.content.decode()

    assert write_key_authenticate(secret) == key
    revoked = as_admin.delete(keys_url(integration, body["id"]))
    assert revoked.status_code == 204
    assert write_key_authenticate(secret) is None
    assert as_admin.delete(keys_url(integration, body["id"])).status_code == 204  # twice: fine

    rows = as_admin.get(keys_url(integration)).json()["results"]
    assert rows[0]["revoked_at"] is not None and rows[0]["last_used_at"] is not None


def test_the_list_is_newest_first_with_revoked_keys_and_only_the_integrations(
    as_admin, integration
):
    old, _ = write_key_create(ctx=SYSTEM, integration=integration, name="old")
    new, _ = write_key_create(ctx=SYSTEM, integration=integration, name="new")
    WriteKey.objects.filter(pk=old.pk).update(created_at=new.created_at - timedelta(days=1))
    write_key_revoke(ctx=SYSTEM, key=old)
    write_key_create(ctx=SYSTEM, integration=IntegrationFactory(), name="elsewhere")

    body = as_admin.get(keys_url(integration) + "/").json()  # a trailing slash works too
    assert body["count"] == 2
    assert [(row["name"], row["revoked_at"] is None) for row in body["results"]] == [
        ("new", True),
        ("old", False),
    ]


def test_routes_work_with_a_trailing_slash_and_the_name_is_optional(as_admin, integration):
    created = as_admin.post(keys_url(integration) + "/", format="json")
    assert created.status_code == 201
    assert created.json()["name"] == ""
    key_id = created.json()["id"]
    assert as_admin.delete(keys_url(integration, key_id) + "/").status_code == 204
    # An id without dashes works as everywhere in the API.
    assert as_admin.delete(keys_url(integration, uuid.UUID(key_id).hex)).status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 201},
        {"name": None},
        {"name": ["web"]},
        {"name": "a\x00b"},
        {"nme": "typo"},
        ["web"],
        "web",
    ],
)
def test_bad_bodies_are_400(as_admin, integration, body):
    response = as_admin.post(keys_url(integration), body, format="json")
    assert response.status_code == 400
    assert not WriteKey.objects.exists()


def test_a_body_that_is_not_json_is_400(as_admin, integration):
    response = as_admin.post(keys_url(integration), "{", content_type="application/json")
    assert response.status_code == 400
    assert not WriteKey.objects.exists()


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_get_403_with_a_message(request, integration, role):
    client = api_client_for(request.getfixturevalue(role))
    key, _ = write_key_create(ctx=SYSTEM, integration=integration)
    for response in [
        client.get(keys_url(integration)),
        client.post(keys_url(integration), {"name": "mine"}, format="json"),
        client.delete(keys_url(integration, key)),
    ]:
        assert response.status_code == 403
        assert response.json() == ADMINS_ONLY
    assert WriteKey.objects.get().revoked_at is None


def test_editors_logged_in_get_403_too(client, editor, integration):
    client.force_login(editor)
    response = client.get(keys_url(integration))
    assert response.status_code == 403
    assert response.json() == ADMINS_ONLY


def test_without_credentials_it_is_401(integration):
    client = APIClient()
    key, _ = write_key_create(ctx=SYSTEM, integration=integration)
    for response in [
        client.get(keys_url(integration)),
        client.post(keys_url(integration), {}, format="json"),
        client.delete(keys_url(integration, key)),
    ]:
        assert response.status_code == 401
        assert "detail" in response.json()


def test_a_write_key_is_no_api_key(integration):
    EventFactory()
    key, secret = write_key_create(ctx=SYSTEM, integration=integration)
    with_write_key = client_with(secret)
    for response in [
        with_write_key.get("/api/v1/event/events"),
        with_write_key.get(keys_url(integration)),
        with_write_key.post(keys_url(integration), {}, format="json"),
        with_write_key.delete(keys_url(integration, key)),
    ]:
        assert response.status_code == 401
    assert WriteKey.objects.get().revoked_at is None
    assert WriteKey.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/integration/integrations/{other}/write_keys",
        "/api/v1/integration/integrations/nonsense/write_keys",
        "/api/v1/integration/integrations/{integration}/write_keys/{other}",
        "/api/v1/integration/integrations/{integration}/write_keys/nonsense",
        "/api/v1/integration/integrations/{integration}/write_keys/{key}.json",
        "/api/v1/integration/integrations/{integration}/write_keys/%00",
    ],
)
def test_unknown_or_malformed_ids_are_404(as_admin, integration, path):
    key, _ = write_key_create(ctx=SYSTEM, integration=integration)
    url = path.format(integration=integration.pk, key=key.pk, other=uuid.uuid4())
    for method in ("get", "post") if path.endswith("write_keys") else ("delete",):
        response = getattr(as_admin, method)(url, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json() == {"detail": "Not found."}
    assert WriteKey.objects.get().revoked_at is None


def test_a_key_of_another_integration_is_404(as_admin, integration):
    theirs, secret = write_key_create(ctx=SYSTEM, integration=IntegrationFactory())
    assert as_admin.delete(keys_url(integration, theirs)).status_code == 404
    assert write_key_authenticate(secret) == theirs


def test_the_schema_documents_the_routes(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    keys = schema["paths"]["/api/v1/integration/integrations/{id}/write_keys"]
    assert set(keys) == {"get", "post"}
    assert "key" in schema["components"]["schemas"]["NewWriteKey"]["properties"]
    assert "key" not in schema["components"]["schemas"]["WriteKey"]["properties"]
    revoke = schema["paths"]["/api/v1/integration/integrations/{id}/write_keys/{key_id}"]
    assert set(revoke) == {"delete"} and "204" in revoke["delete"]["responses"]


# --- The command ------------------------------------------------------------------------------


def run_command(*args) -> list[str]:
    out = io.StringIO()
    call_command("create_write_key", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("by", ["name", "id", "hex"])
def test_the_command_prints_the_key_alone_on_its_last_line(integration, by):
    wanted = {"name": "Web app", "id": str(integration.pk), "hex": integration.pk.hex}[by]
    lines = run_command("--integration", wanted, "--name", "server")
    assert "shown only this once" in lines[0] and "not recoverable" in lines[0]
    secret = lines[-1]
    assert secret == secret.strip() and " " not in secret
    key = write_key_authenticate(secret)
    assert key is not None and key.integration == integration and key.name == "server"
    assert key.created_by is None


def test_the_command_names_an_unknown_integration_and_the_existing_ones(integration):
    IntegrationFactory(name="Backend")
    with pytest.raises(CommandError) as error:
        run_command("--integration", "Mobile")
    assert "'Mobile'" in str(error.value)
    assert "'Backend', 'Web app'" in str(error.value)
    assert not WriteKey.objects.exists()


def test_the_command_refuses_a_too_long_name(integration):
    with pytest.raises(CommandError, match="too long"):
        run_command("--integration", "Web app", "--name", "x" * 201)


# --- The admin --------------------------------------------------------------------------------


def test_admins_create_a_key_in_the_admin_and_see_it_once(client, admin_user, integration, caplog):
    client.force_login(admin_user)
    add = reverse("admin:catalog_writekey_add")
    assert client.get(add + f"?integration={integration.pk}").status_code == 200
    response = client.post(add, {"integration": integration.pk, "name": "server"})
    key = WriteKey.objects.get()
    assert key.integration == integration and key.name == "server"
    assert key.created_by == admin_user
    page = response.content.decode()
    secret = re.search(r'id="new-write-key"[^>]* value="([^"]+)"', page).group(1)
    assert write_key_authenticate(secret) == key
    assert "Copy it now: it won&#x27;t be shown again." in page
    assert f"prefix <code>{key.prefix}</code>" in page
    assert_shown_once(response, secret, caplog)
    assert not list(get_messages(response.wsgi_request))
    listing = client.get(
        f"{reverse('admin:catalog_writekey_changelist')}?integration__id__exact={integration.pk}"
    )
    assert secret not in listing.content.decode() and key.prefix in listing.content.decode()
    detail = client.get(reverse("admin:catalog_writekey_change", args=[key.pk]))
    assert detail.status_code == 200 and secret not in detail.content.decode()


def test_admins_revoke_selected_keys(client, admin_user, integration):
    first, first_secret = write_key_create(ctx=SYSTEM, integration=integration)
    second, _ = write_key_create(ctx=SYSTEM, integration=integration)
    kept, kept_secret = write_key_create(ctx=SYSTEM, integration=integration)
    write_key_revoke(ctx=SYSTEM, key=second)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:catalog_writekey_changelist"),
        {"action": "revoke", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "1 write key revoked. 1 was revoked already."
    ]
    assert write_key_authenticate(first_secret) is None
    assert write_key_authenticate(kept_secret) == kept
    assert WriteKey.objects.filter(revoked_at__isnull=False).count() == 2


def test_the_integration_page_lists_its_keys_for_admins(client, admin_user, integration):
    key, _ = write_key_create(ctx=SYSTEM, integration=integration, name="server")
    write_key_revoke(ctx=SYSTEM, key=key)
    other, _ = write_key_create(ctx=SYSTEM, integration=IntegrationFactory(), name="elsewhere")
    client.force_login(admin_user)
    page = client.get(reverse("admin:catalog_integration_change", args=[integration.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert ">Write keys</h2>" in html and "Create a write key" in html
    assert key.prefix in html and "server" in html
    assert other.prefix not in html
    assert "1 in all" in html and f"?integration={integration.pk}" in html
    # The integration still saves (the list is no inline form).
    response = client.post(
        reverse("admin:catalog_integration_change", args=[integration.pk]),
        {
            "name": "Web app",
            "type": "segment",
            "description": "",
            "validation_mode": "block",
            "max_new_events_per_day": 1000,
            "max_new_properties_per_day": 10000,
            "max_properties_per_event": 1000,
        },
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.validation_mode == "block"


def test_the_integration_list_shows_and_filters_the_validation_mode(client, admin_user):
    IntegrationFactory(name="Strict", validation_mode="block")
    IntegrationFactory(name="Loose")
    client.force_login(admin_user)
    url = reverse("admin:catalog_integration_changelist")
    html = client.get(url).content.decode()
    assert "Validation mode" in html and "Block: accept only registered events" in html
    filtered = client.get(url, {"validation_mode__exact": "block"}).content.decode()
    assert "Strict" in filtered and "Loose" not in filtered


def test_editors_see_no_write_keys_in_the_admin(client, editor, integration):
    key, secret = write_key_create(ctx=SYSTEM, integration=integration, name="server")
    client.force_login(editor)
    assert "Write keys" not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("admin:catalog_writekey_changelist")).status_code == 403
    assert client.get(reverse("admin:catalog_writekey_add")).status_code == 403
    assert client.get(reverse("admin:catalog_writekey_change", args=[key.pk])).status_code == 403
    posted = client.post(
        reverse("admin:catalog_writekey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert posted.status_code == 403
    assert (
        client.post(
            reverse("admin:catalog_writekey_add"), {"integration": integration.pk, "name": "x"}
        ).status_code
        == 403
    )
    assert WriteKey.objects.count() == 1
    assert write_key_authenticate(secret) == key
    page = client.get(reverse("admin:catalog_integration_change", args=[integration.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and key.prefix not in html and "Create a write key" not in html


def test_a_tampered_selection_is_no_500(client, admin_user, integration):
    key, _ = write_key_create(ctx=SYSTEM, integration=integration)
    client.force_login(admin_user)
    url = reverse("admin:catalog_writekey_changelist")
    for selection in [["nonsense"], ["nonsense", str(key.pk)]]:
        response = client.post(url, {"action": "revoke", "_selected_action": selection})
        assert response.status_code in (200, 302)
    assert WriteKey.objects.get().is_revoked  # the valid id of the second try
