"""Following resources: who is emailed when a resource changes."""

import uuid
from collections.abc import Iterable

from catalog.models import User
from catalog.policy import Action, ensure_for
from catalog.selectors import relation_ids_of
from catalog.services.changes import Change, record_changes
from catalog.services.context import ChangeContext
from catalog.services.errors import atomic_write
from catalog.services.resources import lock_resources, write_m2m


@atomic_write
def subscriptions_remove(*, ctx: ChangeContext, user: User, resource_ids: Iterable) -> int:
    """Stop `user` following the resources (those that still exist); return how many stopped.

    Anyone may stop following resources themselves (an email's unsubscribe link acts as the
    recipient, who may have been deactivated since); doing it for someone else is for admins.
    Ids that are not UUIDs are ignored, so a second call simply removes nothing. Each removal
    is in the resource's history like any other change of its subscribers (which emails
    nobody).
    """
    if not ctx.is_system and ctx.user != user:
        ensure_for(ctx, Action.CHANGE, User)
    ids = set()
    for value in resource_ids:
        try:
            ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    rows = lock_resources(ids) if ids else []
    relations = relation_ids_of(row.pk for row in rows)
    changes = []
    for row in rows:
        before = [str(pk) for pk in relations[row.pk]["subscribers"]]
        if str(user.pk) not in before:
            continue
        after = [pk for pk in before if pk != str(user.pk)]
        write_m2m(row.pk, "subscribers", before, after)
        diff = {"subscribers": [before, after]}
        changes.append(Change(row.pk, row.entity_type, row.title, "update", diff))
    record_changes(ctx, changes, subscribers={})
    return len(changes)
