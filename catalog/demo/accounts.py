"""The demo's sign-in accounts, and the file that keeps their passwords.

When the demo catalog is loaded, each `[[accounts]]` entry of `catalog.toml` (an admin, an
editor and a viewer) becomes a user with a random password; a username that is taken already
is left as it is. The loader writes the new accounts and their passwords to a JSON file
(`DATA_DIR/demo-accounts.json` for `manage.py serve`), readable by its owner only, so that every
start of `serve` can print them again, for as long as an account still has that password: once
someone changes it, the file's copy is stale, and `read_demo_accounts` says so. Nothing else
creates these accounts: not the migrations, not the settings.

The same file keeps the secret of the demo's write key (`write_keys`: integration, id, prefix,
secret), which serve prints with a ready-to-paste `curl` example while the key is not revoked.
A file written before the demo had a write key has no `write_keys`, and reads as having none.
"""

import json
import os
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import check_password

from catalog.demo.data import DemoCatalogError
from catalog.models import User, WriteKey

__all__ = [
    "DemoAccount",
    "DemoWriteKey",
    "demo_accounts_file",
    "read_demo_accounts",
    "read_demo_write_keys",
    "save_demo_accounts",
]

ABOUT = (
    "The demo accounts of Event Catalog, made when `manage.py serve` loaded the demo catalog. "
    "serve prints them at each start while an account still has this password. Delete this "
    "file, or change the passwords (uv run manage.py changepassword USERNAME), before the "
    "catalog holds anything real. The write keys send events to the catalog: revoke them (in "
    "the admin, on the integration's page) before it holds anything real."
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    #: The password the demo gave it; None when the operator gave it (ADMIN_PASSWORD).
    password: str | None
    #: "current" (it still has `password`), "changed" (someone changed it since), "given"
    #: (the operator's password, not kept) or "inactive" (deactivated since).
    status: str


@dataclass(frozen=True)
class DemoWriteKey:
    integration: str
    prefix: str
    secret: str
    #: "active", or "revoked" (since the demo was loaded).
    status: str


def demo_accounts_file() -> Path:
    return Path(settings.DATA_DIR) / "demo-accounts.json"


def new_password() -> str:
    return secrets.token_urlsafe(12)


def save_demo_accounts(
    path: Path,
    accounts: Iterable[tuple[User, str | None]],
    write_keys: Iterable[tuple[WriteKey, str]] = (),
) -> None:
    """Write (user, password) pairs and (write key, secret) pairs to `path`, readable and
    writable by its owner only."""
    content = {
        "about": ABOUT,
        "accounts": [
            {
                "username": user.username,
                "role": user.role,
                "id": str(user.pk),
                "password": password,
                "hash": user.password,
            }
            for user, password in accounts
        ],
        "write_keys": [
            {
                "integration": key.integration.name,
                "id": str(key.pk),
                "prefix": key.prefix,
                "secret": secret,
            }
            for key, secret in write_keys
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.chmod(temporary, 0o600)  # Even if an older file of that name was more open.
        json.dump(content, file, indent=2)
        file.write("\n")
    os.replace(temporary, path)


def read_demo_accounts(path: Path) -> list[DemoAccount]:
    """The accounts of `path` that exist in this database, in the file's order, each with
    whether it still has the password the file keeps. No file: none."""

    def account(entry) -> tuple:
        if not isinstance(entry["password"], str | None):
            raise TypeError("a password is neither a string nor null")
        return uuid.UUID(entry["id"]), entry["password"], entry.get("hash")

    entries = _read_entries(path, "accounts", account, "accounts")
    users = User.objects.in_bulk([pk for pk, _, _ in entries])
    return [
        DemoAccount(
            users[pk].username, users[pk].role, password, _status(users[pk], password, hash_)
        )
        for pk, password, hash_ in entries
        if pk in users
    ]


def read_demo_write_keys(path: Path) -> list[DemoWriteKey]:
    """The write keys of `path` that exist in this database, in the file's order, each with
    whether it is revoked. No file, or a file without write keys (written before the demo
    had one): none."""

    def write_key(entry) -> tuple:
        if not isinstance(entry["secret"], str):
            raise TypeError("a secret is not a string")
        return uuid.UUID(entry["id"]), str(entry["prefix"]), entry["secret"]

    entries = _read_entries(path, "write_keys", write_key, "write keys", required=False)
    keys = WriteKey.objects.select_related("integration").in_bulk([pk for pk, _, _ in entries])
    return [
        DemoWriteKey(
            keys[pk].integration.name,
            prefix,
            secret,
            "revoked" if keys[pk].is_revoked else "active",
        )
        for pk, prefix, secret in entries
        if pk in keys and keys[pk].prefix == prefix
    ]


def _read_entries(path: Path, section: str, parse, what: str, *, required=True) -> list:
    """`parse(entry)` for each entry of `section` of the JSON file `path`; no file, or no
    such section when it isn't `required`: none. Anything malformed (`parse` raises
    TypeError, KeyError or ValueError) is a DemoCatalogError naming the file."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        return [
            parse(entry) for entry in (content[section] if required else content.get(section, ()))
        ]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise DemoCatalogError(f"Can't read the demo {what} in {path}: {error!r}.") from error


def _status(user: User, password: str | None, stored_hash: str | None) -> str:
    if not user.is_active:
        return "inactive"
    if password is None:
        return "given"
    # The same hash as when the file was written means the same password, and costs nothing;
    # checking a password costs a good part of a second, on purpose. A new hash may hold the
    # same password (Django re-hashes it at login when its hasher gets more iterations).
    if user.password == stored_hash or check_password(password, user.password):
        return "current"
    return "changed"
