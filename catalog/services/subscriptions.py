"""Following resources: who is emailed when a resource changes."""

import uuid
from collections.abc import Iterable

from django.db import transaction

from catalog.models import Resource, User
from catalog.policy import Action, ensure_for

from .context import ChangeContext


def subscriptions_remove(*, ctx: ChangeContext, user: User, resource_ids: Iterable) -> int:
    """Stop `user` following the resources (those that still exist); return how many stopped.

    Anyone may stop following resources themselves (an email's unsubscribe link acts as the
    recipient, who may have been deactivated since); doing it for someone else is for admins.
    Ids that are not UUIDs are ignored, so a second call simply removes nothing.
    """
    if not ctx.is_system and ctx.user != user:
        ensure_for(ctx, Action.CHANGE, User)
    ids = set()
    for value in resource_ids:
        try:
            ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not ids:
        return 0
    through = Resource.subscribers.through
    with transaction.atomic():
        removed, _ = through.objects.filter(resource_id__in=ids, user_id=user.pk).delete()
    return removed
