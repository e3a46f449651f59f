"""Integrations' write keys (see `catalog.services.key_secrets`).

A write key only sends events (see `catalog.policy.may_for`); user API keys are in `keys.py`.
"""

from catalog.models import Integration, WriteKey
from catalog.policy import Action, ensure_for
from catalog.services.context import ChangeContext
from catalog.services.key_secrets import create_key, lookup_of, matches, note_use, revoke_key

KEY_PREFIX = "wk"


def write_key_create(
    *, ctx: ChangeContext, integration: Integration, name: str = ""
) -> tuple[WriteKey, str]:
    """Create a write key for `integration`; returns the row and the secret, never stored.

    Admins (and the system) only: a write key lets anyone add to the catalog by sending events.
    """
    ensure_for(ctx, Action.ADD, WriteKey)
    return create_key(
        ctx, WriteKey, KEY_PREFIX, integration=integration, name=name, created_by=ctx.user
    )


def write_key_authenticate(secret: str) -> WriteKey | None:
    """Return the active key `secret` belongs to (with its integration), or None.

    Records the use at most once a minute per key.
    """
    lookup = lookup_of(secret, KEY_PREFIX)
    if lookup is None:
        return None
    key = WriteKey.objects.active().select_related("integration").filter(prefix=lookup).first()
    if not matches(key, secret):
        return None
    note_use(key)
    return key


def write_key_revoke(*, ctx: ChangeContext, key: WriteKey) -> WriteKey:
    """Revoke `key` at once (admins). Revoking twice changes nothing."""
    ensure_for(ctx, Action.DELETE, key)
    return revoke_key(ctx, key)
