"""The first run as a trial user meets it: the product's 404 page (never Django's debug pages),
emails kept as files with one line each, and links in emails to the address `serve` listens
on. The last tests run `manage.py serve` for real."""

import email
import email.policy
import io
import logging
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from catalog.management.commands import serve
from catalog.notifications.links import resource_url, unsubscribe_url
from tests.factories import EventFactory
from tests.notifications.test_requests_do_not_wait import (
    FOLLOWED_EVENT,
    FOLLOWERS,
    api_key_of_admin,
    patch,
)
from tests.processes import (
    Output,
    command_name,
    free_port,
    manage,
    trial_database,
    trial_env,
    wait_for,
)

MAILBOX = "catalog.notifications.mailbox.EmailBackend"


# The product's own 404 page, JSON for the APIs.


def product_404(response) -> str:
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert "Back to the catalog" in page
    assert "Django" not in page and "URLconf" not in page
    return page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/events/not-a-thing/",
        "/resources/zzz",
        "/resources/00000000-0000-0000-0000-000000000000/",
    ],
)
def test_an_unknown_url_is_the_products_404_page(viewer, path):
    client = Client()
    client.force_login(viewer)
    product_404(client.get(path))


@pytest.mark.django_db
def test_an_unknown_url_is_the_products_404_page_when_signed_out(client):
    product_404(client.get("/no/such/page"))


@pytest.mark.django_db
def test_a_hidden_resource_is_the_products_404_page_for_a_viewer(viewer):
    hidden = EventFactory(title="Secret Launch", published=False)
    client = Client()
    client.force_login(viewer)
    page = product_404(client.get(f"/resources/{hidden.pk}/"))
    assert "Secret Launch" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/nope", "/api/v1/nope", "/api/schema/x", "/v1/nope"])
def test_an_unknown_api_url_is_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


# Emails kept as files, one line each.


def test_an_email_without_email_url_is_a_file_and_one_line(settings, tmp_path, caplog):
    settings.EMAIL_BACKEND = MAILBOX
    settings.EMAIL_MAILBOX_DIR = tmp_path / "emails"
    caplog.set_level(logging.INFO, logger="catalog.notifications.mailbox")
    message = mail.EmailMultiAlternatives(
        'Event "Order Completed" changed',
        "The description is now: paid.\n" * 40,
        to=["ann@example.com", "bob@example.com"],
    )
    message.attach_alternative("<p>The description is now: paid.</p>", "text/html")

    assert message.send() == 1

    [path] = sorted((tmp_path / "emails").iterdir())
    assert path.suffix == ".eml" and path.stat().st_mode & 0o077 == 0
    [line] = [record.getMessage() for record in caplog.records]
    assert line == (
        'Email to ann@example.com, bob@example.com: "Event "Order Completed" changed" '
        f"(saved in {path})"
    )
    saved = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert saved["Subject"] == 'Event "Order Completed" changed'
    assert saved["To"] == "ann@example.com, bob@example.com"
    assert "The description is now: paid." in saved.get_body(("plain",)).get_content()
    assert "<p>The description" in saved.get_body(("html",)).get_content()


def test_each_email_gets_a_file_of_its_own(settings, tmp_path):
    settings.EMAIL_BACKEND = MAILBOX
    settings.EMAIL_MAILBOX_DIR = tmp_path / "emails"
    sent = mail.get_connection().send_messages(
        [mail.EmailMessage(f"Change {n}", "Body", to=["ann@example.com"]) for n in range(5)]
    )
    assert sent == 5
    subjects = [
        email.message_from_bytes(p.read_bytes())["Subject"]
        for p in sorted((tmp_path / "emails").iterdir())
    ]
    assert subjects == [f"Change {n}" for n in range(5)]


def test_an_unwritable_mailbox_is_an_error_the_outbox_retries(settings, tmp_path):
    (tmp_path / "emails").write_text("a file, not a folder")
    settings.EMAIL_BACKEND = MAILBOX
    settings.EMAIL_MAILBOX_DIR = tmp_path / "emails"
    with pytest.raises(OSError):
        mail.EmailMessage("Hi", "Body", to=["ann@example.com"]).send()
    assert mail.EmailMessage("Hi", "Body", to=["a@example.com"]).send(fail_silently=True) == 0


# Links in emails go where serve listens.


@pytest.fixture
def run_serve(monkeypatch, settings, tmp_path):
    """serve minus runserver and collectstatic, with --no-demo; returns its output."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.DATA_DIR = tmp_path / "data"
    settings.EMAIL_BACKEND = MAILBOX
    settings.EMAIL_MAILBOX_DIR = tmp_path / "data" / "emails"
    settings.SITE_URL = "http://127.0.0.1:8000"
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SITE_URL", raising=False)

    def fake_call_command(command, *args, **options):
        if command_name(command) not in ("runserver", "collectstatic"):
            return call_command(command, *args, **options)

    monkeypatch.setattr(serve, "call_command", fake_call_command)

    def run(*args):
        out = io.StringIO()
        call_command("serve", "--no-demo", *args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


@pytest.mark.django_db
def test_links_in_emails_go_to_the_address_served(run_serve, settings, tmp_path):
    out = run_serve("--addr", "127.0.0.1:8123")

    assert settings.SITE_URL == "http://127.0.0.1:8123"
    event = EventFactory()
    assert resource_url(event.pk) == f"http://127.0.0.1:8123/resources/{event.pk}/"
    assert unsubscribe_url(1, [event.pk]).startswith("http://127.0.0.1:8123/unsubscribe/")
    assert (
        "Links in emails: http://127.0.0.1:8123/ (the address served; set SITE_URL for another)"
        in out
    )
    emails = tmp_path / "data" / "emails"
    assert f"Emails: kept as files in {emails}, one line here for each" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("addr", "site_url"),
    [("0.0.0.0:8080", "http://127.0.0.1:8080"), ("[::]:8080", "http://[::1]:8080")],
)
def test_on_every_interface_links_go_to_this_machine_and_serve_says_so(
    run_serve, settings, addr, site_url
):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
    out = run_serve("--addr", addr)
    assert site_url == settings.SITE_URL
    assert f"Links in emails: {site_url}/ (this machine's own address" in out
    assert "set SITE_URL to the address other machines use" in out


@pytest.mark.django_db
def test_a_site_url_set_in_the_environment_is_kept(run_serve, settings, monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://catalog.example.com")
    settings.SITE_URL = "https://catalog.example.com"
    out = run_serve("--addr", "127.0.0.1:8123")
    assert settings.SITE_URL == "https://catalog.example.com"
    assert "Links in emails: https://catalog.example.com/ (from SITE_URL)" in out


@pytest.mark.django_db
def test_serve_never_answers_with_debug_pages(run_serve, settings):
    settings.DEBUG = True  # As manage.py sets it for an unconfigured trial.
    run_serve()
    assert settings.DEBUG is False


@pytest.mark.django_db
def test_serve_says_nothing_of_files_when_emails_are_sent(run_serve, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert "Emails: kept as files" not in run_serve()


# The real thing: `manage.py serve` in a trial environment, as README's quick start runs it.


def test_the_trial_server_shows_its_own_404_and_files_its_emails(tmp_path):
    with trial_database(tmp_path, "firstrun") as (database_env, query):
        # DJANGO_DEBUG=1, as manage.py sets it for a trial on SQLite: still no debug pages.
        env = trial_env(tmp_path, **database_env, DJANGO_DEBUG="1")
        port = free_port()
        server = Output(manage("serve", "--addr", f"127.0.0.1:{port}", env=env))
        try:
            server.wait_for_line(f"Links in emails: http://127.0.0.1:{port}/", seconds=300)
            assert wait_for(f"http://127.0.0.1:{port}/healthcheck") == 200

            def get(path):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                        return response.status, response.headers, response.read().decode()
                except urllib.error.HTTPError as error:
                    return error.code, error.headers, error.read().decode()

            status, headers, body = get("/no-such-page")
            assert status == 404 and "<h1>Page not found</h1>" in body
            assert "URLconf" not in body and "DEBUG = True" not in body
            status, headers, body = get("/api/no-such-thing")
            assert (status, headers["Content-Type"]) == (404, "application/json")
            assert get("/static/catalog/site.css")[0] == 200

            key = api_key_of_admin(env)
            [(resource_id, title)] = query(FOLLOWED_EVENT)
            followers = {address for (address,) in query(FOLLOWERS, [resource_id])}
            resource_id = str(resource_id).replace("-", "")
            status, _ = patch(port, key, resource_id, {"description": "Now with tax."})
            assert status == 200
            line = server.wait_for_line("Email to ")
        finally:
            output = server.stop()

    # One line per email, naming the recipient, the subject and the file.
    match = re.fullmatch(r'Email to (\S+): "(.+)" \(saved in (.+\.eml)\)', line)
    assert match, line
    to, subject, path = match.groups()
    assert to in followers
    assert subject == f'[Event Catalog] Event "{title}" changed'
    assert Path(path).parent == tmp_path / "emails"
    # The terminal holds no message body; the file holds all of it.
    assert "Now with tax." not in output and "MIME-Version" not in output
    saved = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    text = saved.get_body(("plain",)).get_content()
    assert "Now with tax." in text
    links = re.findall(r"https?://[^\s\"'<>)]+", text)
    base = f"http://127.0.0.1:{port}"
    assert links and all(link == base or link.startswith(f"{base}/") for link in links), links


# README.md shows what serve prints.

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.django_db
def test_the_readme_shows_what_serve_prints(monkeypatch, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.DATA_DIR = tmp_path / "data"
    settings.EMAIL_BACKEND = MAILBOX
    settings.EMAIL_MAILBOX_DIR = tmp_path / "data" / "emails"
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.setattr(
        serve,
        "call_command",
        lambda command, *args, **options: (
            None
            if command_name(command) in ("runserver", "collectstatic")
            else call_command(command, *args, **options)
        ),
    )
    out = io.StringIO()
    call_command("serve", stdout=out, stderr=io.StringIO())
    printed = out.getvalue().splitlines()

    [loaded] = [line for line in printed if line.startswith("Loaded the demo catalog")]
    [shown] = [line for line in README.splitlines() if line.startswith("Loaded the demo catalog")]
    # The same figures, but for today's events, which depend on the time of day.
    today = re.compile(r"\d+ events received today")
    assert today.sub("N", loaded) == today.sub("N", shown)
    counts = re.search(r"(\d+) integrations, (\d+) categories, (\d+) events", loaded).groups()
    assert "{} integrations, {} categories, {} events".format(*counts) in " ".join(README.split())
    # Every line of the URL block, and the lines about emails, as the README shows them.
    for line in printed:
        if line.startswith(("  Catalog:", "  Log in:", "  Admin:", "  Healthcheck:")):
            assert line in README, line
        if line.startswith(("Links in emails:", "Stop it with")):
            assert line in README, line
    assert "Emails: kept as files in /path/to/event-catalog/data/emails, one line here" in README
