from django.core.management.base import BaseCommand

from catalog.notifications.delivery import send_digests


class Command(BaseCommand):
    help = (
        "Email each user who chose a daily digest one email with every change since their "
        "last digest, oldest first. Run it once a day from cron, e.g. "
        "`0 7 * * * cd /srv/event-catalog && uv run manage.py send_digests`."
    )

    def handle(self, *args, verbosity: int, **options):
        report = send_digests()
        if verbosity:
            self.stdout.write(
                f"Sent {report.emails} digest(s) covering {report.sent} notification(s); "
                f"failed {report.failed}, will retry {report.retrying}."
            )
