import pytest
from django.test import Client

from tests.factories import EventCategoryFactory, EventFactory, EventPropertyFactory


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_web(admin_user):
    return _client(admin_user)


@pytest.fixture
def editor_web(editor):
    return _client(editor)


@pytest.fixture
def viewer_web(viewer):
    return _client(viewer)


@pytest.fixture
def order_completed(db):
    """A published event with two properties, in a published category."""
    category = EventCategoryFactory(title="Checkout", integration__name="Web app")
    event = EventFactory(
        title="Order Completed",
        parent=category,
        description="The order was placed and paid.",
        definition="## When\n\nFires once the **payment** succeeded.",
    )
    EventPropertyFactory(title="revenue", parent=event, data_type="number", required=True)
    EventPropertyFactory(title="email", parent=event, pii=True)
    return event
