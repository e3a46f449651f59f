"""The change pipeline: history rows, diffs and outbox rows written by every resource service."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import (
    ChangeSet,
    EmailFrequency,
    EntityType,
    Event,
    Notification,
    ObjectChange,
    Resource,
)
from catalog.services.context import ChangeContext
from catalog.services.resources import (
    resource_create,
    resource_delete,
    resource_update,
    resources_bulk_update,
)
from catalog.services.subscriptions import subscriptions_remove
from tests import factories
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def acting(user, **kwargs) -> ChangeContext:
    return factories.acting(user, request_id="req-1", **kwargs)


def test_an_update_records_who_changed_what(editor):
    event = EventFactory(title="Order Completed", description="Old")
    old_tag, new_tag = TagFactory(title="checkout"), TagFactory(title="revenue")
    event.tags.add(old_tag)
    resource_update(
        ctx=acting(editor),
        resource=event,
        data={"description": "New", "pii": True, "tags": [new_tag], "verified": False},
    )
    change_set = ChangeSet.objects.get()
    assert (change_set.actor, change_set.actor_name) == (editor, str(editor))
    assert (change_set.source, change_set.request_id) == ("api", "req-1")
    change = ObjectChange.objects.get()
    assert (change.object_id, change.object_type, change.title, change.action) == (
        event.pk,
        EntityType.EVENT,
        "Order Completed",
        "update",
    )
    # Only what changed (verified was already False), M2M as ids with labels.
    assert change.diff == {
        "description": ["Old", "New"],
        "pii": [False, True],
        "tags": [
            [{"id": str(old_tag.pk), "label": "checkout"}],
            [{"id": str(new_tag.pk), "label": "revenue"}],
        ],
    }


def test_an_update_that_changes_nothing_records_nothing(editor):
    event = EventFactory(description="Same")
    resource_update(ctx=acting(editor), resource=event, data={"description": "Same"})
    assert not ChangeSet.objects.exists()


def test_a_move_records_the_old_and_new_parent_by_name(editor):
    event = EventFactory()
    old, new = event.parent, EventCategoryFactory(title="Billing", integration=event.integration)
    resource_update(ctx=acting(editor), resource=event, data={"parent": new})
    assert ObjectChange.objects.get().diff == {
        "parent": [{"id": str(old.pk), "label": old.title}, {"id": str(new.pk), "label": "Billing"}]
    }


def test_a_create_records_the_initial_values_and_subscribes_the_owners(editor):
    category = EventCategoryFactory()
    owner = UserFactory(first_name="Ada", last_name="Lovelace")
    event = resource_create(
        ctx=acting(editor),
        entity_type=EntityType.EVENT,
        data={"title": "Signed Up", "parent": category, "owners": [owner], "pii": True},
    )
    assert list(event.subscribers.all()) == [owner]
    change = ObjectChange.objects.get()
    assert change.action == "create"
    assert change.diff["title"] == [None, "Signed Up"]
    assert change.diff["parent"] == [None, {"id": str(category.pk), "label": category.title}]
    assert change.diff["owners"] == [[], [{"id": str(owner.pk), "label": "Ada Lovelace"}]]
    assert "subscribers" not in change.diff  # the owner follows, which is no edit


def test_new_owners_are_subscribed_and_may_unsubscribe_later(editor):
    event = EventFactory()
    owner = UserFactory()
    resource_update(ctx=acting(editor), resource=event, data={"owners": [owner]})
    assert list(event.subscribers.all()) == [owner]
    subscriptions_remove(ctx=acting(owner), user=owner, resource_ids=[event.pk])
    assert not event.subscribers.exists()
    assert list(event.owners.all()) == [owner]  # still the owner, no longer following


def test_a_delete_records_the_descendants_it_removed(editor):
    prop = EventPropertyFactory(title="revenue")
    event = prop.parent
    category = event.parent
    resource_delete(ctx=acting(editor), resource=category)
    assert not Resource.objects.filter(pk__in=[prop.pk, event.pk, category.pk]).exists()
    changes = {c.object_id: c for c in ObjectChange.objects.all()}
    assert set(changes) == {category.pk, event.pk, prop.pk}
    assert {c.action for c in changes.values()} == {"delete"}
    assert len({c.change_set_id for c in changes.values()}) == 1
    # Still readable after the delete.
    assert (changes[prop.pk].title, changes[prop.pk].object_type) == (
        "revenue",
        EntityType.EVENT_PROPERTY,
    )
    assert changes[prop.pk].diff["data_type"] == ["string", None]


def test_subscribers_of_the_resource_and_its_ancestors_get_one_row_each(editor):
    prop = EventPropertyFactory()
    event, category = prop.parent, prop.parent.parent
    on_prop, on_event, on_category, on_both = (UserFactory() for _ in range(4))
    daily = UserFactory(email_frequency=EmailFrequency.DAILY)
    no_email, inactive = UserFactory(email=""), UserFactory(is_active=False)
    prop.subscribers.add(on_prop, on_both, no_email, inactive, editor)
    event.subscribers.add(on_event, on_both)
    category.subscribers.add(on_category, on_both, daily)
    resource_update(ctx=acting(editor), resource=prop, data={"description": "x"})
    rows = {n.recipient: n for n in Notification.objects.all()}
    # Each once; never the actor; nobody without an address or an active account.
    assert set(rows) == {on_prop, on_event, on_category, on_both, daily}
    assert rows[on_both].followed == sorted(str(pk) for pk in (prop.pk, event.pk, category.pk))
    assert rows[on_event].followed == [str(event.pk)]
    assert [rows[u].digest for u in (on_prop, daily)] == [False, True]
    assert {n.status for n in rows.values()} == {"pending"}


def test_changing_only_the_subscribers_is_no_change_and_emails_nobody(editor):
    event = EventFactory()
    follower = UserFactory()
    event.subscribers.add(follower)
    resource_update(ctx=acting(editor), resource=event, data={"subscribers": [follower, editor]})
    assert set(event.subscribers.all()) == {follower, editor}
    assert not ObjectChange.objects.exists()
    assert not Notification.objects.exists()


def test_a_context_without_notifications_records_history_only(editor):
    event = EventFactory()
    event.subscribers.add(UserFactory())
    resource_update(ctx=acting(editor, notify=False), resource=event, data={"pii": True})
    assert ObjectChange.objects.count() == 1
    assert not Notification.objects.exists()


def test_a_failed_update_writes_no_history(editor):
    event = EventFactory(title="A")
    EventFactory(title="B", parent=event.parent)
    event.subscribers.add(UserFactory())
    with pytest.raises(Exception, match="already has a child"):
        resource_update(ctx=acting(editor), resource=event, data={"title": "B"})
    assert not ChangeSet.objects.exists() and not Notification.objects.exists()


def test_bulk_update_records_one_change_set(editor):
    events = [EventFactory(verified=False) for _ in range(3)]
    events[0].subscribers.add(UserFactory())
    changed = resources_bulk_update(
        ctx=acting(editor), resources=Event.objects.all(), data={"verified": True}
    )
    assert changed == 3
    change_set = ChangeSet.objects.get()
    assert [c.diff for c in change_set.changes.all()] == [{"verified": [False, True]}] * 3
    assert Notification.objects.filter(change_set=change_set).count() == 1


def test_bulk_update_inserts_its_rows_in_batches(editor, monkeypatch):
    """Big edits insert history, notifications and relations a batch at a time: with
    parameters bound on the server, one statement takes at most 65,535."""
    from catalog.services import changes, resources

    monkeypatch.setattr(changes, "BULK_BATCH_SIZE", 2)
    monkeypatch.setattr(resources, "BULK_BATCH_SIZE", 2)
    events = [EventFactory(verified=False) for _ in range(5)]
    for event in events:
        event.subscribers.add(UserFactory())
    with CaptureQueriesContext(connection) as captured:
        changed = resources_bulk_update(
            ctx=acting(editor), resources=[e.pk for e in events], data={"verified": True}
        )
    assert changed == 5

    def inserts_into(model) -> int:
        into = f'INSERT INTO "{model._meta.db_table}"'
        return sum(q["sql"].startswith(into) for q in captured.captured_queries)

    assert inserts_into(ObjectChange) == 3  # 2 + 2 + 1 rows
    # PostgreSQL picks the recipients in one INSERT ... SELECT, with arrays as parameters.
    assert inserts_into(Notification) == (0 if connection.vendor == "postgresql" else 3)
    assert ObjectChange.objects.filter(diff={"verified": [False, True]}).count() == 5
    assert Notification.objects.count() == 5


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured.captured_queries)


def test_bulk_update_costs_the_same_for_5_or_20_rows_with_subscribers(editor):
    def run(count):
        events = [EventFactory(verified=False) for _ in range(count)]
        for event in events:
            event.subscribers.add(*[UserFactory() for _ in range(3)])
        pks = [e.pk for e in events]
        return _queries(
            lambda: resources_bulk_update(
                ctx=acting(editor), resources=pks, data={"verified": True}
            )
        )

    small, large = run(5), run(20)
    assert small == large <= 10


def test_an_update_costs_the_same_for_1_or_200_subscribers(editor):
    def run(count):
        event = EventFactory()
        event.subscribers.add(*[UserFactory() for _ in range(count)])
        queries = _queries(
            lambda: resource_update(ctx=acting(editor), resource=event, data={"pii": True})
        )
        assert Notification.objects.filter(change_set__changes__object_id=event.pk).count() == (
            count
        )
        return queries

    one, many = run(1), run(200)
    if connection.vendor == "postgresql":
        assert one == many
    else:
        # SQLite takes at most 999 parameters a statement, so Django splits the one bulk
        # insert of 200 outbox rows into a few; nothing else grows.
        assert many - one <= 200 * 10 // 999


def test_a_command_acts_as_the_system():
    """Operators' commands write with the system's context: every permission, named "System"
    in the history, and nobody is spared the email (there is no acting user to skip)."""
    event = EventFactory()
    follower = UserFactory()
    event.subscribers.add(follower)
    resource_update(ctx=ChangeContext.for_system(), resource=event, data={"verified": True})
    change_set = ChangeSet.objects.get()
    assert (change_set.source, change_set.actor, change_set.actor_name) == (
        "command",
        None,
        "System",
    )
    assert [n.recipient for n in Notification.objects.all()] == [follower]


def test_a_request_without_a_user_may_not_write(rf):
    """Only `for_system` gives every permission; an anonymous request's context has none."""
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    request = rf.post("/")
    request.user = AnonymousUser()
    ctx = ChangeContext.for_request(request, "web")
    assert not ctx.is_system and ctx.actor_name == "Anonymous"
    with pytest.raises(PermissionDenied):
        resource_update(ctx=ctx, resource=EventFactory(), data={"pii": True})
    assert not ChangeSet.objects.exists()


def test_viewers_hear_only_of_what_they_may_see(editor, viewer):
    """A viewer following a category is not told of an unpublished event created under it,
    nor is an unpublished resource described in a viewer's email; editors hear of both."""
    from catalog.notifications.emails import change_email

    category = EventCategoryFactory(published=True)
    colleague = UserFactory(role="editor")
    category.subscribers.add(viewer, colleague)
    resource_create(
        ctx=acting(editor),
        entity_type=EntityType.EVENT,
        data={"title": "Secret Launch", "parent": category, "published": False},
    )
    rows = {n.recipient: n for n in Notification.objects.all()}
    assert set(rows) == {colleague}

    shown = EventFactory(title="Public A", parent=category, published=True)
    hidden = EventFactory(title="Hidden B", parent=category, published=False)
    shown.subscribers.add(viewer)
    resource_delete(ctx=acting(editor), resource=category)
    latest = Notification.objects.filter(recipient=viewer).get()
    assert latest.shown is not None and str(hidden.pk) not in latest.shown
    email = change_email(latest)
    assert "Public A" in email.body and "Hidden B" not in email.body
    assert "Hidden B" not in email.subject
    editor_email = change_email(Notification.objects.filter(recipient=colleague).latest("id"))
    assert "Hidden B" in editor_email.body


def test_a_viewer_hears_of_a_resource_being_published_and_unpublished(editor, viewer):
    event = EventFactory(published=False)
    event.subscribers.add(viewer)
    resource_update(ctx=acting(editor), resource=event, data={"published": True})
    resource_update(ctx=acting(editor), resource=event, data={"published": False})
    resource_update(ctx=acting(editor), resource=event, data={"description": "Still hidden"})
    assert Notification.objects.filter(recipient=viewer).count() == 2
