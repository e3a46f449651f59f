"""Absolute links in emails, and the signed tokens of unsubscribe links.

Emails are read outside the site, so every link is absolute, built from `SITE_URL`. The
unsubscribe token names a user and the resources to stop following; it is signed (not
encrypted) with its own salt, so it can't be forged or reused for another purpose.
"""

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.urls import reverse

from catalog.models import EntityType, ObjectType

UNSUBSCRIBE_SALT = "catalog.notifications.unsubscribe"


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def resource_url(resource_id) -> str:
    """The one place that knows where a resource lives on the site: its catalog page, which
    every role can open (the admin is for editors and admins only)."""
    return absolute_url(reverse("web:resource", args=[resource_id]))


def object_url(object_type: str, object_id) -> str | None:
    """Where an email's reader opens a changed object: a resource's catalog page, a
    collection's page in the admin; None for what has no page of its own."""
    if object_type in EntityType.values:
        return resource_url(object_id)
    if object_type == ObjectType.COLLECTION:
        return absolute_url(reverse("admin:catalog_collection_change", args=[object_id]))
    return None


def unsubscribe_token(user_id, resource_ids: Iterable) -> str:
    data = {"u": str(user_id), "r": [str(pk) for pk in resource_ids]}
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The user and resources a token names; BadSignature if it was not made by us."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    try:
        return uuid.UUID(data["u"]), [uuid.UUID(pk) for pk in data["r"]]
    except (KeyError, TypeError, ValueError) as error:
        raise signing.BadSignature("Malformed unsubscribe token.") from error


def unsubscribe_url(user_id, resource_ids: Iterable) -> str:
    token = unsubscribe_token(user_id, resource_ids)
    return absolute_url(reverse("unsubscribe", args=[token]))
