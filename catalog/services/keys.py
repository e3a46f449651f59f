"""API keys: made random, stored hashed, shown once, compared in constant time."""

import hashlib
import hmac
import secrets

from django.utils import timezone

from catalog.models import ApiKey, User

KEY_PREFIX = "ec"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, user: User, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for `user`; returns the row and the secret, which is never stored."""
    lookup = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(user=user, name=name, prefix=lookup, key_hash=_hash(secret))
    return key, secret


def api_key_authenticate(secret: str) -> ApiKey | None:
    """Return the active key that `secret` belongs to, recording its use, or None."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.active().select_related("user").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    now = timezone.now()
    # Write at most once a minute per key: a busy script shouldn't turn reads into writes.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_revoke(*, key: ApiKey) -> None:
    if not key.is_revoked:
        key.revoke()
