"""API keys: a user's keys for the REST API (see `catalog.services.key_secrets`)."""

from catalog.models import ApiKey, User
from catalog.policy import Action, ensure_for
from catalog.selectors import active_api_key
from catalog.services.context import ChangeContext
from catalog.services.key_secrets import create_key, lookup_of, matches, note_use, revoke_key

KEY_PREFIX = "ec"


def api_key_create(*, ctx: ChangeContext, user: User, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for `user`; returns the row and the secret, which is never stored.

    Refused when the caller authenticated with an API key (a leaked key must not mint new
    ones) and, for someone else's key, unless the caller is an admin or the system.
    """
    ensure_for(ctx, Action.ADD, ApiKey)
    if not ctx.is_system and ctx.user is not None and ctx.user.pk != user.pk:
        ensure_for(ctx, Action.CHANGE, user)
    return create_key(ctx, ApiKey, KEY_PREFIX, user=user, name=name)


def api_key_authenticate(secret: str) -> ApiKey | None:
    """Return the active key that `secret` belongs to, recording its use, or None."""
    lookup = lookup_of(secret, KEY_PREFIX)
    key = active_api_key(lookup) if lookup else None
    if not matches(key, secret):
        return None
    note_use(key)
    return key


def api_key_revoke(*, ctx: ChangeContext, key: ApiKey) -> ApiKey:
    """Revoke `key` at once: its owner or an admin may. Revoking twice changes nothing."""
    ensure_for(ctx, Action.DELETE, key)
    return revoke_key(ctx, key)
