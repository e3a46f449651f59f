"""Importing a tracking plan: the diff of each mode, one change set, undo, and problems named
by their position in the file."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from catalog.models import ChangeSet, EntityType, ObjectChange, Resource, Tag
from catalog.policy import Visibility, resource_visibility
from catalog.selectors import tracking_plan_of
from catalog.services.plan import plan_check, plan_diff, plan_import
from catalog.services.revert import change_set_revert
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError, PlanProperty
from catalog.tracking_plan.samples import Sample
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    UserFactory,
    acting,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return UserFactory(role="editor", username="erin", email="erin@example.com")


@pytest.fixture
def web():
    return IntegrationFactory(name="Web")


def checkout_plan(**event_fields) -> Plan:
    fields = {
        "description": "A customer paid.",
        "owners": ["erin"],
        "tags": ["revenue"],
        **event_fields,
    }
    return Plan(
        events=[
            PlanEvent(
                name="Order Completed",
                integration="Web",
                category="Checkout",
                position="row 2",
                properties=[
                    PlanProperty(
                        name="currency",
                        type="string",
                        required=True,
                        allowed_values=["EUR", "USD"],
                        position="row 2",
                    ),
                    PlanProperty(name="revenue", type="number", required=True, position="row 3"),
                ],
                **fields,
            )
        ]
    )


def test_a_dry_run_lists_what_an_import_would_create_and_changes_nothing(editor, web):
    diff = plan_diff(ctx=acting(editor), plan=checkout_plan(), mode="add")

    assert diff.as_dict(dry_run=True) == {
        "dry_run": True,
        "created": [
            {"object_type": "tag", "id": None, "title": "revenue"},
            {
                "object_type": "event_category",
                "id": None,
                "integration": "Web",
                "category": "Checkout",
                "position": "row 2",
            },
            {
                "object_type": "event",
                "id": None,
                "integration": "Web",
                "event": "Order Completed",
                "position": "row 2",
            },
            {
                "object_type": "event_property",
                "id": None,
                "integration": "Web",
                "event": "Order Completed",
                "property": "currency",
                "position": "row 2",
            },
            {
                "object_type": "event_property",
                "id": None,
                "integration": "Web",
                "event": "Order Completed",
                "property": "revenue",
                "position": "row 3",
            },
        ],
        "changed": [],
        "deleted": [],
        "notices": [],
    }
    assert not Resource.objects.exists()
    assert not Tag.objects.exists()
    assert not ChangeSet.objects.exists()


def test_an_import_is_one_change_set_that_one_undo_takes_back(editor, web):
    diff = plan_import(ctx=acting(editor), plan=checkout_plan(), mode="add")

    event = Resource.objects.get(entity_type=EntityType.EVENT)
    assert event.title == "Order Completed"
    assert event.parent.title == "Checkout"
    assert event.description == "A customer paid."
    assert [u.username for u in event.owners.all()] == ["erin"]
    assert [t.title for t in event.tags.all()] == ["revenue"]
    assert list(event.subscribers.all()) == [editor]  # owners follow what they own
    currency = event.children.get(title="currency")
    assert (currency.data_type, currency.required, currency.allowed_values) == (
        "string",
        True,
        ["EUR", "USD"],
    )
    assert ChangeSet.objects.count() == 1
    assert diff.change_set == ChangeSet.objects.get()
    assert [e["id"] for e in diff.created] == [
        str(Tag.objects.get().pk),
        str(event.parent.pk),
        str(event.pk),
        str(currency.pk),
        str(event.children.get(title="revenue").pk),
    ]
    actions = sorted(ObjectChange.objects.values_list("object_type", "title", "action").order_by())
    assert actions == [
        ("event", "Order Completed", "create"),
        ("event_category", "Checkout", "create"),
        ("event_property", "currency", "create"),
        ("event_property", "revenue", "create"),
        ("tag", "revenue", "create"),
    ]

    change_set_revert(ctx=acting(editor), change_set=diff.change_set)

    assert not Resource.objects.exists()
    assert not Tag.objects.exists()


def test_importing_what_was_exported_changes_nothing(editor, web):
    plan_import(ctx=acting(editor), plan=checkout_plan(definition="# Paid"), mode="add")
    exported = tracking_plan_of(resource_visibility(editor), web)

    for mode in ("add", "update", "sync"):
        diff = plan_diff(ctx=acting(editor), plan=exported, mode=mode)
        assert not diff, (mode, diff)
    assert not plan_import(ctx=acting(editor), plan=exported, mode="sync")
    assert ChangeSet.objects.count() == 1


def test_update_changes_the_fields_the_file_gives_and_keeps_the_others(editor, web):
    category = EventCategoryFactory(integration=web, title="Checkout")
    event = EventFactory(
        parent=category, title="Order Completed", description="Old.", definition="Kept."
    )
    revenue = EventPropertyFactory(parent=event, title="revenue", data_type="string")
    plan = checkout_plan()
    mail.outbox.clear()

    assert not plan_diff(ctx=acting(editor), plan=plan, mode="add").changed
    diff = plan_import(ctx=acting(editor), plan=plan, mode="update")

    assert diff.changed == [
        {
            "object_type": "event",
            "id": str(event.pk),
            "integration": "Web",
            "event": "Order Completed",
            "position": "row 2",
            "fields": {
                "description": {"old": "Old.", "new": "A customer paid."},
                "owners": {"old": [], "new": ["erin"]},
                "tags": {"old": [], "new": ["revenue"]},
            },
        },
        {
            "object_type": "event_property",
            "id": str(revenue.pk),
            "integration": "Web",
            "event": "Order Completed",
            "property": "revenue",
            "position": "row 3",
            "fields": {
                "type": {"old": "string", "new": "number"},
                "required": {"old": False, "new": True},
            },
        },
    ]
    event.refresh_from_db()
    revenue.refresh_from_db()
    assert (event.description, event.definition) == ("A customer paid.", "Kept.")
    assert (revenue.data_type, revenue.required) == ("number", True)
    assert [c["object_type"] for c in diff.created] == ["tag", "event_property"]


def test_sync_deletes_what_the_file_does_not_have(editor, web):
    category = EventCategoryFactory(integration=web, title="Checkout")
    event = EventFactory(parent=category, title="Order Completed")
    stale = EventPropertyFactory(parent=event, title="coupon")
    gone = EventFactory(parent=category, title="Cart Viewed")
    EventPropertyFactory(parent=gone, title="items")
    other = EventFactory(parent=EventCategoryFactory(title="Other"), title="Kept elsewhere")

    diff = plan_import(ctx=acting(editor), plan=checkout_plan(), mode="sync")

    assert diff.deleted == [
        {
            "object_type": "event_property",
            "id": str(stale.pk),
            "integration": "Web",
            "event": "Order Completed",
            "property": "coupon",
        },
        {
            "object_type": "event",
            "id": str(gone.pk),
            "integration": "Web",
            "event": "Cart Viewed",
            "properties": ["items"],
        },
    ]
    assert set(
        Resource.objects.filter(entity_type=EntityType.EVENT).values_list("title", flat=True)
    ) == {
        "Order Completed",
        other.title,
    }
    change_set_revert(ctx=acting(editor), change_set=diff.change_set)
    assert Resource.objects.filter(pk=gone.pk).exists()
    assert Resource.objects.filter(pk=stale.pk).exists()


def test_problems_name_their_position_and_nothing_is_applied(editor, web):
    plan = checkout_plan(owners=["nobody"])
    plan.events.append(PlanEvent(name="Order Completed", integration="Web", position="row 9"))
    plan.events.append(PlanEvent(name="Signed Up", integration="Mobile", position="row 10"))

    with pytest.raises(PlanFileError) as raised:
        plan_import(ctx=acting(editor), plan=plan, mode="add")

    assert [p.as_dict() for p in raised.value.problems] == [
        {"position": "row 10", "message": "There is no integration named 'Mobile'."}
    ]
    plan.events.pop()
    with pytest.raises(PlanFileError) as raised:
        plan_import(ctx=acting(editor), plan=plan, mode="add")
    assert [p.as_dict() for p in raised.value.problems] == [
        {"position": "row 9", "message": "Event 'Order Completed' is also at row 2: name it once."},
        {"position": "row 2", "message": "No user has the username or email 'nobody'."},
    ]
    assert not Resource.objects.exists()


def test_viewers_may_not_import_even_as_a_dry_run(web):
    viewer = UserFactory(role="viewer")
    with pytest.raises(PermissionDenied):
        plan_diff(ctx=acting(viewer), plan=checkout_plan(), mode="add")


def test_a_check_lists_every_sample_that_breaks_the_plan(editor, web):
    plan_import(ctx=acting(editor), plan=checkout_plan(), mode="add")
    samples = [
        Sample("Order Completed", {"currency": "EUR", "revenue": 12.5}, "/0"),
        Sample("Order Completed", {"currency": "GBP", "revenue": "12"}, "/1"),
        Sample("Order Completed", {"coupon": "X"}, "/2"),
        Sample("Order Refunded", {}, "/3"),
    ]

    breaches = plan_check(visibility=Visibility.EVERYTHING, samples=samples, integration=web)

    assert breaches == [
        {
            "index": 1,
            "position": "/1",
            "event": "Order Completed",
            "errors": [
                "Property 'currency' has a value that is not allowed: 'GBP'",
                "Property 'revenue' must be number, not string.",
            ],
        },
        {
            "index": 2,
            "position": "/2",
            "event": "Order Completed",
            "errors": [
                "Required property 'currency' is missing.",
                "Required property 'revenue' is missing.",
                "Property 'coupon' is not in the plan.",
            ],
        },
        {
            "index": 3,
            "position": "/3",
            "event": "Order Refunded",
            "errors": ["Unknown event 'Order Refunded': the plan doesn't have it."],
        },
    ]
    # Viewers check against what they may read: the unpublished event is unknown to them.
    assert len(plan_check(visibility=Visibility.PUBLISHED, samples=samples[:1])) == 1


@pytest.mark.django_db(transaction=True)
def test_two_identical_imports_at_once_create_once(editor, web):
    """The second waits for the first's lock on the integration, then finds nothing to do
    (without the lock both would create the event, and one would fail on its title)."""
    from django.db import connection, transaction

    from tests.races import in_thread, wait_until_blocked_or_done

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with transaction.atomic():
        first = plan_import(ctx=acting(editor), plan=checkout_plan(), mode="sync")
        thread, outcome = in_thread(
            lambda: plan_import(ctx=acting(editor), plan=checkout_plan(), mode="sync")
        )
        thread.start()
        wait_until_blocked_or_done(thread)
    thread.join()
    [second] = outcome
    assert len(first.created) == 5
    assert not second, second
    assert Resource.objects.filter(entity_type=EntityType.EVENT).count() == 1
    assert ChangeSet.objects.count() == 1


def test_a_queued_import_runs_once_as_its_requester(editor, web):
    from catalog.models import PlanImport
    from catalog.services.plan import plan_import_enqueue, plan_import_run
    from catalog.tracking_plan.formats import write_plan

    data = write_plan("json-schema", checkout_plan())
    job = plan_import_enqueue(ctx=acting(editor), data=data, format="json-schema")
    assert (job.status, job.size, bytes(job.file)) == ("queued", len(data), data)

    done = plan_import_run(job.pk)
    again = plan_import_run(job.pk)

    assert done.status == again.status == "done"
    assert done.progress == {"phase": "done", "events": 1, "properties": 2}
    assert ChangeSet.objects.count() == 1
    assert ChangeSet.objects.get().actor == editor
    assert done.result["change_set"] == str(ChangeSet.objects.get().pk)
    assert bytes(PlanImport.objects.get().file) == b""


def test_a_queued_import_fails_when_its_requester_may_no_longer_edit(editor, web):
    from catalog.services.plan import plan_import_enqueue, plan_import_run
    from catalog.tracking_plan.formats import write_plan

    job = plan_import_enqueue(
        ctx=acting(editor), data=write_plan("json-schema", checkout_plan()), format="json-schema"
    )
    editor.role = "viewer"
    editor.save()

    failed = plan_import_run(job.pk)

    assert failed.status == "failed"
    assert failed.problems[0]["position"] == "file"
    assert not Resource.objects.exists()


def test_update_moves_an_event_to_the_category_the_file_names_add_does_not(editor, web):
    event = EventFactory(
        parent=EventCategoryFactory(integration=web, title="Orders"), title="Order Completed"
    )

    # `add` adds the missing properties, and neither moves the event nor makes its category.
    assert [
        e["object_type"] for e in plan_diff(ctx=acting(editor), plan=checkout_plan()).created
    ] == [
        "tag",
        "event_property",
        "event_property",
    ]
    diff = plan_import(ctx=acting(editor), plan=checkout_plan(), mode="update")

    assert diff.created[1] == {
        "object_type": "event_category",
        "id": str(Resource.objects.get(title="Checkout").pk),
        "integration": "Web",
        "category": "Checkout",
        "position": "row 2",
    }
    assert diff.changed[0]["fields"]["category"] == {"old": "Orders", "new": "Checkout"}
    event.refresh_from_db()
    assert event.parent.title == "Checkout"
    change_set_revert(ctx=acting(editor), change_set=diff.change_set)
    event.refresh_from_db()
    assert event.parent.title == "Orders"
    assert not Resource.objects.filter(title="Checkout").exists()


def test_admins_see_background_imports_in_the_admin_and_others_do_not(editor, web, client):
    from catalog.services.plan import plan_import_enqueue, plan_import_run
    from catalog.tracking_plan.formats import write_plan

    job = plan_import_enqueue(
        ctx=acting(editor), data=write_plan("csv", checkout_plan()), format="csv"
    )
    plan_import_run(job.pk)
    admin = UserFactory(role="admin", is_staff=True)
    client.force_login(admin)

    listed = client.get("/admin/catalog/planimport/").content.decode()
    page = client.get(f"/admin/catalog/planimport/{job.pk}/change/").content.decode()

    assert "erin" in listed and "Done" in listed
    assert "Order Completed" in page  # the diff it applied
    editor.is_staff = True
    editor.save()
    client.force_login(editor)
    assert client.get("/admin/catalog/planimport/").status_code == 403
