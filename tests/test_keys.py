"""API keys: random, hashed at rest, revocable."""

import pytest

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
