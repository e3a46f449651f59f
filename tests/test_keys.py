"""API keys: random, hashed at rest, revocable."""

import pytest
from django.utils import timezone

from catalog.models import ApiKey, User
from catalog.services.keys import api_key_authenticate, api_key_create, api_key_revoke
from tests.factories import SYSTEM

pytestmark = pytest.mark.django_db


def test_a_new_key_authenticates_and_records_its_use(editor):
    key, secret = api_key_create(ctx=SYSTEM, user=editor, name="ci")
    assert secret not in key.key_hash and key.prefix in secret
    found = api_key_authenticate(secret)
    assert found == key
    assert found.user == editor
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_the_key_and_user_read_for_a_request_are_what_the_orm_reads(
    editor, django_assert_num_queries
):
    key, secret = api_key_create(ctx=SYSTEM, user=editor, name="ci")
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())  # no write below
    with django_assert_num_queries(1):
        found = api_key_authenticate(secret)
        fields = {f.attname: getattr(found, f.attname) for f in ApiKey._meta.concrete_fields}
        user = {f.attname: getattr(found.user, f.attname) for f in User._meta.concrete_fields}
    stored = ApiKey.objects.select_related("user").get(pk=key.pk)
    assert fields == {f.attname: getattr(stored, f.attname) for f in ApiKey._meta.concrete_fields}
    assert user == {f.attname: getattr(stored.user, f.attname) for f in User._meta.concrete_fields}
    assert fields["created_at"].tzinfo is not None and fields["name"] == "ci"
    assert not hasattr(found.user, "key_hash")  # the key's columns don't stay on the user


@pytest.mark.parametrize(
    "attempt", ["", "nonsense", "ec_abc", "ec_{prefix}_wrong", "xx_{prefix}_x"]
)
def test_wrong_secrets_are_refused(editor, attempt):
    key, _ = api_key_create(ctx=SYSTEM, user=editor)
    assert api_key_authenticate(attempt.format(prefix=key.prefix)) is None


def test_revoked_keys_and_inactive_users_are_refused(editor):
    key, secret = api_key_create(ctx=SYSTEM, user=editor)
    api_key_revoke(ctx=SYSTEM, key=key)
    assert api_key_authenticate(secret) is None
    _, other = api_key_create(ctx=SYSTEM, user=editor)
    editor.is_active = False
    editor.save()
    assert api_key_authenticate(other) is None


def test_keys_are_unique(editor):
    secrets = {api_key_create(ctx=SYSTEM, user=editor)[1] for _ in range(20)}
    assert len(secrets) == 20
