"""/api/v1/plan/...: the tracking plan exported, imported (dry run, modes, undo), as code,
and checked, as tooling and CI jobs use it."""

import json

import pytest
from django.test import override_settings

from catalog.models import ChangeSet, EntityType, PlanImport, Resource
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

FORMATS = ("csv", "json-schema", "segment", "rudderstack")


@pytest.fixture
def web(editor):
    """A published plan of one integration, with a draft event viewers don't see."""
    web = IntegrationFactory(name="Web")
    checkout = EventCategoryFactory(integration=web, title="Checkout", published=True)
    order = EventFactory(
        parent=checkout,
        title="Order Completed",
        description="A customer paid.",
        definition="Sent once the payment **succeeded**.",
        published=True,
        verified=True,
    )
    order.owners.set([editor])
    order.tags.set([TagFactory(title="revenue")])
    EventPropertyFactory(
        parent=order,
        title="currency",
        data_type="string",
        required=True,
        allowed_values=["EUR", "USD"],
        description="ISO 4217 code.",
        published=True,
    )
    EventPropertyFactory(parent=order, title="email", data_type="string", pii=True, published=True)
    EventPropertyFactory(parent=order, title="revenue", data_type="number", published=True)
    EventFactory(parent=checkout, title="Coupon Tested", published=False)
    return web


def export(client, fmt, integration="Web") -> bytes:
    response = client.get("/api/v1/plan/export", {"format": fmt, "integration": integration})
    assert response.status_code == 200, response.content
    return response.content


def import_(client, fmt, body: bytes, **params):
    query = "&".join(f"{k}={v}" for k, v in {"format": fmt, **params}.items())
    return client.post(
        f"/api/v1/plan/import?{query}", data=body, content_type="application/octet-stream"
    )


def test_an_export_is_a_file_to_download(as_editor, web):
    response = as_editor.get(
        "/api/v1/plan/export", {"format": "csv", "integration": "Web"}, HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="tracking-plan-web.csv"'
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].lower().startswith("integration,category,event,event description,property")
    assert len(lines) == 1 + 3 + 1  # the header, three properties, an event without any
    assert any("Coupon Tested" in line for line in lines)


def test_viewers_export_only_what_they_see(as_viewer, web):
    text = export(as_viewer, "csv").decode()

    assert "Order Completed" in text
    assert "Coupon Tested" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_importing_an_export_changes_nothing(as_editor, web, fmt):
    body = export(as_editor, fmt)
    change_sets = ChangeSet.objects.count()

    response = import_(as_editor, fmt, body, integration="Web", mode="sync")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "dry_run": False,
        "created": [],
        "changed": [],
        "deleted": [],
        "notices": [],
        "change_set": None,
    }
    assert ChangeSet.objects.count() == change_sets


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_plan_exported_and_imported_into_an_empty_catalog_exports_the_same(as_editor, web, fmt):
    body = export(as_editor, fmt)
    Resource.objects.all().delete()

    response = import_(as_editor, fmt, body, integration="Web", mode="add")

    assert response.status_code == 200, response.content
    assert {c["object_type"] for c in response.json()["created"]} == {
        "event_category",
        "event",
        "event_property",
    }
    assert export(as_editor, fmt) == body


def test_a_dry_run_answers_the_diff_and_changes_nothing(as_editor, web):
    body = export(as_editor, "csv").decode("utf-8-sig").replace("A customer paid.", "Paid in full.")

    response = import_(as_editor, "csv", body.encode(), mode="update", dry_run="true")

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["dry_run"] is True
    assert "change_set" not in answer
    [changed] = answer["changed"]
    assert changed["event"] == "Order Completed"
    assert changed["fields"] == {"description": {"old": "A customer paid.", "new": "Paid in full."}}
    assert changed["position"] == "row 3"  # "Coupon Tested" comes first
    assert Resource.objects.get(title="Order Completed").description == "A customer paid."


def test_an_import_is_undone_in_one_step(as_editor, web):
    body = export(as_editor, "csv").decode("utf-8-sig")
    body += "Web,Checkout,Cart Viewed,Someone looked,items,integer,true,,false,How many,,\n"

    answer = import_(as_editor, "csv", body.encode(), mode="add").json()

    assert [(c["object_type"], c.get("event"), c.get("property")) for c in answer["created"]] == [
        ("event", "Cart Viewed", None),
        ("event_property", "Cart Viewed", "items"),
    ]
    items = Resource.objects.get(title="items")
    assert (items.data_type, items.required, items.description) == ("integer", True, "How many")
    undo = as_editor.post(f"/api/v1/changes/{answer['change_set']}/revert", {}, format="json")
    assert undo.status_code == 201, undo.content
    assert not Resource.objects.filter(title__in=["Cart Viewed", "items"]).exists()


def test_a_multipart_upload_works_like_a_body(as_editor, web):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = export(as_editor, "json-schema")
    upload = SimpleUploadedFile("plan.json", body, content_type="application/json")

    response = as_editor.post(
        "/api/v1/plan/import?format=json-schema&dry_run=true", {"file": upload}, format="multipart"
    )

    assert response.status_code == 200, response.content
    assert response.json()["created"] == []


def test_problems_in_a_file_are_listed_with_their_positions(as_editor, web):
    body = export(as_editor, "csv").decode("utf-8-sig")
    body += "Mobile,Checkout,Opened,,,,,,,,,\nWeb,Checkout,Cart Viewed,,items,colour,,,,,,\n"

    response = import_(as_editor, "csv", body.encode())

    assert response.status_code == 400
    answer = response.json()
    assert answer["detail"] == "The file can't be imported; nothing was changed."
    positions = [p["position"] for p in answer["problems"]]
    assert "row 7" in positions
    assert all(isinstance(p["message"], str) and p["message"] for p in answer["problems"])
    assert not Resource.objects.filter(title="Cart Viewed").exists()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xlsx", "format"),
        ("format=csv&mode=replace", "mode"),
        ("format=csv&dry_run=maybe", "dry_run"),
        ("format=csv&integration=Nowhere", "integration"),
        ("format=csv&integration=%00", "integration"),
        ("format=csv&integration=" + "x" * 300, "integration"),
        ("", "format"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(as_editor, web, query, field):
    response = as_editor.post(f"/api/v1/plan/import?{query}", data=b"", content_type="text/csv")

    assert response.status_code == 400
    assert field in response.json()


def test_viewers_may_not_import(as_viewer, web):
    response = import_(as_viewer, "csv", export(as_viewer, "csv"), dry_run="true")

    assert response.status_code == 403


@override_settings(PLAN_IMPORT_MAX_BYTES=100)
def test_a_file_over_the_limit_is_a_413(as_editor, web):
    response = import_(as_editor, "csv", b"x" * 101)

    assert response.status_code == 413
    assert response.json() == {"detail": "The file is too large (101 bytes): at most 100 bytes."}


@pytest.mark.parametrize("language", ["typescript", "python"])
def test_codegen_answers_a_typed_function_per_event(as_viewer, web, language):
    response = as_viewer.get("/api/v1/plan/codegen", {"language": language})

    assert response.status_code == 200
    code = response.content.decode()
    assert ("orderCompleted" if language == "typescript" else "order_completed") in code
    assert "Coupon" not in code  # a draft: viewers don't see it


def test_a_check_says_which_samples_break_the_plan(as_viewer, web):
    samples = [
        {"event": "Order Completed", "properties": {"currency": "EUR", "revenue": 3}},
        {"event": "Order Completed", "properties": {"currency": "GBP"}},
    ]

    response = as_viewer.post(
        "/api/v1/plan/check?integration=Web",
        data=json.dumps(samples),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "checked": 2,
        "breaches": [
            {
                "index": 1,
                "position": "/1",
                "event": "Order Completed",
                "errors": ["Property 'currency' has a value that is not allowed: 'GBP'"],
            }
        ],
    }


def test_an_export_costs_the_same_queries_however_large(
    as_editor, web, django_assert_max_num_queries
):
    category = Resource.objects.get(entity_type=EntityType.EVENT_CATEGORY)
    for n in range(30):
        event = EventFactory(parent=category, title=f"Event {n}")
        EventPropertyFactory(parent=event, title="p")
    with django_assert_max_num_queries(12):
        export(as_editor, "json-schema")


@pytest.mark.parametrize(
    ("fmt", "vendor"), [("segment", "Segment"), ("rudderstack", "RudderStack")]
)
def test_a_vendor_plan_holds_one_integration(as_editor, web, fmt, vendor):
    EventFactory(parent=EventCategoryFactory(integration=IntegrationFactory(name="iOS")))

    response = as_editor.get("/api/v1/plan/export", {"format": fmt})

    assert response.status_code == 400
    assert response.json() == {
        "integration": [
            f"A {vendor} file holds the plan of one integration, and these events are of 2 "
            "('Web', 'iOS'): export one integration at a time."
        ]
    }
    body = export(as_editor, fmt, integration="iOS")
    answer = import_(as_editor, fmt, body, dry_run="true")
    assert answer.status_code == 400
    [problem] = answer.json()["problems"]
    assert problem["message"] == (
        "The file doesn't name the integration of its 1 event (the first is here): give "
        "the integration to import into with `integration`."
    )


UGLY_FILES = [
    ("csv", b"\xff\xfe\x00garbage"),
    ("csv", b"integration,category,event\nWeb,Checkout,Order\x00Completed\n"),
    ("csv", b"\xef\xbb\xbf"),
    ("json-schema", b"[" * 10_000 + b"]" * 10_000),
    ("json-schema", b'[{"title": "A", "properties": {"n": {"type": "number", "enum": [1e999]}}}]'),
    ("json-schema", b'{"title": "' + b"x" * 300 + b'"}'),
    ("segment", b'{"rules": [{"type": "TRACK", "key": 1, "version": "x"}]}'),
    ("segment", b'{"rules": "' + b"9" * 5000 + b'"}'),
    ("rudderstack", b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"),
    ("rudderstack", b"- " * 5000 + b"x"),
    ("rudderstack", b"\t\x00"),
]


@pytest.mark.parametrize(("fmt", "body"), UGLY_FILES)
def test_an_ugly_file_is_a_400_with_positions_never_a_500(as_editor, web, fmt, body):
    response = import_(as_editor, fmt, body, integration="Web", dry_run="true")

    assert response.status_code == 400, response.content
    problems = response.json()["problems"]
    assert problems
    assert all(p["position"] and p["message"] for p in problems)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",
        b"[" * 5000,
        b'{"samples": 3}',
        b'[{"event": 1}]',
        b"[1e999]",
        b'[{"event": "\\u0000"}]',
    ],
)
def test_ugly_samples_are_a_400(as_viewer, web, body):
    response = as_viewer.post("/api/v1/plan/check", data=body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["problems"][0]["message"]


def test_a_large_file_is_imported_in_the_background(
    as_editor, as_admin, as_viewer, web, settings, django_capture_on_commit_callbacks
):
    settings.PLAN_IMPORT_SYNC_MAX_BYTES = 10
    body = export(as_editor, "csv").decode("utf-8-sig")
    body += "Web,Checkout,Cart Viewed,Someone looked,items,integer,true,,false,How many,,\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = import_(as_editor, "csv", body.encode(), mode="add")

    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["status"] == "queued"
    assert response["Location"] == queued["url"] == f"/api/v1/plan/imports/{queued['id']}"
    assert queued["size"] == len(body.encode())
    followed = as_editor.get(queued["url"]).json()  # the task ran on commit (tests' backend)
    assert followed["status"] == "done"
    assert queued["progress"] == {}
    assert followed["progress"] == {"phase": "done", "events": 3, "properties": 4}
    assert followed["problems"] == []
    assert [c.get("event") for c in followed["result"]["created"]] == ["Cart Viewed", "Cart Viewed"]
    change_set = ChangeSet.objects.get(pk=followed["result"]["change_set"])
    assert change_set.actor.username == "editor"
    assert Resource.objects.filter(title="items").exists()
    assert PlanImport.objects.get().file == b""  # the file isn't kept once imported
    # Admins follow everyone's imports; others only their own.
    assert as_admin.get(queued["url"]).status_code == 200
    assert as_viewer.get(queued["url"]).status_code == 404


def test_a_background_import_with_problems_fails_listing_them(
    as_editor, web, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = import_(
            as_editor, "csv", export(as_editor, "csv") + b"Mobile,C,E,,,,,,,,,\n", background="true"
        )

    assert response.status_code == 202
    followed = as_editor.get(response.json()["url"]).json()
    assert followed["status"] == "failed"
    assert followed["progress"]["phase"] == "failed"
    assert followed["result"] is None
    assert followed["problems"] == [
        {"position": "row 6", "message": "There is no integration named 'Mobile'."}
    ]


def test_names_in_a_file_are_the_catalogs_however_spelt(as_editor, editor, web):
    """A tag with stray spaces is the existing tag, an owner given by email is that user:
    the dry run and the import agree, and a second import has nothing left to do."""
    editor.email = "editor@example.com"
    editor.save()
    schema = json.loads(export(as_editor, "json-schema"))
    order = next(s for s in schema if s["title"] == "Order Completed")
    order["x-tags"] = [" revenue ", "checkout"]
    order["x-owners"] = ["editor@example.com"]
    body = json.dumps(schema).encode()

    dry = import_(as_editor, "json-schema", body, mode="update", dry_run="true").json()
    real = import_(as_editor, "json-schema", body, mode="update").json()

    assert dry["created"] == [{"object_type": "tag", "id": None, "title": "checkout"}]
    [changed] = dry["changed"]
    assert changed["fields"] == {"tags": {"old": ["revenue"], "new": ["checkout", "revenue"]}}
    assert [c["fields"] for c in real["changed"]] == [changed["fields"]]
    assert real["change_set"]
    again = import_(as_editor, "json-schema", body, mode="update").json()
    assert (again["created"], again["changed"], again["change_set"]) == ([], [], None)


def test_one_name_in_two_categories_is_the_oldest_event(as_editor, web):
    """The catalog may hold a name in two categories of one integration; a file names the
    event once. Exports carry the oldest (the one ingestion counts), imports match it, sync
    keeps the younger, and a move onto the younger's category is refused, dry run or not."""
    checkout = Resource.objects.get(title="Checkout")
    older = Resource.objects.get(title="Order Completed")
    younger = EventFactory(
        parent=EventCategoryFactory(integration=web, title="Legacy", published=True),
        title="Order Completed",
        published=True,
    )
    body = export(as_editor, "csv")
    assert body.decode("utf-8-sig").count("Order Completed") == 3  # the older's three rows

    synced = import_(as_editor, "csv", body, mode="sync").json()
    assert (synced["deleted"], synced["change_set"]) == ([], None)
    assert Resource.objects.filter(pk=younger.pk).exists()

    moved = body.decode("utf-8-sig").replace(
        "Web,Checkout,Order Completed", "Web,Legacy,Order Completed"
    )
    for dry_run in ("true", "false"):
        response = import_(as_editor, "csv", moved.encode(), mode="update", dry_run=dry_run)
        assert response.status_code == 400, response.content
        assert response.json()["problems"][0]["message"] == (
            "Category 'Legacy' already has another event 'Order Completed': rename or delete "
            "one of them before moving this one there."
        )
    older.refresh_from_db()
    assert older.parent_id == checkout.pk


def test_a_multipart_body_without_a_boundary_is_a_json_400(as_editor, web):
    response = as_editor.post(
        "/api/v1/plan/import?format=csv", data=b"x", content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The multipart body can't be read")


def test_a_multipart_body_without_a_file_says_so(as_editor, web):
    response = as_editor.post("/api/v1/plan/import?format=csv", {"other": "x"}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"file": ["Send the plan as the multipart field `file`."]}


def test_a_large_dry_run_compares_in_the_background_and_changes_nothing(
    as_editor, web, settings, django_capture_on_commit_callbacks
):
    settings.PLAN_IMPORT_SYNC_MAX_BYTES = 10
    body = export(as_editor, "csv") + b"Web,Checkout,Cart Viewed,,,,,,,,,\r\n"
    change_sets = ChangeSet.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = import_(as_editor, "csv", body, dry_run="true")

    assert response.status_code == 202
    assert response.json()["dry_run"] is True
    followed = as_editor.get(response.json()["url"]).json()
    assert followed["status"] == "done"
    assert followed["result"]["dry_run"] is True
    assert followed["result"].get("change_set") is None
    assert [c["event"] for c in followed["result"]["created"]] == ["Cart Viewed"]
    assert not Resource.objects.filter(title="Cart Viewed").exists()
    assert ChangeSet.objects.count() == change_sets


def test_samples_past_the_synchronous_limit_are_a_413(as_viewer, web, settings):
    settings.PLAN_IMPORT_SYNC_MAX_BYTES = 50
    samples = json.dumps([{"event": "Order Completed", "properties": {"x": "y" * 60}}])

    response = as_viewer.post("/api/v1/plan/check", data=samples, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["detail"].endswith("at most 50 bytes.")
