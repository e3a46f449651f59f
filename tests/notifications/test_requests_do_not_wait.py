"""A slow mail server never holds a request: the catalog as an operator runs it (`serve` for a
trial, gunicorn with the default settings) answers a change at once, and its subscribers' email
goes out afterwards, from the background. Nor does a delivery that can't even be queued turn a
committed change into an error.

The mail server here takes each message only once the test lets it go: the change must be
answered while it still holds the first one.
"""

import asyncio
import email
import email.policy
import io
import json
import sys
import threading
import urllib.request

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import DatabaseError
from rest_framework.test import APIClient

from catalog.models import Notification, Role
from catalog.notifications.tasks import deliver_notifications
from catalog.services.keys import api_key_create
from tests.factories import SYSTEM, UserFactory
from tests.notifications.helpers import follower, order_completed
from tests.processes import (
    Output,
    free_port,
    manage,
    start,
    trial_database,
    trial_env,
    wait_for,
)

#: The editors following an event (the demo's admin makes the change, and isn't emailed).
FOLLOWED_EVENT = """
    SELECT r.id, r.title FROM catalog_resource r
    JOIN catalog_resource_subscribers s ON s.resource_id = r.id
    JOIN catalog_user u ON u.id = s.user_id
    WHERE r.entity_type = 'event' AND u.role = 'editor' AND u.is_active AND u.email <> ''
      AND u.email_frequency = 'immediate'
    GROUP BY r.id, r.title ORDER BY count(*) DESC, r.title LIMIT 1
"""
FOLLOWERS = """
    SELECT u.email FROM catalog_resource_subscribers s JOIN catalog_user u ON u.id = s.user_id
    WHERE s.resource_id = %s AND u.username <> 'admin'
"""


class HeldMailServer:
    """An aiosmtpd handler that accepts a message only once `release` is set."""

    def __init__(self) -> None:
        self.arrived = threading.Event()  # a message is in, waiting for the release
        self.release = threading.Event()
        self.received = threading.Event()
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        self.received.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def mail_server():
    handler = HeldMailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        handler.release.set()
        controller.stop()


def start_serve(env, port) -> Output:
    server = Output(manage("serve", "--addr", f"127.0.0.1:{port}", env=env))
    server.wait_for_line("Event Catalog is starting on")
    return server


def start_gunicorn(env, port) -> Output:
    """gunicorn as README's production section runs it (2 workers, the app preloaded), over
    the database `serve` prepared, with the default task backend."""
    start_serve(env, free_port()).stop()
    production = {
        **env,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "a-test-only-secret-key-for-gunicorn-on-localhost-0123456789",
        "SECURE_SSL_REDIRECT": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]
    return Output(start(argv, env=production))


def api_key_of_admin(env) -> str:
    created = Output(manage("create_api_key", "--user", "admin", "--name", "mail test", env=env))
    output = created.finish()
    assert created.process.returncode == 0, output
    return output.splitlines()[-1].strip()


def patch(port: int, key: str, resource_id: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/event/events/{resource_id}",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    # Answered within seconds, or the request waits for the mail server: far less than the
    # mail server's hold, which lasts until the test lets go.
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


@pytest.mark.parametrize("start", [start_serve, start_gunicorn], ids=["serve", "gunicorn"])
def test_a_change_is_answered_while_the_mail_server_holds_its_email(start, mail_server, tmp_path):
    held, smtp_port = mail_server
    with trial_database(tmp_path, "mail") as (database_env, query):
        env = trial_env(
            tmp_path,
            **database_env,
            DJANGO_DEBUG="1",
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            EMAIL_TIMEOUT="120",
        )
        port = free_port()
        server = start(env, port)
        try:
            assert wait_for(f"http://127.0.0.1:{port}/healthcheck") == 200
            key = api_key_of_admin(env)
            [(resource_id, title)] = query(FOLLOWED_EVENT)
            followers = {address for (address,) in query(FOLLOWERS, [resource_id])}

            status, body = patch(
                port, key, str(resource_id).replace("-", ""), {"description": "Now with tax."}
            )

            # Answered, with the change, while the mail server holds its email.
            assert status == 200 and body["description"] == "Now with tax."
            assert held.messages == []
            assert held.arrived.wait(timeout=120), "no email was ever sent"
            held.release.set()
            assert held.received.wait(timeout=120)
        finally:
            output = server.stop()

    message = held.messages[0]
    assert message["Subject"] == f'[Event Catalog] Event "{title}" changed', output
    assert message["To"] in followers
    assert "Now with tax." in message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_a_change_whose_delivery_cannot_be_queued_still_succeeds(monkeypatch, caplog, smtp):
    """The change and its outbox rows are committed before the delivery is queued: if queueing
    fails (the database backend's INSERT, say), the client still hears of its success, and
    `send_notifications` sends the email."""
    editor = UserFactory(username="editor", role=Role.EDITOR)
    event = order_completed()
    event.subscribers.add(follower("ann"))

    def refuse(*args, **kwargs):
        raise DatabaseError("the task table is locked")

    monkeypatch.setattr(type(deliver_notifications.get_backend()), "enqueue", refuse)
    _, secret = api_key_create(ctx=SYSTEM, user=editor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = client.patch(
        f"/api/v1/event/events/{event.pk}", {"description": "Paid"}, format="json"
    )

    assert response.status_code == 200 and response.json()["description"] == "Paid"
    assert "Could not queue the delivery of change set" in caplog.text
    [row] = Notification.objects.all()
    assert row.status == Notification.Status.PENDING and smtp.messages == []
    out = io.StringIO()
    call_command("send_notifications", stdout=out)
    assert out.getvalue().startswith("Sent 1,")
    assert [m["To"] for m in smtp.messages] == ["ann@example.com"]
