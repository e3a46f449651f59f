"""Resolving violations, their daily trend, and reopening when they happen again."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from catalog.models import ValidationMode, Violation, ViolationDay
from catalog.services.context import ChangeContext
from catalog.services.violations import violation_resolve
from tests.factories import SYSTEM, EventFactory, EventPropertyFactory
from tests.ingest.conftest import track


@pytest.fixture
def plan(integration):
    integration.validation_mode = ValidationMode.FLAG
    integration.save()
    event = EventFactory(title="Order Completed", parent__integration=integration)
    EventPropertyFactory(title="items", parent=event, data_type="integer", required=True)
    return event


def _wrong_type():
    return Violation.objects.get(kind="wrong_type")


def _ctx(user):
    return ChangeContext(source="web", user=user)


def test_each_occurrence_is_counted_on_its_day(send, plan):
    send.segment({"batch": [track("Order Completed", {"items": "two"})] * 3})
    send.segment({"batch": [track("Order Completed", {"items": "three"}), track("Nope")]})
    violation = _wrong_type()
    today = timezone.now().astimezone(dt.UTC).date()
    assert list(violation.days.values_list("day", "count")) == [(today, 4)]
    unknown = Violation.objects.get(kind="unknown_event")
    assert list(unknown.days.values_list("day", "count")) == [(today, 1)]
    # The trend adds up to the count.
    assert ViolationDay.objects.get(violation=violation).count == violation.count == 4


def test_resolve_records_who_and_when(send, plan, editor):
    send.segment({"batch": [track("Order Completed", {"items": "two"})]})
    before = timezone.now()
    resolved = violation_resolve(ctx=_ctx(editor), violation=_wrong_type())
    assert resolved.resolved_by == editor
    stored = _wrong_type()
    assert stored.resolved_by == editor
    assert before <= stored.resolved_at <= timezone.now()
    # Resolving again keeps the first resolution.
    first = stored.resolved_at
    violation_resolve(ctx=SYSTEM, violation=stored)
    assert _wrong_type().resolved_at == first
    assert _wrong_type().resolved_by == editor


def test_viewers_may_not_resolve(send, plan, viewer):
    send.segment({"batch": [track("Order Completed", {"items": "two"})]})
    with pytest.raises(PermissionDenied, match="Only editors and admins can resolve"):
        violation_resolve(ctx=_ctx(viewer), violation=_wrong_type())
    assert _wrong_type().resolved_at is None


def test_a_resolved_violation_that_happens_again_reopens(send, plan, editor):
    send.segment({"batch": [track("Order Completed", {"items": "two"})] * 2})
    first_seen = _wrong_type().first_seen_at
    violation_resolve(ctx=_ctx(editor), violation=_wrong_type())
    # Events that don't break the plan that way leave it resolved.
    send.segment({"batch": [track("Order Completed", {"items": 2}), track("Other")]})
    assert _wrong_type().resolved_at is not None
    send.segment({"batch": [track("Order Completed", {"items": "again"})]})
    reopened = _wrong_type()
    assert reopened.resolved_at is None
    assert reopened.resolved_by is None
    assert reopened.count == 3  # the count keeps growing
    assert reopened.first_seen_at == first_seen
    assert reopened.last_seen_at > first_seen
    assert reopened.days.get().count == 3


def test_the_days_count_the_overflow_row_too(send, plan, settings):
    settings.INGEST_MAX_VIOLATIONS = 2
    send.segment({"batch": [track(f"Unknown {n}") for n in range(5)]})
    rows = {v.kind: v for v in Violation.objects.all()}
    overflow = rows["violation_limit"]
    assert overflow.count == 4
    assert overflow.days.get().count == 4
