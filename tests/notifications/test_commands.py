"""The operator commands: `send_digests` (daily) and `send_notifications` (cron, crashes)."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.utils import timezone

from catalog.models import Notification
from catalog.notifications.delivery import MAX_ATTEMPTS, send_digests
from tests.factories import EventFactory
from tests.notifications.helpers import WHEN, change_at, daily_follower, event_change, follower

pytestmark = pytest.mark.django_db

Status = Notification.Status


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def three_changes_for(recipients):
    """Three change sets on three days, created newest first."""
    titles = ["Third Event", "Second Event", "First Event"]
    for days_ago, title in zip([0, 1, 2], titles, strict=True):
        change_set = event_change(recipients, event=EventFactory(title=title))
        change_at(change_set, WHEN - timedelta(days=days_ago))


# send_digests


def test_a_digest_is_one_email_with_every_change_set_oldest_first(smtp):
    three_changes_for([daily_follower("dora"), follower("alice")])
    Notification.objects.filter(digest=False).update(status=Status.SENT)

    output = run("send_digests")

    assert "Sent 1 digest(s) covering 3 notification(s)" in output
    [message] = smtp.messages
    assert message.rcpt_tos == ["dora@example.com"]
    assert message["Subject"] == "[Event Catalog] Daily digest: 3 changes"
    text = message.text
    order = ("First", "Second", "Third")
    positions = [text.index(f'Event "{title} Event" changed') for title in order]
    assert positions == sorted(positions)
    assert text.count("Dana Steward") == 3
    assert message["List-Unsubscribe"].strip().startswith("<https://catalog.example.com/")
    assert all(row.status == Status.SENT for row in Notification.objects.filter(digest=True))


def test_each_digest_reader_gets_their_own_email_over_one_connection(smtp):
    three_changes_for([daily_follower("dora"), daily_follower("dave")])

    send_digests()

    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "dave@example.com",
        "dora@example.com",
    ]
    assert smtp.handler.connections == 1
    # Nothing left for tomorrow.
    assert send_digests().emails == 0


def test_a_failed_digest_is_retried_by_send_notifications(smtp):
    three_changes_for([daily_follower("dora")])
    smtp.go_down()
    now = timezone.now()

    report = send_digests(now=now)

    assert (report.emails, report.retrying) == (0, 3)
    assert all(row.attempts == 1 and row.last_error for row in Notification.objects.all())

    smtp.come_back()
    later = now + timedelta(minutes=5)
    event_change([Notification.objects.first().recipient], event=EventFactory(title="Newer"))
    # The retry sends the digest that failed; today's new change waits for the next digest.
    report = send_digests(now=later, retries_only=True)

    assert (report.emails, report.sent) == (1, 3)
    [message] = smtp.messages
    assert message["Subject"] == "[Event Catalog] Daily digest: 3 changes"
    assert Notification.objects.filter(status=Status.PENDING).count() == 1


# send_notifications


def test_send_notifications_picks_up_what_a_crash_left_pending(smtp):
    event_change([follower("alice"), follower("bob")])
    # A worker claimed them, then died: attempts counted, due again later.
    Notification.objects.update(attempts=1, next_attempt_at=timezone.now() - timedelta(minutes=1))
    not_yet = event_change([follower("carol")], event=EventFactory(title="Later"))
    Notification.objects.filter(change_set=not_yet).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )

    output = run("send_notifications")

    assert "Sent 2, failed 0, will retry 0." in output
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["alice@example.com", "bob@example.com"]
    assert Notification.objects.get(change_set=not_yet).status == Status.PENDING


def test_send_notifications_reports_failures(smtp):
    event_change([follower("alice")])
    smtp.go_down()

    assert "Sent 0, failed 0, will retry 1." in run("send_notifications")


def test_resend_failed_puts_failed_rows_back_and_sends_them(smtp):
    event_change([follower("alice")])
    Notification.objects.update(
        status=Status.FAILED, attempts=MAX_ATTEMPTS, last_error="SMTPServerDisconnected"
    )

    assert "Sent 0" in run("send_notifications")
    assert smtp.messages == []

    output = run("send_notifications", "--resend-failed")

    assert "1 failed notification(s) put back in the queue." in output
    assert "Sent 1" in output
    row = Notification.objects.get()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 1, "")
    assert len(smtp.messages) == 1


@pytest.mark.parametrize(
    ("name", "words"), [("send_notifications", "cron"), ("send_digests", "once a day from cron")]
)
def test_help_says_when_to_run_the_commands(name, words):
    command = load_command_class(get_commands()[name], name)
    assert words in command.help
