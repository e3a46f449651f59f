"""Sending the outbox over a real SMTP server: one email per row, retries, claims, the task."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from catalog.models import ChangeAction, EmailFrequency, Notification
from catalog.notifications import delivery, emails
from catalog.notifications.delivery import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    claim,
    deliver_due,
)
from catalog.notifications.tasks import deliver_notifications
from tests.factories import (
    ChangeSetFactory,
    EventFactory,
    NotificationFactory,
    ObjectChangeFactory,
)
from tests.notifications.helpers import event_change, follower

pytestmark = pytest.mark.django_db

Status = Notification.Status


def rows():
    return list(Notification.objects.order_by("id"))


def test_one_email_per_notification_addressed_to_its_recipient(smtp):
    alice, bob = follower("alice"), follower("bob")
    event_change([alice, bob])

    report = deliver_due()

    assert report.sent == 2
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["alice@example.com", "bob@example.com"]
    assert all(len(m.rcpt_tos) == 1 and m["To"] == m.rcpt_tos[0] for m in smtp.messages)
    assert all(
        m["Subject"] == '[Event Catalog] Event "Order Completed" changed' for m in smtp.messages
    )
    for row in rows():
        assert row.status == Status.SENT
        assert row.sent_at is not None
        assert row.attempts == 1
        assert row.last_error == ""


def test_a_batch_of_many_goes_over_one_connection(smtp):
    recipients = [follower(f"reader{n}") for n in range(15)]
    event_change(recipients)

    deliver_due()

    assert len(smtp.messages) == 15
    assert smtp.handler.connections == 1


def test_more_rows_than_a_batch_all_go_out(smtp):
    count = delivery.BATCH_SIZE + 5
    event_change([follower(f"reader{n}") for n in range(count)])

    assert deliver_due().sent == count

    assert len({m.rcpt_tos[0] for m in smtp.messages}) == count
    assert smtp.handler.connections == 2


def test_server_down_keeps_rows_pending_for_a_retry_then_sends_them(smtp):
    alice, bob = follower("alice"), follower("bob")
    event_change([alice, bob])
    smtp.go_down()
    now = timezone.now()

    report = deliver_due(now=now)

    assert (report.sent, report.retrying, report.failed) == (0, 2, 0)
    assert smtp.messages == []
    for row in rows():
        assert row.status == Status.PENDING
        assert row.attempts == 1
        assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error
        assert row.next_attempt_at == now + RETRY_DELAYS[0]

    # Not due yet: nothing happens even with the server back.
    smtp.come_back()
    assert deliver_due(now=now + timedelta(seconds=30)).sent == 0

    report = deliver_due(now=now + RETRY_DELAYS[0])

    assert report.sent == 2
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["alice@example.com", "bob@example.com"]
    assert [(row.status, row.attempts) for row in rows()] == [(Status.SENT, 2)] * 2


def test_retries_back_off_then_fail_for_good(smtp):
    event_change([follower("alice")])
    smtp.go_down()
    now = timezone.now()
    waits = []

    for attempt in range(1, MAX_ATTEMPTS + 1):
        deliver_due(now=now)
        row = Notification.objects.get()
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.status == Status.PENDING
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at

    assert row.status == Status.FAILED
    assert row.last_error
    assert waits == list(RETRY_DELAYS)
    assert MAX_ATTEMPTS >= 5
    assert sum(waits, timedelta()) > timedelta(minutes=10)
    # A failed row is not tried again.
    smtp.come_back()
    assert deliver_due(now=now + timedelta(days=1)).sent == 0
    assert smtp.messages == []


def test_recipients_without_address_or_account_fail_at_once_and_others_still_go(smtp):
    alice = follower("alice")
    gone = follower("gone", is_active=False)
    silent = follower("silent", email="")
    event_change([alice, gone, silent])

    report = deliver_due()

    assert (report.sent, report.failed) == (1, 2)
    assert [m.rcpt_tos for m in smtp.messages] == [["alice@example.com"]]
    by_user = {row.recipient.username: row for row in Notification.objects.all()}
    assert by_user["gone"].status == Status.FAILED
    assert "inactive" in by_user["gone"].last_error
    assert by_user["silent"].status == Status.FAILED
    assert "no email address" in by_user["silent"].last_error


def test_a_refused_recipient_does_not_stop_the_batch(smtp):
    smtp.handler.refuse.add("bounce@example.com")
    recipients = [follower("alice"), follower("bounce"), follower("carol")]
    event_change(recipients)

    report = deliver_due()

    assert (report.sent, report.retrying) == (2, 1)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "alice@example.com",
        "carol@example.com",
    ]
    assert smtp.handler.connections == 1
    bounced = Notification.objects.get(recipient__username="bounce")
    assert bounced.status == Status.PENDING
    assert "No such user" in bounced.last_error


def test_an_email_that_cannot_be_built_does_not_stop_the_batch(smtp, monkeypatch):
    event_change([follower("alice"), follower("broken"), follower("carol")])
    build = delivery.change_email

    def fragile(notification, **kwargs):
        if notification.recipient.username == "broken":
            raise ValueError("bad data")
        return build(notification, **kwargs)

    monkeypatch.setattr(delivery, "change_email", fragile)

    report = deliver_due()

    assert (report.sent, report.retrying) == (2, 1)
    broken = Notification.objects.get(recipient__username="broken")
    assert "Could not build the email: ValueError: bad data" in broken.last_error


def test_a_claimed_row_is_not_claimed_again_until_its_sender_is_presumed_dead(smtp):
    event_change([follower("alice")])
    now = timezone.now()
    pending = delivery.due(now)

    first = claim(pending, now=now)
    second = claim(delivery.due(now), now=now)

    assert len(first) == 1
    assert second == []
    # The first sender crashed before sending: the row comes back when the claim times out.
    assert deliver_due(now=now + CLAIM_TIMEOUT - timedelta(seconds=1)).sent == 0
    assert deliver_due(now=now + CLAIM_TIMEOUT).sent == 1
    assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers")
def test_a_worker_skips_rows_another_worker_is_claiming():
    event_change([follower("alice"), follower("bob")])
    now = timezone.now()
    theirs: list[int] = []
    claimed, release, released = threading.Event(), threading.Event(), []

    def other_worker():
        try:
            with transaction.atomic():  # holds the row lock until this commits
                theirs.extend(claim(delivery.due(now), now=now, limit=1))
                claimed.set()
                released.append(release.wait(timeout=30))
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_worker)
    worker.start()
    assert claimed.wait(timeout=30)

    mine = claim(delivery.due(now), now=now)

    release.set()
    worker.join()
    assert released == [True], "the second claim waited for the first instead of skipping"
    assert len(theirs) == len(mine) == 1
    assert set(theirs).isdisjoint(mine)


def test_digest_rows_wait_for_the_digest(smtp):
    daily = follower("daily", email_frequency=EmailFrequency.DAILY)
    event_change([daily, follower("alice")])

    deliver_due()

    assert [m.rcpt_tos for m in smtp.messages] == [["alice@example.com"]]
    assert Notification.objects.get(recipient=daily).status == Status.PENDING


def test_the_task_sends_the_rows_of_its_change_set(smtp):
    alice = follower("alice")
    mine = event_change([alice])
    other = ChangeSetFactory()
    ObjectChangeFactory(change_set=other, resource=EventFactory(title="Signed Up"))
    NotificationFactory(change_set=other, recipient=alice)

    result = deliver_notifications.enqueue(change_set_id=str(mine.pk))

    assert result.return_value == {"sent": 1, "retrying": 0, "failed": 0, "emails": 1}
    assert [m["Subject"] for m in smtp.messages] == [
        '[Event Catalog] Event "Order Completed" changed'
    ]
    assert Notification.objects.get(change_set=other).status == Status.PENDING


def test_the_task_schedules_its_retry_when_the_backend_can_defer(smtp, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    change_set = event_change([follower("alice")])
    smtp.go_down()

    deliver_notifications.call(change_set_id=str(change_set.pk))

    backend = deliver_notifications.get_backend()
    [retry] = backend.results
    assert retry.kwargs == {"change_set_id": str(change_set.pk)}
    assert retry.task.run_after == Notification.objects.get().next_attempt_at


def test_the_task_does_not_schedule_anything_when_all_went_out(smtp, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    change_set = event_change([follower("alice")])

    deliver_notifications.call(change_set_id=str(change_set.pk))

    assert deliver_notifications.get_backend().results == []
    assert len(smtp.messages) == 1


def test_deleted_resources_are_mailed_without_a_link(smtp):
    event = EventFactory(title="Legacy Checkout")
    change_set = ChangeSetFactory(actor_name="Dana Steward")
    ObjectChangeFactory(change_set=change_set, resource=event, action=ChangeAction.DELETE, diff={})
    NotificationFactory(change_set=change_set, recipient=follower("alice"), followed=[])
    event.delete()

    deliver_due()

    [message] = smtp.messages
    assert message["Subject"] == '[Event Catalog] Event "Legacy Checkout" deleted'
    assert "/resources/" not in message.text
    assert "/resources/" not in message.html


def test_recipients_of_one_change_set_share_its_summary(smtp, monkeypatch):
    """The diff of a change set is rendered once, not once per recipient."""
    event_change([follower(f"reader{n}") for n in range(5)])
    calls = []
    summarize = emails.summarize

    def counting(change_set, followed=(), shown=None):
        calls.append(change_set.pk)
        return summarize(change_set, followed, shown)

    monkeypatch.setattr(emails, "summarize", counting)

    report = deliver_due()

    assert report.sent == 5 and len(smtp.messages) == 5
    assert len(calls) == 1
    recipients = {to for m in smtp.messages for to in m.rcpt_tos}
    assert recipients == {f"reader{n}@example.com" for n in range(5)}
