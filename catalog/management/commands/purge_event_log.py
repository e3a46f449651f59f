from django.conf import settings
from django.core.management.base import BaseCommand

from catalog.services.eventlog import purge_event_log_report
from catalog.tasks import purge_event_log_task


class Command(BaseCommand):
    help = (
        "Remove the received events older than EVENT_LOG_RETENTION_DAYS whole days (UTC) and "
        "the message ids older than 24 hours. Run it once a day from cron, e.g. "
        "`10 0 * * * cd /srv/event-catalog && uv run manage.py purge_event_log`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help=(
                "Enqueue the purge task instead of purging here; with a task backend that can "
                "run tasks later (TASKS_BACKEND=database) it then runs again every day."
            ),
        )

    def handle(self, *args, verbosity: int, enqueue: bool, **options):
        if enqueue:
            result = purge_event_log_task.enqueue()
            if verbosity:
                self.stdout.write(f"Enqueued the event log purge task ({result.id}).")
            return
        report = purge_event_log_report()
        if verbosity:
            self.stdout.write(f"{report} (Keeping {settings.EVENT_LOG_RETENTION_DAYS} day(s).)")
            if verbosity > 1 and report.days:
                self.stdout.write(
                    "Dropped: " + ", ".join(day.isoformat() for day in report.days) + "."
                )
