"""A real SMTP server on localhost, so the tests see what a mail server would receive."""

import email
import email.policy
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    peer: tuple
    raw: bytes
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    def __getitem__(self, header: str) -> str:
        return self.message[header]

    @property
    def text(self) -> str:
        return self._part("plain")

    @property
    def html(self) -> str:
        return self._part("html")

    def _part(self, subtype: str) -> str:
        content = self.message.get_body(preferencelist=(subtype,)).get_content()
        return content.replace("\r\n", "\n")


@dataclass
class Collector:
    """The aiosmtpd handler: keeps every message; the client's address tells connections
    apart (each connection comes from its own port)."""

    messages: list[Received] = field(default_factory=list)
    #: Addresses the server refuses, as for an unknown mailbox.
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(
            Received(
                session.peer,
                envelope.original_content,
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,
            )
        )
        return "250 Message accepted for delivery"

    @property
    def connections(self) -> int:
        return len({received.peer for received in self.messages})


@dataclass
class SmtpServer:
    controller: Controller
    handler: Collector
    settings: object

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def go_down(self) -> None:
        """Point Django at a port nobody listens on (connection refused)."""
        self.settings.EMAIL_PORT = free_port()

    def come_back(self) -> None:
        self.settings.EMAIL_PORT = self.controller.port


@pytest.fixture
def smtp(settings):
    """A running SMTP server, and Django set to send to it over SMTP."""
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://catalog.example.com"
    try:
        yield SmtpServer(controller, handler, settings)
    finally:
        controller.stop()
