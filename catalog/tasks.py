"""Background tasks of the catalog as a whole (notification delivery lives with its code)."""

import datetime as dt

from django.utils import timezone
from django_tasks import task

from catalog.services.eventlog import purge_event_log_report
from catalog.services.plan import plan_import_run

#: When, after midnight UTC, the purge runs again: the new day has begun everywhere it counts.
PURGE_AT = dt.time(0, 10, tzinfo=dt.UTC)


def next_purge(now: dt.datetime) -> dt.datetime:
    """The next run after `now`: tomorrow (UTC) at PURGE_AT."""
    tomorrow = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, PURGE_AT)


@task()
def purge_event_log_task() -> dict:
    """Purge the event log past its retention and old message ids (`purge_event_log_report`).

    When the task backend can run a task later (the database backend can, the background one
    can't), it schedules itself for the next day, so one enqueue keeps the log trimmed;
    otherwise run `manage.py purge_event_log` from cron.
    """
    report = purge_event_log_report()
    if purge_event_log_task.get_backend().supports_defer:
        purge_event_log_task.using(run_after=next_purge(timezone.now())).enqueue()
    return report.as_dict()


@task()
def plan_import_task(plan_import_id: str) -> str:
    """Run a plan import queued by `POST /api/v1/plan/import` (`plan_import_run`); its
    answer is kept on the row for `GET /api/v1/plan/imports/{id}`."""
    job = plan_import_run(plan_import_id)
    return job.status if job is not None else "missing"
