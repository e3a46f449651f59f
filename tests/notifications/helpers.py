"""A resource with followers and a change to it, as the write pipeline leaves them."""

from datetime import UTC, datetime

from catalog.models import ChangeSet, EmailFrequency
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    TagFactory,
    UserFactory,
    notify_change,
)

SITE = "https://catalog.example.com"
WHEN = datetime(2025, 3, 4, 14, 5, tzinfo=UTC)

DEFINITION_BEFORE = """# Order Completed

Sent by the server.

Properties: revenue, currency.
"""
DEFINITION_AFTER = """# Order Completed

Sent by the server once the payment succeeded.

Properties: revenue, currency.
"""


def follower(username: str, **kwargs):
    kwargs.setdefault("email", f"{username}@example.com")
    return UserFactory(username=username, **kwargs)


def daily_follower(username: str):
    return follower(username, email_frequency=EmailFrequency.DAILY)


def order_completed():
    """An event "Order Completed" in a category "Checkout", with tags."""
    event = EventFactory(title="Order Completed", parent=EventCategoryFactory(title="Checkout"))
    return event


def full_diff(event):
    """A change touching a boolean, the parent, tags, owners and Markdown text."""
    payments = EventCategoryFactory(title="Payments", integration=event.integration)
    legacy, checkout = TagFactory(title="legacy"), TagFactory(title="checkout")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Owner")
    return {
        "pii": [False, True],
        "parent": [
            {"id": str(event.parent_id), "label": "Checkout"},
            {"id": str(payments.pk), "label": "Payments"},
        ],
        "tags": [
            [{"id": str(legacy.pk), "label": "legacy"}],
            [{"id": str(checkout.pk), "label": "checkout"}],
        ],
        "owners": [[], [{"id": str(bob.pk), "label": "Bob Owner"}]],
        "definition": [DEFINITION_BEFORE, DEFINITION_AFTER],
    }


def change_at(change_set, when=WHEN):
    ChangeSet.objects.filter(pk=change_set.pk).update(created_at=when)
    change_set.refresh_from_db()
    return change_set


def event_change(recipients, *, diff=None, event=None, **kwargs):
    """Dana changed the event "Order Completed" through the API with the key "ci-bot"."""
    event = event or order_completed()
    actor = UserFactory(username="dana", first_name="Dana", last_name="Steward")
    change_set = notify_change(
        event,
        recipients,
        diff=diff if diff is not None else {"pii": [False, True]},
        actor=actor,
        actor_name="Dana Steward",
        api_key_name="ci-bot",
        **kwargs,
    )
    return change_at(change_set)
