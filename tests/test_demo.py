"""The demo catalog as a trial user meets it: definitions, accounts, followers, history."""

import markdown
import pytest

from catalog.demo import load_demo_catalog
from catalog.models import Event, EventCategory, EventProperty, User

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
