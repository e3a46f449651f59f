"""The task that wakes the sender after a change commits (and again for retries)."""

from django.utils import timezone
from django_tasks import task

from .delivery import deliver_due, next_due


@task()
def deliver_notifications(change_set_id: str | None = None) -> dict[str, int]:
    """Send the due immediate notifications of one change set (or all of them).

    When a row must be retried and the task backend can run a task later (the database
    backend can, the background one can't), the task schedules itself for that time;
    otherwise `manage.py send_notifications` from cron picks the row up.
    """
    report = deliver_due(change_set_id=change_set_id)
    if report.retrying and deliver_notifications.get_backend().supports_defer:
        when = next_due(change_set_id=change_set_id)
        if when is not None:
            deliver_notifications.using(run_after=max(when, timezone.now())).enqueue(
                change_set_id=change_set_id
            )
    return report.as_dict()
