"""The outbox in the admin: admins look and re-send; nobody else sees it."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from catalog.models import Notification
from tests.notifications.helpers import daily_follower, event_change, follower

pytestmark = pytest.mark.django_db

Status = Notification.Status
CHANGELIST = reverse("admin:catalog_notification_changelist")


@pytest.fixture
def failed():
    event_change([follower("alice")])
    Notification.objects.update(
        status=Status.FAILED, attempts=6, last_error="SMTPRecipientsRefused: mailbox full"
    )
    return Notification.objects.get()


def test_admin_sees_the_outbox(client, admin_user, failed):
    client.force_login(admin_user)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "alice" in page
    assert "Dana Steward: Event &quot;Order Completed&quot;" in page
    assert "mailbox full" in page
    assert client.get(CHANGELIST, {"status__exact": "failed"}).status_code == 200
    assert client.get(CHANGELIST, {"digest__exact": "1"}).status_code == 200


def test_a_row_opens_read_only_with_its_subject(client, admin_user, failed):
    client.force_login(admin_user)

    response = client.get(reverse("admin:catalog_notification_change", args=[failed.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "[Event Catalog] Event &quot;Order Completed&quot; changed" in page
    assert 'name="_save"' not in page
    assert client.get(reverse("admin:catalog_notification_add")).status_code == 403


def test_resend_puts_rows_back_and_sends_them(
    client, admin_user, failed, django_capture_on_commit_callbacks
):
    digest_row = event_change([daily_follower("dora")]).notifications.get()
    Notification.objects.filter(pk=digest_row.pk).update(status=Status.FAILED, attempts=6)
    client.force_login(admin_user)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST,
            {"action": "resend", "_selected_action": [failed.pk, digest_row.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert "2 notifications queued again" in response.content.decode()
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.SENT, 1, "")
    digest_row.refresh_from_db()
    assert (digest_row.status, digest_row.attempts) == (Status.PENDING, 0)
    assert digest_row.next_attempt_at <= timezone.now()


def test_editors_neither_see_nor_resend(client, editor, failed):
    client.force_login(editor)

    assert client.get(CHANGELIST).status_code == 403
    assert "notification" not in client.get(reverse("admin:index")).content.decode().lower()
    response = client.post(CHANGELIST, {"action": "resend", "_selected_action": [failed.pk]})

    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.status == Status.FAILED
    assert mail.outbox == []
