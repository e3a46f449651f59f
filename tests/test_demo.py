"""The demo catalog as a trial user meets it: definitions, accounts, followers, history,
tracking data and a write key."""

import base64
import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from catalog.demo import load_demo_catalog, read_demo_accounts, read_demo_write_keys
from catalog.management.commands import serve
from catalog.markdown import render_markdown
from catalog.models import (
    ChangeSet,
    DailyVolume,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    LoggedEvent,
    Notification,
    ObjectChange,
    Resource,
    ResourceSeen,
    Role,
    User,
    ValidationMode,
    Violation,
    ViolationKind,
    WriteKey,
)
from catalog.services.writekeys import write_key_authenticate, write_key_revoke
from tests.factories import SYSTEM, UserFactory, fingerprint_of_a_demo_load
from tests.processes import command_name

pytestmark = pytest.mark.django_db


def html(text: str) -> str:
    """A definition as the catalog's pages show it."""
    return str(render_markdown(text))


def get_json(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_main_events_have_written_markdown_definitions(client):
    load_demo_catalog()
    editor = User.objects.get(username="maria.garcia")
    event = Event.objects.get(integration__name="Web app", title="Order Completed")

    definition = get_json(client, editor, f"/api/v1/event/events/{event.pk}")["definition"]

    page = html(definition)
    assert "<h2>When it fires</h2>" in page
    assert "<ol>" in page and "<table>" in page and "<blockquote>" in page
    assert '<a href="https://segment.com/docs/connections/spec/ecommerce/v2/' in page
    # The written introduction comes first; an example follows, from the data. No table of
    # the properties: the page shows them (type, required, allowed values) from the data.
    assert definition.index("## When it fires") < definition.index("## Example")
    assert "## Properties" not in definition and "| `revenue` |" not in definition
    assert '"event": "Order Completed"' in definition
    for path in [
        ("Web app", "Signed Up"),
        ("Web app", "Product Viewed"),
        ("Web app", "Products Searched"),
        ("Backend", "login_failed"),
    ]:
        text = Event.objects.get(integration__name=path[0], title=path[1]).definition
        assert "## " in text and "**When it fires:**" not in text, path


def test_other_definitions_are_written_from_the_data():
    load_demo_catalog()
    generated = Event.objects.filter(definition__contains="**When it fires:**")
    assert generated.count() > 20
    assert "<table>" not in html(generated.first().definition)
    assert '<code class="language-json">' in html(generated.first().definition)
    # All but the category ingestion made for what it discovered (see test_tracking_data...).
    for category in EventCategory.objects.exclude(title="Uncategorized"):
        page = html(category.definition)
        assert "<h2>Events</h2>" in page
        assert page.count("<li>") == category.children.count()
    revenue = EventProperty.objects.filter(title="revenue").first()
    assert "<strong><code>revenue</code></strong>" in html(revenue.definition)
    email = EventProperty.objects.filter(title="email").first()
    assert "Personal data" in email.definition
    plan = EventProperty.objects.filter(title="plan").first()
    assert "One of: `free`, `starter`, `pro`, `enterprise`." in plan.definition


# The demo accounts.


def test_the_demo_accounts_exist_only_once_the_demo_is_loaded(tmp_path):
    assert not User.objects.exists()  # The migrations made none.
    path = tmp_path / "demo-accounts.json"

    load_demo_catalog(accounts_file=path)

    accounts = read_demo_accounts(path)
    assert [(a.username, a.role, a.status) for a in accounts] == [
        ("admin", "admin", "current"),
        ("editor", "editor", "current"),
        ("viewer", "viewer", "current"),
    ]
    for account in accounts:
        assert User.objects.get(username=account.username).check_password(account.password)
    assert path.stat().st_mode & 0o777 == 0o600
    assert "changepassword" in json.loads(path.read_text())["about"]


def test_without_a_file_to_keep_them_the_accounts_get_no_password():
    load_demo_catalog()
    for username in ("admin", "editor", "viewer"):
        assert not User.objects.get(username=username).has_usable_password()


def test_an_account_that_exists_already_is_left_alone(tmp_path):
    editor = UserFactory(username="editor", role=Role.VIEWER)
    editor.set_password("the-owner's-own-password")
    editor.save()
    path = tmp_path / "demo-accounts.json"

    load_demo_catalog(accounts_file=path)

    editor.refresh_from_db()
    assert editor.role == Role.VIEWER and editor.check_password("the-owner's-own-password")
    assert [a.username for a in read_demo_accounts(path)] == ["admin", "viewer"]


# Followers and a first history.


@pytest.fixture
def demo(tmp_path):
    """The demo catalog, loaded as serve loads it; its accounts' passwords by username."""
    path = tmp_path / "demo-accounts.json"
    load_demo_catalog(accounts_file=path)
    return {account.username: account.password for account in read_demo_accounts(path)}


def test_the_demo_accounts_follow_what_the_file_says(demo, client):
    assert client.login(username="editor", password=demo["editor"])
    acquisition = EventCategory.objects.get(integration__name="Web app", title="Acquisition")
    editor = User.objects.get(username="editor")

    category = client.get(f"/api/v1/event/category/{acquisition.pk}").json()

    assert str(editor.pk) in category["subscribers"]
    followed = Resource.objects.filter(subscribers=editor)
    assert set(followed.values_list("title", flat=True)) >= {
        "Acquisition",
        "Onboarding",
        "Order Completed",
        "Account Created",
    }


def test_people_follow_their_teams_categories_and_what_they_own(demo):
    maria = User.objects.get(username="maria.garcia")  # Growth
    growth = set(EventCategory.objects.filter(teams__name="Growth"))
    assert growth and growth <= set(EventCategory.objects.filter(subscribers=maria))
    owned = Resource.owners.through.objects.values_list("resource_id", "user_id")
    followed = set(Resource.subscribers.through.objects.values_list("resource_id", "user_id"))
    assert set(owned) <= followed
    assert Event.objects.filter(subscribers__role=Role.VIEWER).exists()


def test_a_few_edits_show_in_the_history_with_who_made_them(demo, client):
    assert client.login(username="viewer", password=demo["viewer"])
    revenue = EventProperty.objects.get(
        title="revenue", parent__title="Order Completed", integration__name="Web app"
    )

    history = client.get(f"/api/v1/event/event_properties/{revenue.pk}/history").json()

    [change] = history["results"]
    assert change["actor"]["name"] == "editor" and change["source"] == "command"
    assert change["diff"] == {
        "description": [
            "Revenue after discounts, before shipping and tax.",
            "Revenue after discounts, before shipping and tax, in `currency`.",
        ]
    }
    client.logout()

    assert client.login(username="admin", password=demo["admin"])
    shipped = Event.objects.get(title="order_shipped")
    page = client.get(f"/admin/catalog/event/{shipped.pk}/history/").content.decode()
    assert "admin" in page and "via Command" in page and "gdpr" in page
    assert shipped.pii and shipped.tags.filter(title="gdpr").exists()
    # The file's edits; ingestion's discoveries are in the history too, by no user.
    edits = ObjectChange.objects.filter(
        change_set__source="command", object_type__in=EntityType.values
    )
    assert edits.count() == 8
    commands = ChangeSet.objects.filter(source="command", changes__in=edits)
    assert set(commands.values_list("actor__username", flat=True)) == {"admin", "editor"}


def test_the_load_emails_nobody(demo, mailoutbox):
    assert not Notification.objects.exists()
    assert mailoutbox == []


# Tracking data: 30 days of volumes, today's traffic through ingestion.


def test_the_demo_has_volumes_for_the_last_30_days(demo, client):
    today = timezone.now().astimezone(dt.UTC).date()
    past = DailyVolume.objects.filter(day__lt=today)
    assert past.count() > 10_000
    days = set(past.values_list("day", flat=True))
    assert days == {today - dt.timedelta(days=n) for n in range(1, 31)}
    # Today's volumes come from ingestion.
    assert DailyVolume.objects.filter(day=today).exists()
    assert client.login(username="viewer", password=demo["viewer"])
    order = Event.objects.get(integration__name="Web app", title="Order Completed")

    body = client.get(f"/api/v1/event/events/{order.pk}").json()

    assert 0 < body["volume_7d"] < body["volume_30d"]
    first_seen = dt.datetime.fromisoformat(body["first_seen_at"])
    assert first_seen < timezone.now() - dt.timedelta(days=30)
    # Properties arrive with their events.
    revenue = order.children.get(title="revenue")
    assert DailyVolume.objects.filter(resource=revenue).aggregate(n=Sum("count"))["n"] > 0
    assert ResourceSeen.objects.filter(resource=revenue).exists()


def test_the_flag_integration_has_violations_of_every_kind(demo, client):
    backend = Integration.objects.get(name="Backend")
    assert backend.validation_mode == ValidationMode.FLAG
    assert set(Violation.objects.filter(integration=backend).values_list("kind", flat=True)) == {
        ViolationKind.WRONG_TYPE,
        ViolationKind.MISSING_REQUIRED,
        ViolationKind.NOT_ALLOWED,
        ViolationKind.UNKNOWN_PROPERTY,
        ViolationKind.UNKNOWN_EVENT,
    }
    # The rest of the traffic has properties of the right types and allowed values.
    assert not Violation.objects.exclude(integration=backend).exists()
    for integration in Integration.objects.all():
        assert LoggedEvent.objects.filter(integration_id=integration.pk).count() > 100
    # Editors see an event's violations on its page.
    wrong = Violation.objects.get(kind=ViolationKind.WRONG_TYPE)
    assert client.login(username="editor", password=demo["editor"])
    page = client.get(f"/resources/{wrong.event_id}/").content.decode()
    assert "Wrong type" in page and wrong.property_name in page


def test_web_app_discovers_events_the_catalog_does_not_know(demo, client):
    web = Integration.objects.get(name="Web app")
    assert web.validation_mode == ValidationMode.DISCOVER
    gift = Event.objects.get(integration=web, title="Gift Card Redeemed")
    assert gift.parent.title == "Uncategorized" and not gift.published
    assert set(gift.children.values_list("title", "data_type")) >= {
        ("amount_cents", "integer"),
        ("gift_card_id", "string"),
    }
    assert ResourceSeen.objects.filter(resource=gift).exists()
    assert client.login(username="editor", password=demo["editor"])

    history = client.get(f"/api/v1/event/events/{gift.pk}/history").json()

    [change] = history["results"]
    assert change["source"] == "ingest"
    assert not Notification.objects.exists()


def test_some_events_are_stale_or_never_seen(demo, client):
    assert client.login(username="editor", password=demo["editor"])
    stale = client.get("/api/v1/event/events", {"not_seen_days": 30}).json()["results"]
    titles = {row["title"] for row in stale}
    assert 3 <= len(titles) <= 10
    never = [row for row in stale if row["last_seen_at"] is None]
    gone = [row for row in stale if row["last_seen_at"] is not None]
    assert never and gone
    for row in gone:
        last_seen = dt.datetime.fromisoformat(row["last_seen_at"])
        assert last_seen < timezone.now() - dt.timedelta(days=40)
        assert row["volume_30d"] == 0
    # A few stopped last week or the one before.
    week = client.get("/api/v1/event/events", {"not_seen_days": 7}).json()["results"]
    assert {row["title"] for row in week} > titles
    page = client.get("/events/", {"not_seen_days": 30}).content.decode()
    assert all(title in page for title in titles)


def test_the_tracking_data_is_the_same_at_every_load():
    def fingerprint():
        volumes = DailyVolume.objects.values_list(
            "resource__integration__name", "resource__parent__title", "resource__title"
        ).annotate(total=Sum("count"))
        violations = Violation.objects.values_list("event_name", "property_name", "kind", "count")
        return sorted(volumes), sorted(violations)

    first = fingerprint_of_a_demo_load(fingerprint)
    load_demo_catalog()
    assert fingerprint() == first


# The demo's write key.


def test_the_accounts_file_keeps_the_demo_write_key(tmp_path):
    path = tmp_path / "demo-accounts.json"
    load_demo_catalog(accounts_file=path)

    [entry] = json.loads(path.read_text())["write_keys"]
    assert entry["integration"] == "Web app"
    [key] = read_demo_write_keys(path)
    assert (key.integration, key.prefix, key.status) == ("Web app", entry["prefix"], "active")
    assert key.secret == entry["secret"]
    assert write_key_authenticate(key.secret).integration.name == "Web app"
    assert path.stat().st_mode & 0o777 == 0o600


def test_without_a_file_to_keep_it_there_is_no_write_key():
    counts = load_demo_catalog()
    assert counts["write_keys"] == 0 and not WriteKey.objects.exists()


def test_an_accounts_file_without_write_keys_still_reads(tmp_path):
    """A file written before the demo had a write key."""
    path = tmp_path / "demo-accounts.json"
    load_demo_catalog(accounts_file=path)
    content = json.loads(path.read_text())
    del content["write_keys"]
    path.write_text(json.dumps(content))

    assert [a.username for a in read_demo_accounts(path)] == ["admin", "editor", "viewer"]
    assert read_demo_write_keys(path) == []


@pytest.fixture
def run_serve(monkeypatch, settings, tmp_path):
    """serve, as the operator runs it, minus runserver and collectstatic; returns its output."""
    settings.DATA_DIR = tmp_path / "data"
    settings.STATIC_ROOT = tmp_path / "static"
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)

    def fake_call_command(command, *args, **options):
        if command_name(command) not in ("runserver", "collectstatic"):
            call_command(command, *args, **options)

    monkeypatch.setattr(serve, "call_command", fake_call_command)

    def run(*args):
        out = io.StringIO()
        call_command("serve", *args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


def test_serve_prints_the_write_key_with_a_curl_command_that_works(run_serve, client):
    out = run_serve()

    [key] = read_demo_write_keys(serve.demo_accounts_file())
    assert f"Demo write key of Web app: {key.secret}" in out
    [curl] = [line.strip() for line in out.splitlines() if line.strip().startswith("curl ")]
    assert curl.startswith(f"curl -u '{key.secret}:' -H 'Content-Type: application/json' -d '")
    assert curl.endswith("' http://127.0.0.1:8000/v1/batch")
    body = re.search(r" -d '([^']*)' ", curl).group(1)
    assert json.loads(body)["batch"][0]["type"] == "track"
    # What curl sends: the key as the Basic user name, no password.
    signed_in = Event.objects.get(integration__name="Web app", title="Signed In")
    before = DailyVolume.objects.filter(resource=signed_in).aggregate(n=Sum("count"))["n"]
    basic = base64.b64encode(f"{key.secret}:".encode()).decode()
    response = client.post(
        "/v1/batch", body, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200 and response.json() == {"success": True}
    after = DailyVolume.objects.filter(resource=signed_in).aggregate(n=Sum("count"))["n"]
    assert after == before + 1
    assert not Violation.objects.filter(event_name="Signed In").exists()
    # Printed at every start.
    assert key.secret in run_serve()


def test_serve_does_not_print_a_revoked_write_key(run_serve):
    run_serve()
    [key] = WriteKey.objects.all()
    secret = read_demo_write_keys(serve.demo_accounts_file())[0].secret
    write_key_revoke(ctx=SYSTEM, key=key)

    out = run_serve()

    assert secret not in out and "curl" not in out
    assert f"The demo write key of Web app ({key.prefix}) has been revoked." in out
    assert "Demo accounts: log in" in out
