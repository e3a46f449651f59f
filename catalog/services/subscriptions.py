"""Following resources: who is emailed when a resource changes.

Following is each person's own business, not an edit of the resource: it is in no history and
counts as no change (the subscriber lists themselves are the record).
"""

from collections.abc import Iterable

from catalog.models import Collection, Resource, User
from catalog.policy import Action, ensure_for, resources_visible_to
from catalog.selectors import relation_ids_of, uuids_in
from catalog.services.context import ChangeContext
from catalog.services.errors import atomic_write
from catalog.services.resources import lock_resources, write_m2m

__all__ = ["subscriptions_add", "subscriptions_remove"]


def _change_subscription(user: User, rows, *, follow: bool) -> int:
    """Add or remove `user` in the subscribers of `rows` (locked); return how many changed."""
    relations = relation_ids_of(row.pk for row in rows)
    changed = 0
    for row in rows:
        before = [str(pk) for pk in relations[row.pk]["subscribers"]]
        if (str(user.pk) in before) == follow:
            continue
        others = [pk for pk in before if pk != str(user.pk)]
        after = sorted([*others, str(user.pk)]) if follow else others
        write_m2m(row.pk, "subscribers", before, after)
        changed += 1
    return changed


@atomic_write
def subscriptions_add(*, ctx: ChangeContext, user: User, resource_ids: Iterable) -> int:
    """Make `user` follow the resources (those they may see); return how many they now follow
    that they didn't before.

    Every role may follow what it can read, for itself; following for someone else is for
    admins.
    """
    if not ctx.is_system and ctx.user != user:
        ensure_for(ctx, Action.SUBSCRIBE_OTHERS, Resource)
    ensure_for(ctx, Action.SUBSCRIBE, Resource)
    ids = uuids_in(resource_ids)
    visible = set(resources_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    if not visible:
        raise Resource.DoesNotExist("No such resource.")
    return _change_subscription(user, lock_resources(visible), follow=True)


@atomic_write
def subscriptions_remove(*, ctx: ChangeContext, user: User, resource_ids: Iterable) -> int:
    """Stop `user` following the resources and collections (those that still exist); return
    how many stopped.

    Anyone may stop following themselves (an email's unsubscribe link acts as the recipient,
    who may have been deactivated since; an email about a collection names the collection);
    doing it for someone else is for admins. Ids that are not UUIDs are ignored, so a second
    call simply removes nothing.
    """
    if not ctx.is_system and ctx.user != user:
        ensure_for(ctx, Action.SUBSCRIBE_OTHERS, Resource)
    ids = uuids_in(resource_ids)
    if not ids:
        return 0
    following = Collection.subscribers.through.objects.filter(collection_id__in=ids, user=user)
    stopped, _ = following.delete()
    return stopped + _change_subscription(user, lock_resources(ids), follow=False)
