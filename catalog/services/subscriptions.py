"""Following resources: who is emailed when a resource changes.

Following is each person's own business, not an edit of the resource: it is in no history and
counts as no change (the subscriber lists themselves are the record).
"""

from collections.abc import Iterable

from catalog.models import Collection, Resource, User
from catalog.policy import Action, collections_visible_to, ensure_for, resources_visible_to
from catalog.selectors import relation_ids_of, uuids_in
from catalog.services.context import ChangeContext
from catalog.services.errors import atomic_write
from catalog.services.resources import lock_resources, write_m2m

__all__ = ["collection_subscriptions_add", "subscriptions_add", "subscriptions_remove"]


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


@atomic_write
def collection_subscriptions_add(
    *, ctx: ChangeContext, user: User, collection_ids: Iterable
) -> int:
    """Make `user` follow the collections (those they may see): they are then emailed when a
    collection changes, as a resource's followers are. Returns how many they now follow that
    they didn't before.

    The same rules as `subscriptions_add`: every role may follow what it can read, for itself
    (the policy's "subscribe" is asked as for a resource: following a collection is the same
    choice); following for someone else is for admins. `subscriptions_remove` stops it.
    """
    if not ctx.is_system and ctx.user != user:
        ensure_for(ctx, Action.SUBSCRIBE_OTHERS, Collection)
    ensure_for(ctx, Action.SUBSCRIBE, Resource)
    ids = uuids_in(collection_ids)
    # Locked in one order, so two people following the same collections at once wait for each
    # other instead of both inserting the same row.
    visible = list(
        collections_visible_to(user)
        .filter(pk__in=ids)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    if not visible:
        raise Collection.DoesNotExist("No such collection.")
    through = Collection.subscribers.through
    already = set(
        through.objects.filter(collection_id__in=visible, user=user).values_list(
            "collection_id", flat=True
        )
    )
    new = [through(collection_id=pk, user_id=user.pk) for pk in visible if pk not in already]
    through.objects.bulk_create(new)
    return len(new)
