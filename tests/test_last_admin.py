"""The workspace keeps an active admin even when two admins demote or remove each other at once.

On PostgreSQL: one change waits, uncommitted, inside the test's transaction while the other
runs on its own connection in a thread. The second must wait for the first to commit (it is
seen waiting for a lock) and then refuse, instead of both succeeding on what each read
before the other committed. SQLite takes one writer at a time: nothing to race there.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from catalog.models import Role, User
from catalog.services.context import ChangeContext
from catalog.services.workspace import user_deactivate, user_update, workspace_object_delete
from tests.factories import UserFactory
from tests.races import in_thread, wait_until_blocked_or_done

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers; races need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

LAST_ADMIN = "The workspace needs at least one active admin: make someone else an admin first."


def _ctx(user: User) -> ChangeContext:
    return ChangeContext(source="api", user=user)


def _race(first, second) -> list:
    """Run `first` in a transaction left open while `second` runs in a thread; commit; return
    what `second` did (None, or the messages of the ValidationError it raised)."""
    thread, outcome = in_thread(second, expected=ValidationError)
    with transaction.atomic():
        first()
        thread.start()
        wait_until_blocked_or_done(thread)
    thread.join(30)
    assert not thread.is_alive()
    return [found.messages if isinstance(found, ValidationError) else None for found in outcome]


def _active_admins() -> set[str]:
    return set(
        User.objects.filter(role=Role.ADMIN, is_active=True).values_list("username", flat=True)
    )


def test_two_admins_demoting_each_other_leave_one_admin():
    ada, bob = (
        UserFactory(username="ada", role=Role.ADMIN),
        UserFactory(username="bob", role=Role.ADMIN),
    )
    outcome = _race(
        lambda: user_update(ctx=_ctx(ada), user=bob, data={"role": Role.EDITOR}),
        lambda: user_update(ctx=_ctx(bob), user=ada, data={"role": Role.EDITOR}),
    )
    assert outcome == [[LAST_ADMIN]]
    assert _active_admins() == {"ada"}


def test_two_admins_deactivating_and_deleting_each_other_leave_one_admin():
    ada, bob = (
        UserFactory(username="ada", role=Role.ADMIN),
        UserFactory(username="bob", role=Role.ADMIN),
    )
    outcome = _race(
        lambda: user_deactivate(ctx=_ctx(ada), user=bob),
        lambda: workspace_object_delete(ctx=_ctx(bob), obj=ada),
    )
    assert outcome == [[LAST_ADMIN]]
    assert _active_admins() == {"ada"}


def test_a_third_admin_lets_both_changes_through():
    ada, bob = (
        UserFactory(username="ada", role=Role.ADMIN),
        UserFactory(username="bob", role=Role.ADMIN),
    )
    UserFactory(username="cy", role=Role.ADMIN)
    outcome = _race(
        lambda: user_update(ctx=_ctx(ada), user=bob, data={"role": Role.VIEWER}),
        lambda: user_update(ctx=_ctx(bob), user=ada, data={"role": Role.VIEWER}),
    )
    assert outcome == [None]
    assert _active_admins() == {"cy"}
