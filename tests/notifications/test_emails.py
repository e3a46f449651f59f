"""What a recipient reads: subject, who and when, each change, links, unsubscribe headers."""

import pytest

from catalog.models import ChangeAction, EntityType
from catalog.notifications.delivery import deliver_due
from catalog.notifications.links import resource_url
from tests.factories import (
    ChangeSetFactory,
    EventFactory,
    EventPropertyFactory,
    NotificationFactory,
    ObjectChangeFactory,
)
from tests.notifications.helpers import SITE, event_change, follower, full_diff, order_completed

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(smtp, settings):
    """Alice's email about Dana's change of "Order Completed" (many fields at once)."""
    settings.TIME_ZONE = "Europe/Berlin"
    event = order_completed()
    event_change([follower("alice")], diff=full_diff(event), event=event)
    deliver_due()
    [message] = smtp.messages
    message.event = event
    return message


def test_subject_names_the_kind_the_title_and_what_happened(sent):
    assert sent["Subject"] == '[Event Catalog] Event "Order Completed" changed'
    assert sent["From"] == "Event Catalog <catalog@localhost>"


def test_body_says_who_changed_it_and_when_in_the_site_time_zone(sent):
    for body in (sent.text, sent.html):
        assert "Dana Steward" in body
        assert "ci-bot" in body
        assert "REST API" in body
        # 14:05 UTC, shown in Europe/Berlin.
        assert "Tue 4 Mar 2025, 15:05 CET" in body


def test_body_shows_each_changed_field_old_and_new(sent):
    text = sent.text
    assert "PII: No → Yes" in text
    assert "Parent: Checkout → Payments" in text
    assert "Tags: added checkout; removed legacy" in text
    assert "Owners: added Bob Owner" in text
    html = sent.html
    assert "+ checkout" in html
    assert "\N{MINUS SIGN} legacy" in html
    assert "Payments" in html


def test_markdown_changes_are_a_line_diff_of_the_changed_lines(sent):
    text = sent.text
    assert "- Sent by the server.\n" in text
    assert "+ Sent by the server once the payment succeeded.\n" in text
    # A little context, not the whole text twice.
    assert "  # Order Completed" in text
    assert text.count("Properties: revenue, currency.") == 1
    assert "- Sent by the server." in sent.html
    assert "+ Sent by the server once the payment succeeded." in sent.html


def test_body_links_to_the_resource_with_an_absolute_url(sent):
    url = f"{SITE}/resources/{sent.event.pk}/"
    assert resource_url(sent.event.pk) == url
    assert url in sent.text
    assert f'href="{url}"' in sent.html


def test_unsubscribe_link_and_one_click_headers(sent):
    header = sent["List-Unsubscribe"].strip()
    assert header.startswith(f"<{SITE}/unsubscribe/")
    assert header.endswith(">")
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert f"Stop following them: {url}" in sent.text
    assert f'href="{url}"' in sent.html
    # A plain URL in the header, not an encoded word mail clients can't click.
    raw_headers = sent.raw.split(b"\n\n", 1)[0]
    assert b"=?utf-8?" not in raw_headers


def test_markdown_is_escaped_in_the_html_part(smtp):
    hostile = '<script>alert("x")</script>\n<img src=x onerror=alert(1)>'
    event_change([follower("alice")], diff={"definition": ["Safe.", hostile]})

    deliver_due()

    [message] = smtp.messages
    assert "<script" not in message.html
    assert "<img" not in message.html
    assert "&lt;script&gt;" in message.html
    assert '+ <script>alert("x")</script>' in message.text


def test_a_change_of_several_resources_names_the_followed_one_first(smtp):
    alice = follower("alice")
    prop = EventPropertyFactory(title="revenue", parent=EventFactory(title="Order Completed"))
    others = [EventPropertyFactory(title=f"p{n}", parent=prop.parent) for n in range(2)]
    change_set = ChangeSetFactory(actor_name="Dana Steward")
    for resource in [*others, prop]:
        ObjectChangeFactory(change_set=change_set, resource=resource, diff={"pii": [False, True]})
    NotificationFactory(change_set=change_set, recipient=alice, followed=[str(prop.pk)])

    deliver_due()

    [message] = smtp.messages
    assert message["Subject"] == '[Event Catalog] Event property "revenue" and 2 more changed'
    assert message.text.index('"revenue"') < message.text.index('"p0"')


@pytest.mark.parametrize(
    ("action", "subject"),
    [
        (ChangeAction.CREATE, '[Event Catalog] Event category "Checkout" created'),
        (ChangeAction.DELETE, '[Event Catalog] Event category "Checkout" deleted'),
    ],
)
def test_subject_of_a_created_or_deleted_resource(smtp, action, subject):
    change_set = ChangeSetFactory(actor_name="Dana Steward")
    ObjectChangeFactory(
        change_set=change_set,
        object_id="6f0c5b1e-7a0e-4d52-9d8e-0c3b1f1b2a10",
        object_type=EntityType.EVENT_CATEGORY,
        title="Checkout",
        action=action,
        diff={"published": [None, True]} if action == ChangeAction.CREATE else {},
    )
    NotificationFactory(change_set=change_set, recipient=follower("alice"))

    deliver_due()

    [message] = smtp.messages
    assert message["Subject"] == subject
    if action == ChangeAction.CREATE:
        assert "Published: Yes" in message.text
        assert "/resources/6f0c5b1e-7a0e-4d52-9d8e-0c3b1f1b2a10/" in message.text
    else:
        assert "/resources/" not in message.text


def test_without_followed_resources_there_is_no_unsubscribe_link(smtp):
    change_set = event_change([])
    NotificationFactory(change_set=change_set, recipient=follower("owner"), followed=[])

    deliver_due()

    [message] = smtp.messages
    assert message["List-Unsubscribe"] is None
    assert "/unsubscribe/" not in message.text
