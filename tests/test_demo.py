"""The demo catalog as a trial user meets it: definitions, accounts, followers, history."""

import json

import markdown
import pytest

from catalog.demo import load_demo_catalog, read_demo_accounts
from catalog.models import (
    ChangeSet,
    Event,
    EventCategory,
    EventProperty,
    Notification,
    Resource,
    ResourceChange,
    Role,
    User,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def html(text: str) -> str:
    return markdown.markdown(text, extensions=["tables", "fenced_code"])


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
    # The written introduction comes first; the properties and an example follow, from the data.
    assert definition.index("## When it fires") < definition.index("## Properties")
    assert "| `revenue` | number | yes |" in definition
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
    assert "<table>" in html(generated.first().definition)
    for category in EventCategory.objects.all():
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
    assert ResourceChange.objects.count() == 8
    assert set(ChangeSet.objects.values_list("actor__username", flat=True)) == {"admin", "editor"}


def test_the_load_emails_nobody(demo, mailoutbox):
    assert not Notification.objects.exists()
    assert mailoutbox == []
