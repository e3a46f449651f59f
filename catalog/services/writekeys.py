"""Integrations' write keys: made random, stored hashed, shown once, compared in constant time.

A write key only sends events (see `catalog.policy.may_for`); user API keys are in `keys.py`.
"""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from catalog.models import Integration, WriteKey
from catalog.policy import Action, ensure_for
from catalog.services.context import ChangeContext

KEY_PREFIX = "wk"
#: Seconds between two writes of a key's `last_used_at`: a busy tracker mustn't turn every
#: batch into an UPDATE of the same row.
LAST_USED_EVERY = 60


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def write_key_create(
    *, ctx: ChangeContext, integration: Integration, name: str = ""
) -> tuple[WriteKey, str]:
    """Create a write key for `integration`; returns the row and the secret, never stored.

    Admins (and the system) only: a write key lets anyone add to the catalog by sending events.
    """
    ensure_for(ctx, Action.ADD, WriteKey)
    lookup = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"
    key = WriteKey.objects.create(
        integration=integration,
        name=name,
        prefix=lookup,
        key_hash=_hash(secret),
        created_by=ctx.user,
    )
    return key, secret


def write_key_authenticate(secret: str) -> WriteKey | None:
    """Return the active key `secret` belongs to (with its integration), or None.

    Records the use at most once a minute per key.
    """
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX or not secret.isprintable():
        return None
    key = WriteKey.objects.active().select_related("integration").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_EVERY:
        WriteKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def write_key_revoke(*, ctx: ChangeContext, key: WriteKey) -> WriteKey:
    """Revoke `key` at once (admins). Revoking twice changes nothing."""
    ensure_for(ctx, Action.DELETE, key)
    with transaction.atomic():
        WriteKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    key.refresh_from_db(fields=["revoked_at"])
    return key
