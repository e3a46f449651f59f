"""The trial's mail: each message kept as a file, one line logged for it.

Without EMAIL_URL nothing can be sent, yet a trial user should see that the catalog emails
followers, and read what it sends. Printing whole messages (Django's console backend) floods
the terminal of `serve` with headers and HTML; this backend writes each message to
EMAIL_MAILBOX_DIR (DATA_DIR/emails) as an .eml file, which any mail program opens, and logs
one line: to whom, the subject, and the file.
"""

import logging
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger(__name__)


class EmailBackend(BaseEmailBackend):
    def __init__(self, *args, directory: str | os.PathLike | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.directory = Path(directory or settings.EMAIL_MAILBOX_DIR)

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            recipients = message.recipients()
            if not recipients:
                continue
            try:
                path = self._write(message.message().as_bytes(linesep="\r\n"))
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            logger.info(
                'Email to %s: "%s" (saved in %s)',
                ", ".join(recipients),
                _one_line(message.subject),
                path,
            )
            sent += 1
        return sent

    def _write(self, data: bytes) -> Path:
        """A new file of its own for `data`, named by the time (sorted oldest first)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.directory / f"{stamp}-{secrets.token_hex(3)}.eml"
        # "x": never overwrite; 0o600 (umask permitting): emails name people.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        return path


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
