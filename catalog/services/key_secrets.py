"""What API keys and write keys share: made random, stored hashed, shown once, compared in
constant time, their use noted at most once a minute, revoked for good, and recorded.

A key's secret is `<kind>_<lookup>_<random>`: the short lookup finds the row without a scan,
and only a SHA-256 hash of the whole secret is stored (the secret is random, so a slow hash
adds nothing). The history names a key by its name and prefix, never by its secret.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from catalog.services.changes import object_snapshot, record_object_change
from catalog.services.context import ChangeContext

#: Seconds between two writes of a key's `last_used_at`: a busy script or tracker mustn't
#: turn every request into an UPDATE of the same row.
LAST_USED_EVERY = 60


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Minted:
    lookup: str
    secret: str
    key_hash: str


def mint(kind: str) -> Minted:
    """A new random secret of `kind` ("ec" for API keys, "wk" for write keys)."""
    lookup = secrets.token_hex(6)
    secret = f"{kind}_{lookup}_{secrets.token_urlsafe(32)}"
    return Minted(lookup, secret, _hash(secret))


def lookup_of(secret: str, kind: str) -> str | None:
    """The lookup part of a secret that looks like one of `kind`, or None."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != kind or not secret.isprintable():
        return None
    return parts[1]


def matches(key, secret: str) -> bool:
    """Whether `secret` is `key`'s, compared in constant time."""
    return key is not None and hmac.compare_digest(key.key_hash, _hash(secret))


def note_use(key) -> None:
    """Set `last_used_at`, writing it at most once every `LAST_USED_EVERY` seconds."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_EVERY:
        type(key).objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def create_key(ctx: ChangeContext, model: type[models.Model], kind: str, **fields):
    """Store a new key of `model` and record its creation; returns (row, secret)."""
    minted = mint(kind)
    with transaction.atomic():
        key = model.objects.create(prefix=minted.lookup, key_hash=minted.key_hash, **fields)
        record_object_change(ctx, key, "create", {}, object_snapshot(key))
    return key, minted.secret


def revoke_key(ctx: ChangeContext, key):
    """Revoke `key` at once and record it; revoking twice changes (and records) nothing."""
    model = type(key)
    with transaction.atomic():
        current = model.objects.select_for_update().filter(pk=key.pk).first()
        if current is not None and current.revoked_at is None:
            before = object_snapshot(current)
            current.revoked_at = timezone.now()
            current.save(update_fields=["revoked_at"])
            record_object_change(ctx, current, "update", before, object_snapshot(current))
    key.refresh_from_db(fields=["revoked_at"])
    return key
