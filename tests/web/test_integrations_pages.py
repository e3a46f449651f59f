"""The integrations pages: who sees them, the figures they show, the validation mode and
discovery limits admins change, and the write keys they create (shown once) and revoke."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import (
    ChangeSource,
    DailyVolume,
    Integration,
    ObjectChange,
    ResourceSeen,
    ValidationMode,
    Violation,
    ViolationKind,
    WriteKey,
)
from catalog.selectors import utc_today
from catalog.services.writekeys import (
    write_key_authenticate,
    write_key_create,
    write_key_revoke,
)
from tests.factories import (
    SYSTEM,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    UserFactory,
)
from tests.web.test_pages import text_of

LIST = "/integrations/"


def page_of(integration) -> str:
    return reverse("web:integration", args=[integration.pk])


def violation(integration, event_name, kind=ViolationKind.UNKNOWN_EVENT, count=1, **fields):
    now = timezone.now()
    return Violation.objects.create(
        integration=integration,
        event_name=event_name,
        kind=kind,
        count=count,
        first_seen_at=now - dt.timedelta(days=2),
        last_seen_at=now,
        **fields,
    )


def seen(resource, when=None, volumes=()):
    when = when or timezone.now()
    ResourceSeen.objects.create(resource=resource, first_seen_at=when, last_seen_at=when)
    today = utc_today()
    for days_ago, count in volumes:
        DailyVolume.objects.create(
            resource=resource, day=today - dt.timedelta(days=days_ago), count=count
        )


@pytest.fixture
def web_app(order_completed):
    """ "Web app" with Order Completed (seen, 12 received), a quiet event, two violations
    of one kind and one of another, and a write key."""
    integration = order_completed.integration
    integration.description = "The shop website, through Segment."
    integration.save()
    seen(order_completed, volumes=[(0, 5), (3, 7)])
    quiet = EventFactory(title="Cart Viewed", parent=order_completed.parent)
    seen(quiet, when=timezone.now() - dt.timedelta(days=40))
    violation(integration, "Checkout Started", count=4)
    violation(integration, "Coupon Applied", count=2)
    violation(
        integration,
        "Order Completed",
        kind=ViolationKind.WRONG_TYPE,
        property_name="revenue",
        count=9,
        event=order_completed,
    )
    write_key_create(ctx=SYSTEM, integration=integration, name="Website production")
    return integration


# Who sees them


def test_viewers_are_refused_both_pages(viewer_web, web_app):
    for url in (LIST, page_of(web_app)):
        response = viewer_web.get(url)
        assert response.status_code == 403
        assert "Only editors and admins see the integrations" in text_of(response)


def test_anonymous_visitors_are_sent_to_log_in(client, web_app):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_unknown_integration_is_a_404(editor_web, db):
    assert editor_web.get("/integrations/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert editor_web.get("/integrations/not-an-id/").status_code == 404


# The list


def test_the_list_shows_type_mode_events_last_seen_and_open_violations(
    editor_web, web_app, order_completed
):
    other = IntegrationFactory(name="iOS app", validation_mode=ValidationMode.BLOCK)
    response = editor_web.get(LIST)
    assert response.status_code == 200
    text = text_of(response)
    assert "Web app Segment Flag" not in text  # web app is in discover mode
    assert "Web app The shop website, through Segment. Segment Discover 2 events" in text
    assert "2 properties" in text
    assert "3 open violations of Web app (15 times)" in text  # seen 15 times
    assert "iOS app Segment Block 0 events" in text
    html = response.content.decode()
    assert f'href="/violations/?integration={web_app.pk}"' in html
    assert f'href="/events/?integration={web_app.pk}"' in html
    assert f'href="{page_of(other)}"' in html
    # Last seen: the latest of its events, as a relative time with the exact one beside.
    assert "<time datetime=" in html and "just now" in text
    assert "Never" in text  # the iOS app never sent anything
    assert "Write keys" not in text  # the keys are the admins'


def test_resolved_violations_are_not_counted(editor_web, web_app):
    Violation.objects.filter(event_name="Coupon Applied").update(resolved_at=timezone.now())
    assert "2 open violations of Web app (13 times)" in text_of(editor_web.get(LIST))
    text = text_of(editor_web.get(page_of(web_app)))
    assert "Unknown event 1 4" in text


def test_admins_see_how_many_active_write_keys(admin_web, web_app):
    key, _ = write_key_create(ctx=SYSTEM, integration=web_app, name="Old")
    write_key_revoke(ctx=SYSTEM, key=key)
    assert "1 active" in text_of(admin_web.get(LIST))


def test_the_list_costs_the_same_queries_for_2_or_20_integrations(
    admin_web, django_assert_max_num_queries
):
    def add(n):
        for _ in range(n):
            event = EventFactory(parent=EventCategoryFactory(integration=IntegrationFactory()))
            EventPropertyFactory(parent=event)
            seen(event, volumes=[(1, 3)])
            violation(event.integration, event.title)
            write_key_create(ctx=SYSTEM, integration=event.integration, name="k")

    add(2)
    # The session, the user, the integrations with their figures.
    with django_assert_max_num_queries(3) as few:
        assert admin_web.get(LIST).status_code == 200
    add(18)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_web.get(LIST)
    assert text_of(response).count("1 active") == 20


# An integration's page


def test_the_page_shows_events_violations_by_kind_and_the_mode(
    editor_web, web_app, order_completed
):
    response = editor_web.get(page_of(web_app))
    assert response.status_code == 200
    text = text_of(response)
    assert "The shop website, through Segment." in text
    assert "All 2 events · 1 category · 2 properties" in text
    # Busiest events of the last 30 days: Order Completed (12), not the quiet one.
    assert "Order Completed in Checkout 12" in text
    assert "Cart Viewed" not in text
    assert 'role="img"' in response.content.decode()  # its daily chart
    # Violations by kind, most occurrences first, each linking to the violations page.
    assert text.index("Wrong type 1 9") < text.index("Unknown event 2 6")
    html = response.content.decode()
    assert f"/violations/?integration={web_app.pk}&amp;kind=wrong_type" in html
    # The mode, read-only for editors, with what it does.
    assert "Validation mode Discover : Events and properties the catalog doesn" in text
    assert "are added to it, unverified and unpublished" in text
    assert "Only admins can change the validation mode" in text
    assert "New events a day 1,000" in text
    assert 'type="radio"' not in html
    # No write keys for editors.
    assert "Write keys" not in text and "Create write key" not in text
    assert "Website production" not in text


def test_an_integration_without_traffic_says_so(editor_web, db):
    quiet = IntegrationFactory(name="Quiet")
    text = text_of(editor_web.get(page_of(quiet)))
    assert "No events received in the last 30 days." in text
    assert "None: everything received matches the plan." in text


def test_admins_change_the_validation_mode_recorded_in_the_history(admin_web, admin_user, web_app):
    response = admin_web.get(page_of(web_app))
    html = response.content.decode()
    assert html.count('type="radio"') == 3
    for sentence in ("Everything is accepted and nothing is added", "Only events registered"):
        assert sentence in text_of(response)

    response = admin_web.post(
        page_of(web_app),
        {
            "validation_mode": "block",
            "max_new_events_per_day": "1000",
            "max_new_properties_per_day": "10000",
            "max_properties_per_event": "250",
        },
        follow=True,
    )
    assert "Saved. The validation mode is Block." in text_of(response)
    web_app.refresh_from_db()
    assert web_app.validation_mode == ValidationMode.BLOCK
    assert web_app.max_properties_per_event == 250
    change = ObjectChange.objects.get(object_id=web_app.pk)
    assert change.action == "update"
    assert change.diff == {
        "validation_mode": ["discover", "block"],
        "max_properties_per_event": [1000, 250],
    }
    assert change.change_set.actor == admin_user
    assert change.change_set.source == ChangeSource.WEB


def test_saving_unchanged_settings_records_nothing(admin_web, web_app):
    data = {
        "validation_mode": "discover",
        "max_new_events_per_day": "1000",
        "max_new_properties_per_day": "10000",
        "max_properties_per_event": "1000",
    }
    response = admin_web.post(page_of(web_app), data, follow=True)
    assert "Nothing changed: nothing was saved." in text_of(response)
    assert not ObjectChange.objects.filter(object_id=web_app.pk).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_new_events_per_day", "99999999999999999999999999", "less than or equal to 1000000"),
        ("max_new_events_per_day", "-1", "greater than or equal to 0"),
        ("max_properties_per_event", "12\x00", "Enter a whole number."),
        ("max_new_properties_per_day", "", "This field is required."),
        ("validation_mode", "off", "Select a valid choice."),
        ("validation_mode", "flag\x00", "Select a valid choice."),
    ],
)
def test_bad_settings_are_shown_next_to_their_field(admin_web, web_app, field, value, message):
    data = {
        "validation_mode": "flag",
        "max_new_events_per_day": "10",
        "max_new_properties_per_day": "10",
        "max_properties_per_event": "10",
        field: value,
    }
    response = admin_web.post(page_of(web_app), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    if field != "validation_mode":
        # The message is in the field's group, and the field says it is invalid.
        assert 'aria-invalid="true"' in html and f'id="id_{field}"' in html
    web_app.refresh_from_db()
    assert web_app.validation_mode == ValidationMode.DISCOVER
    assert not ObjectChange.objects.filter(object_id=web_app.pk).exists()


def test_editors_cannot_post_the_settings(editor_web, web_app):
    response = editor_web.post(page_of(web_app), {"validation_mode": "block"})
    assert response.status_code == 403
    web_app.refresh_from_db()
    assert web_app.validation_mode == ValidationMode.DISCOVER


def test_the_page_costs_the_same_queries_for_2_or_20_events_violations_and_keys(
    admin_web, web_app, order_completed, django_assert_max_num_queries
):
    def add(n):
        for i in range(n):
            event = EventFactory(parent=order_completed.parent)
            seen(event, volumes=[(1, i + 1)])
            violation(web_app, event.title, kind=list(ViolationKind)[i % 5])
            key, _ = write_key_create(ctx=SYSTEM, integration=web_app, name=f"key {i}")
            key.created_by = UserFactory()
            key.save()

    add(2)
    # Session and user, the integration, counts, top events (totals, rows, daily counts),
    # violations by kind, write keys.
    with django_assert_max_num_queries(9) as few:
        assert admin_web.get(page_of(web_app)).status_code == 200
    add(18)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_web.get(page_of(web_app))
    assert text_of(response).count("wk_") == 21


# Write keys


def test_an_admin_creates_a_write_key_shown_once_with_how_to_use_it(admin_web, admin_user, web_app):
    response = admin_web.get(page_of(web_app))
    text = text_of(response)
    assert "Website production" in text and "Create write key" in text
    assert "System" not in text.split("Website production")[1][:80]  # created by nobody

    response = admin_web.post(
        reverse("web:write_key_create", args=[web_app.pk]), {"name": "Android app"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = WriteKey.objects.get(name="Android app")
    html = response.content.decode()
    secret = html.split('id="write-key-secret">')[1].split("<")[0]
    assert secret.startswith(f"wk_{key.prefix}_")
    assert write_key_authenticate(secret) == key
    assert key.created_by == admin_user and key.integration == web_app
    text = text_of(response)
    assert "it is shown only once" in text
    assert f"curl -u '{secret}:'" in text and "http://testserver/v1/batch" in text
    assert f'Client("{secret}", host="http://testserver")' in text
    change = ObjectChange.objects.get(object_id=key.pk)
    assert change.action == "create" and change.change_set.actor == admin_user
    assert secret not in str(change.diff)

    # Back on the integration's page (or reloading it): listed, the secret nowhere.
    response = admin_web.get(page_of(web_app))
    html = response.content.decode()
    assert secret not in html
    assert f"wk_{key.prefix}_…" in html
    row = text_of(response).split("Android app")[1][:120]
    assert "admin just now Revoke" in row  # created by, last used (authenticated above)


def test_a_key_needs_a_name_shown_next_to_the_field(admin_web, web_app):
    for name in ("", "  ", "x" * 201, "bad\x00name"):
        response = admin_web.post(
            reverse("web:write_key_create", args=[web_app.pk]), {"name": name}
        )
        assert response.status_code == 400
        assert 'id="id_name"' in response.content.decode()
        assert 'aria-invalid="true"' in response.content.decode()
    assert WriteKey.objects.filter(integration=web_app).count() == 1


def test_an_admin_revokes_a_write_key_after_confirming(admin_web, admin_user, web_app):
    key, secret = write_key_create(ctx=SYSTEM, integration=web_app, name="Leaked")
    revoke = reverse("web:write_key_revoke", args=[web_app.pk, key.pk])
    assert revoke in admin_web.get(page_of(web_app)).content.decode()

    confirm = admin_web.get(revoke)
    assert confirm.status_code == 200
    assert "Revoke the write key “Leaked”?" in text_of(confirm)
    key.refresh_from_db()
    assert key.revoked_at is None  # asking changes nothing

    response = admin_web.post(revoke, follow=True)
    assert "The write key “Leaked” is revoked" in text_of(response)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert write_key_authenticate(secret) is None
    change = ObjectChange.objects.get(object_id=key.pk, action="update")
    assert change.change_set.actor == admin_user
    assert list(change.diff) == ["revoked_at"]
    assert "Revoked" in text_of(response).rsplit("Leaked")[-1][:120]

    # Again: nothing more happens, nothing more is recorded.
    response = admin_web.post(revoke, follow=True)
    assert "was revoked already" in text_of(response)
    assert ObjectChange.objects.filter(object_id=key.pk).count() == 2


def test_editors_and_viewers_cannot_touch_write_keys(editor_web, viewer_web, web_app):
    key = WriteKey.objects.get(integration=web_app)
    revoke = reverse("web:write_key_revoke", args=[web_app.pk, key.pk])
    create = reverse("web:write_key_create", args=[web_app.pk])
    for client in (editor_web, viewer_web):
        assert client.post(create, {"name": "mine"}).status_code == 403
        assert client.get(revoke).status_code == 403
        assert client.post(revoke).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert WriteKey.objects.filter(integration=web_app).count() == 1


def test_a_key_of_another_integration_or_unknown_is_a_404(admin_web, web_app):
    key = WriteKey.objects.get(integration=web_app)
    other = IntegrationFactory()
    assert (
        admin_web.get(reverse("web:write_key_revoke", args=[other.pk, key.pk])).status_code == 404
    )
    missing = "00000000-0000-4000-8000-000000000000"
    assert (
        admin_web.post(f"/integrations/{web_app.pk}/write-keys/{missing}/revoke/").status_code
        == 404
    )
    assert admin_web.post(f"/integrations/{missing}/write-keys/", {"name": "x"}).status_code == 404
    assert Integration.objects.count() == 2
