"""API keys: made random, stored hashed, shown once, compared in constant time."""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from catalog.models import ApiKey, User
from catalog.policy import Action, ensure_for
from catalog.selectors import active_api_key
from catalog.services.context import ChangeContext

KEY_PREFIX = "ec"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, ctx: ChangeContext, user: User, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for `user`; returns the row and the secret, which is never stored.

    Refused when the caller authenticated with an API key (a leaked key must not mint new
    ones) and, for someone else's key, unless the caller is an admin or the system.
    """
    ensure_for(ctx, Action.ADD, ApiKey)
    if not ctx.is_system and ctx.user is not None and ctx.user.pk != user.pk:
        ensure_for(ctx, Action.CHANGE, user)
    lookup = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(user=user, name=name, prefix=lookup, key_hash=_hash(secret))
    return key, secret


def api_key_authenticate(secret: str) -> ApiKey | None:
    """Return the active key that `secret` belongs to, recording its use, or None."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        return None
    key = active_api_key(parts[1])
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    now = timezone.now()
    # Write at most once a minute per key: a busy script shouldn't turn reads into writes.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_revoke(*, ctx: ChangeContext, key: ApiKey) -> ApiKey:
    """Revoke `key` at once: its owner or an admin may. Revoking twice changes nothing."""
    ensure_for(ctx, Action.DELETE, key)
    with transaction.atomic():
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key
