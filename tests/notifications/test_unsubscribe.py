"""The unsubscribe link: a confirmation page, one-click POST, tampered links, the service."""

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.test import Client

from catalog.models import ChangeSource, Resource, Role
from catalog.notifications.delivery import deliver_due
from catalog.notifications.links import unsubscribe_token, unsubscribe_url
from catalog.services.context import ChangeContext
from catalog.services.subscriptions import subscriptions_remove
from tests.factories import EventFactory, UserFactory
from tests.notifications.helpers import SITE, event_change, follower

pytestmark = pytest.mark.django_db

Subscription = Resource.subscribers.through


@pytest.fixture
def alice():
    return follower("alice")


@pytest.fixture
def event(alice):
    event = EventFactory(title="Order Completed")
    event.subscribers.add(alice, follower("bob"))
    return event


@pytest.fixture
def link(settings, alice, event):
    settings.SITE_URL = SITE
    return unsubscribe_url(alice.pk, [event.pk]).removeprefix(SITE)


def follows(user, resource) -> bool:
    return Subscription.objects.filter(user=user, resource=resource).exists()


def test_get_asks_first_and_changes_nothing(client, link, alice, event):
    response = client.get(link)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop following these resources?" in page
    assert "Order Completed" in page
    assert '<form method="post">' in page
    assert follows(alice, event)


def test_post_unsubscribes_only_that_user_from_those_resources(client, link, alice, event):
    other = EventFactory(title="Signed Up")
    other.subscribers.add(alice)

    response = client.post(link)

    assert response.status_code == 200
    page = response.content.decode()
    assert "You are unsubscribed" in page
    assert "Order Completed" in page
    assert not follows(alice, event)
    assert event.subscribers.filter(username="bob").exists()
    assert follows(alice, other)


def test_one_click_post_from_a_mail_client(link, alice, event):
    # RFC 8058: no cookies, no CSRF token, this exact form body.
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert not follows(alice, event)


def test_a_second_post_is_harmless(client, link, alice, event):
    assert client.post(link).status_code == 200

    response = client.post(link)

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert not follows(alice, event)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token.replace(token.split(":")[0], ".eJyrVkrOz0nJTU0", 1),
        lambda token: "not-a-token",
        lambda token: signing.dumps({"u": "x", "r": []}),  # signed, but for something else
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_is_a_clear_400(client, alice, event, tamper, method):
    token = tamper(unsubscribe_token(alice.pk, [event.pk]))

    response = getattr(client, method)(f"/unsubscribe/{token}")

    assert response.status_code == 400
    assert "This unsubscribe link is not valid" in response.content.decode()
    assert follows(alice, event)


def test_a_link_for_a_deleted_account_is_a_400(client, link, alice):
    alice.delete()

    assert client.post(link).status_code == 400


def test_a_link_for_deleted_resources_says_there_is_nothing_to_do(client, link, event):
    event.delete()

    response = client.get(link)

    assert response.status_code == 200
    assert "no longer exist" in response.content.decode()
    assert client.post(link).status_code == 200


def test_the_link_in_a_real_email_unsubscribes(smtp, client, alice, event):
    event_change([alice], event=event)
    deliver_due()
    [message] = smtp.messages

    url = message["List-Unsubscribe"].strip()[1:-1]
    response = client.post(
        url.removeprefix(SITE),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not follows(alice, event)


# The service behind the page.


def test_subscriptions_remove_counts_what_it_removed(alice, event):
    ctx = ChangeContext(source=ChangeSource.EMAIL, user=alice)
    other = EventFactory()

    removed = subscriptions_remove(
        ctx=ctx, user=alice, resource_ids=[event.pk, str(other.pk), "not-a-uuid"]
    )

    assert removed == 1
    assert not follows(alice, event)
    assert subscriptions_remove(ctx=ctx, user=alice, resource_ids=[event.pk]) == 0


def test_only_admins_unsubscribe_someone_else(alice, event):
    editor = UserFactory(username="ed", role=Role.EDITOR)
    admin = UserFactory(username="root", role=Role.ADMIN)

    with pytest.raises(PermissionDenied):
        subscriptions_remove(
            ctx=ChangeContext(source=ChangeSource.WEB, user=editor),
            user=alice,
            resource_ids=[event.pk],
        )
    assert follows(alice, event)

    removed = subscriptions_remove(
        ctx=ChangeContext(source=ChangeSource.ADMIN, user=admin),
        user=alice,
        resource_ids=[event.pk],
    )
    assert removed == 1


def test_unsubscribing_is_no_edit_of_the_event_and_emails_nobody(client, link, alice, event):
    from catalog.models import ChangeSet, Notification

    client.post(link)

    assert {user.username for user in event.subscribers.all()} == {"bob"}
    assert not ChangeSet.objects.exists()  # following is each person's own business
    assert not Notification.objects.exists()
