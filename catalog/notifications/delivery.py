"""Sending the outbox: claim due rows, send them over one connection, record what happened.

A row is the truth, the task queue only wakes the sender (see `catalog.models.history`):

- **Claim.** A sender takes up to `BATCH_SIZE` due rows (pending, `next_attempt_at` passed) in a
  short transaction, locked with `SKIP LOCKED` on PostgreSQL (SQLite serialises writers), counts
  the attempt and moves `next_attempt_at` `CLAIM_TIMEOUT` ahead. Another worker no longer sees
  them as due, and no transaction stays open while the mail server talks; if the sender dies,
  the rows become due again and `send_notifications` (or the next task) sends them.
- **Send.** One SMTP connection per batch, opened again only if it broke.
- **Record.** Each row on its own, right after its message: sent (`sent_at`), or the error with
  the next try `RETRY_DELAYS` later, or failed after `MAX_ATTEMPTS`. Recipients who are
  inactive or have no address fail at once. One bad row never stops the batch.
"""

import logging
import smtplib
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Min, Prefetch, QuerySet
from django.utils import timezone

from catalog.models import Notification, ObjectChange, User

from .emails import change_email, digest_email

logger = logging.getLogger(__name__)

Status = Notification.Status

#: Wait before the 2nd, 3rd, ... attempt: six attempts over about half an hour, so a mail
#: server restart or a short outage costs a delay, not an email.
RETRY_DELAYS = tuple(timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: Rows (or digest recipients) per claim and per SMTP connection.
BATCH_SIZE = 20
#: How long a claimed row is left alone: longer than a batch can take, even when every
#: message waits for EMAIL_TIMEOUT, so two senders never send one row.
CLAIM_TIMEOUT = timedelta(minutes=10)
#: A digest lists at most this many change sets (all of them are marked sent).
DIGEST_MAX_CHANGE_SETS = 100


@dataclass
class DeliveryReport:
    """What a run did: rows sent, rows to be retried later, rows given up on; emails sent."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    emails: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _clock(now: datetime | None) -> Callable[[], datetime]:
    return (lambda: now) if now is not None else timezone.now


def due(now: datetime, *, digest: bool = False) -> QuerySet:
    return Notification.objects.filter(
        status=Status.PENDING, digest=digest, next_attempt_at__lte=now
    )


def claim(queryset: QuerySet, *, now: datetime, limit: int | None = BATCH_SIZE) -> list[int]:
    """Take due rows for this sender: count the attempt and hide them from other senders."""
    with transaction.atomic():
        locked = queryset.select_for_update(skip_locked=True).order_by("next_attempt_at", "id")
        ids = list(locked.values_list("pk", flat=True)[:limit])
        if ids:
            Notification.objects.filter(pk__in=ids).update(
                attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_TIMEOUT
            )
    return ids


def _load(ids: Sequence[int]) -> list[Notification]:
    changes = Prefetch("change_set__changes", queryset=ObjectChange.objects.order_by("id"))
    return list(
        Notification.objects.filter(pk__in=ids)
        .select_related("recipient", "change_set")
        .prefetch_related(changes)
        .order_by("id")
    )


def undeliverable(user: User) -> str:
    """Why `user` can't get email, or "" if they can."""
    if not user.is_active:
        return "Not sent: the recipient's account is inactive."
    if not user.email:
        return "Not sent: the recipient has no email address."
    return ""


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _connection_lost(error: BaseException) -> bool:
    # SMTPException is an OSError too; only socket-level errors mean the connection is gone.
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:
        logger.warning("Closing the mail connection failed", exc_info=True)


def send_each(messages: Sequence[tuple[object, EmailMessage]]) -> Iterator[tuple]:
    """Send every message over one connection; yield each key with its error or None."""
    if not messages:
        return
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:
        for key, _message in messages:
            yield key, error
        return
    try:
        for index, (key, message) in enumerate(messages):
            try:
                connection.send_messages([message])
            except Exception as error:
                yield key, error
                if not _connection_lost(error):
                    continue
                _close(connection)
                try:
                    connection.open()
                except Exception as reopen_error:
                    for rest, _message in messages[index + 1 :]:
                        yield rest, reopen_error
                    return
            else:
                yield key, None
    finally:
        _close(connection)


def mark_sent(rows: Sequence[Notification], *, now: datetime, report: DeliveryReport) -> None:
    Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=Status.SENT, sent_at=now, last_error=""
    )
    report.sent += len(rows)


def mark_failed(
    rows: Sequence[Notification], message: str, *, now: datetime, report: DeliveryReport
) -> None:
    """Record an error: try again after the row's next delay, or give up after the last."""
    for row in rows:
        if row.attempts >= MAX_ATTEMPTS:
            values = {"status": Status.FAILED, "next_attempt_at": now}
            report.failed += 1
        else:
            delay = RETRY_DELAYS[max(row.attempts, 1) - 1]
            values = {"next_attempt_at": now + delay}
            report.retrying += 1
        Notification.objects.filter(pk=row.pk).update(last_error=message, **values)


def give_up(rows: Sequence[Notification], message: str, *, report: DeliveryReport) -> None:
    """Retrying can't help (no address, inactive account): failed at once."""
    Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=Status.FAILED, last_error=message
    )
    report.failed += len(rows)


def _deliver(groups: dict, build, *, clock, report: DeliveryReport) -> None:
    """Build and send one email per group of rows (a row, or a recipient's digest rows)."""
    messages = []
    for key, rows in groups.items():
        recipient = rows[0].recipient
        if problem := undeliverable(recipient):
            give_up(rows, problem, report=report)
            continue
        try:
            messages.append((key, build(recipient, rows)))
        except Exception as error:
            logger.exception("Building the email of notifications %s failed", key)
            mark_failed(
                rows, f"Could not build the email: {describe(error)}", now=clock(), report=report
            )
    for key, error in send_each(messages):
        if error is None:
            mark_sent(groups[key], now=clock(), report=report)
            report.emails += 1
        else:
            logger.warning("Sending notifications %s failed: %s", key, describe(error))
            mark_failed(groups[key], describe(error), now=clock(), report=report)


def deliver_due(*, change_set_id=None, now: datetime | None = None) -> DeliveryReport:
    """Send every due immediate (non-digest) notification, of one change set or of all.

    `now` is for tests and tools that need a fixed clock; it defaults to the real time.
    """
    clock = _clock(now)
    start = clock()
    queryset = due(start)
    if change_set_id is not None:
        try:
            queryset = queryset.filter(change_set_id=uuid.UUID(str(change_set_id)))
        except ValueError:
            logger.warning("deliver_due: %r is not a change set id", change_set_id)
            return DeliveryReport()
    report = DeliveryReport()
    summaries: dict = {}  # one per change set and followed resources, shared by recipients

    def build(_recipient, rows):
        return change_email(rows[0], summaries=summaries)

    while ids := claim(queryset, now=start):
        rows = _load(ids)
        groups = {row.pk: [row] for row in rows}
        _deliver(groups, build, clock=clock, report=report)
    return report


def send_digests(*, now: datetime | None = None, retries_only: bool = False) -> DeliveryReport:
    """Send each recipient with due digest rows one email listing them, oldest first.

    `retries_only` sends only digests whose last attempt failed (what `send_notifications`
    does between two daily runs).
    """
    clock = _clock(now)
    start = clock()
    queryset = due(start, digest=True)
    if retries_only:
        queryset = queryset.filter(attempts__gt=0)
    recipients = list(
        queryset.order_by("recipient_id").values_list("recipient_id", flat=True).distinct()
    )
    report = DeliveryReport()
    for first in range(0, len(recipients), BATCH_SIZE):
        chunk = recipients[first : first + BATCH_SIZE]
        ids = claim(queryset.filter(recipient_id__in=chunk), now=start, limit=None)
        groups: dict = defaultdict(list)
        for row in _load(ids):
            groups[row.recipient_id].append(row)
        _deliver(dict(groups), _digest, clock=clock, report=report)
    return report


def _digest(recipient: User, rows: list[Notification]) -> EmailMessage:
    rows = sorted(rows, key=lambda row: (row.change_set.created_at, row.change_set_id))
    shown, more = rows[:DIGEST_MAX_CHANGE_SETS], len(rows) - DIGEST_MAX_CHANGE_SETS
    return digest_email(recipient, shown, more=max(0, more))


def next_due(*, change_set_id=None) -> datetime | None:
    """When the earliest pending immediate row (of one change set, or any) is due."""
    queryset = Notification.objects.filter(status=Status.PENDING, digest=False)
    if change_set_id is not None:
        queryset = queryset.filter(change_set_id=change_set_id)
    return queryset.aggregate(first=Min("next_attempt_at"))["first"]


def requeue(queryset: QuerySet, *, now: datetime | None = None) -> int:
    """Put rows back in the queue as if never tried (admin "re-send", `--resend-failed`)."""
    return queryset.update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now or timezone.now(),
        sent_at=None,
        last_error="",
    )
