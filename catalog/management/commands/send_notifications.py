from django.core.management.base import BaseCommand

from catalog.models import Notification
from catalog.notifications.delivery import deliver_due, requeue, send_digests


class Command(BaseCommand):
    help = (
        "Send every due notification email now: retries whose time has come, emails a crashed "
        "worker never sent, and daily digests whose last attempt failed. Run it from cron every "
        "few minutes (it is the retry loop unless TASKS_BACKEND=database) and by hand after "
        "an outage or a crash."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--resend-failed",
            action="store_true",
            help="First put notifications that failed for good back in the queue, as if never "
            "tried (after fixing the mail server or a recipient's address).",
        )

    def handle(self, *args, resend_failed: bool, verbosity: int, **options):
        if resend_failed:
            count = requeue(Notification.objects.filter(status=Notification.Status.FAILED))
            if verbosity:
                self.stdout.write(f"{count} failed notification(s) put back in the queue.")
        immediate = deliver_due()
        digests = send_digests(retries_only=True)
        if verbosity:
            self.stdout.write(
                f"Sent {immediate.sent + digests.sent}, "
                f"failed {immediate.failed + digests.failed}, "
                f"will retry {immediate.retrying + digests.retrying}."
            )
