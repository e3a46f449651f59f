"""`POST /api/v1/violations/{id}/resolve`, and the resolution in the violations' listings."""

import pytest
from django.utils import timezone

from catalog.models import Violation
from tests.factories import EventFactory


@pytest.fixture
def wrong(db):
    event = EventFactory(title="Order Completed")
    now = timezone.now()
    return Violation.objects.create(
        integration=event.integration,
        event=event,
        event_name="Order Completed",
        property_name="items",
        kind="wrong_type",
        count=4,
        first_seen_at=now,
        last_seen_at=now,
    )


def test_editors_resolve_and_listings_show_it(as_editor, editor, wrong):
    editor.first_name, editor.last_name = "Ada", "Lovelace"
    editor.save()
    response = as_editor.post(f"/api/v1/violations/{wrong.pk}/resolve")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == wrong.pk
    assert body["resolved_by_id"] == str(editor.pk)
    assert body["resolved_by_name"] == "Ada Lovelace"
    assert body["resolved_at"] is not None
    wrong.refresh_from_db()
    assert wrong.resolved_by == editor
    listed = as_editor.get(f"/api/v1/event/events/{wrong.event_id}/violations").json()
    assert listed["results"][0]["resolved_by_name"] == "Ada Lovelace"
    assert listed["results"][0]["resolved_at"] == body["resolved_at"]
    # Again: nothing changes.
    assert as_editor.post(f"/api/v1/violations/{wrong.pk}/resolve/").json() == body


def test_viewers_may_not_resolve(as_viewer, wrong):
    response = as_viewer.post(f"/api/v1/violations/{wrong.pk}/resolve")
    assert response.status_code == 403
    wrong.refresh_from_db()
    assert wrong.resolved_at is None


@pytest.mark.parametrize("pk", ["0", "123456", "abc", "99999999999999999999999", "%00"])
def test_unknown_ids_are_404(as_admin, wrong, pk):
    response = as_admin.post(f"/api/v1/violations/{pk}/resolve")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_listing_costs_one_query_for_the_resolvers(
    as_admin, admin_user, wrong, django_assert_max_num_queries
):
    now = timezone.now()
    for n in range(20):
        Violation.objects.create(
            integration=wrong.integration,
            event=wrong.event,
            event_name="Order Completed",
            property_name=f"p{n}",
            kind="wrong_type",
            count=1,
            first_seen_at=now,
            last_seen_at=now,
            resolved_at=now,
            resolved_by=admin_user,
        )
    url = f"/api/v1/integration/integrations/{wrong.integration_id}/violations"
    with django_assert_max_num_queries(8):
        body = as_admin.get(url).json()
    assert sum(1 for row in body["results"] if row["resolved_by_name"] == "admin") == 20
