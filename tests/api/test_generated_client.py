"""A Python client generated from the served schema works unchanged against a live server.

`openapi-python-client` generates a package from `/api/schema/` as a client's author would;
the walk then goes through its endpoint modules only, and every answer must parse into its
generated models. The server is a real thread, so the data is committed: `transactional_db`.
"""

import importlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from catalog.models import Role
from catalog.services.keys import api_key_create
from tests.factories import SYSTEM, IntegrationFactory, UserFactory

PACKAGE = "event_catalog_client"


@pytest.fixture(scope="module")
def generated(live_server, tmp_path_factory, django_db_setup, django_db_blocker):
    """The client package generated from the schema the live server serves, imported.

    Yields a function that imports one of its modules by its dotted name within the package.
    Generated once for the module; serving the schema may read the database (the request's
    middleware), so it is let through for that request only.
    """
    root = tmp_path_factory.mktemp("generated_client")
    request = urllib.request.Request(
        f"{live_server.url}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    with django_db_blocker.unblock(), urllib.request.urlopen(request, timeout=30) as response:
        schema = json.load(response)
    (root / "schema.json").write_text(json.dumps(schema))
    # No post hooks: formatting the output isn't needed to import it.
    (root / "config.yaml").write_text("post_hooks: []\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(root / "schema.json"),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(root / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # A warning means a model or an endpoint was skipped: the schema needs fixing.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr

    sys.path.insert(0, str(root))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def api(generated, live_server, transactional_db):
    """The generated client, authenticated with an editor's API key."""
    editor = UserFactory(username="generated", role=Role.EDITOR)
    _, secret = api_key_create(ctx=SYSTEM, user=editor)
    client = generated("client").AuthenticatedClient(
        base_url=live_server.url, token=secret, raise_on_unexpected_status=True
    )
    with client as opened:
        yield opened


def test_every_endpoint_module_imports(generated):
    """Each route's module imports: the failure the issue saw (`Unset` undefined) was here."""
    api_package = generated("api")
    root = api_package.__path__[0]
    names = sorted(
        f"api.{tag.name}.{module.stem}"
        for tag in Path(root).iterdir()
        if tag.is_dir() and not tag.name.startswith("__")
        for module in tag.glob("v1_*.py")
    )
    assert len(names) > 50
    for name in names:
        generated(name)


def test_a_walk_through_the_generated_client(generated, api):
    models = generated("models")
    events = "api.events."
    integration = IntegrationFactory(name="Web")

    # Create: a category, then an event in it.
    created = generated(events + "v1_event_category_create").sync_detailed(
        client=api,
        body=models.EventCategoryRequest(integration=integration.pk, title="Checkout"),
    )
    assert created.status_code == 201
    category = created.parsed
    assert isinstance(category, models.EventCategory)
    assert category.title == "Checkout" and category.integration == integration.pk

    created = generated(events + "v1_event_events_create").sync_detailed(
        client=api,
        body=models.EventRequest(
            parent=category.id, title="Order Completed", description="Paid and confirmed."
        ),
    )
    assert created.status_code == 201
    event = created.parsed
    assert isinstance(event, models.Event)
    assert event.parent == category.id
    assert event.integration == integration.pk  # taken from the category

    # Read.
    read = generated(events + "v1_event_events_retrieve").sync(id=event.id, client=api)
    assert isinstance(read, models.Event)
    assert (read.id, read.title, read.description) == (
        event.id,
        "Order Completed",
        "Paid and confirmed.",
    )

    # Patch.
    patched = generated(events + "v1_event_events_partial_update").sync(
        id=event.id,
        client=api,
        body=models.PatchedEventRequest(description="Paid, confirmed and shipped.", pii=True),
    )
    assert isinstance(patched, models.Event)
    assert patched.description == "Paid, confirmed and shipped." and patched.pii is True

    # List with a filter: the category's events, and a title that matches none.
    listing = generated(events + "v1_event_events_list")
    page = listing.sync(client=api, parent_id=category.id)
    assert isinstance(page, models.PaginatedEventList)
    assert page.count == 1
    assert [(e.id, e.title) for e in page.results] == [(event.id, "Order Completed")]
    assert listing.sync(client=api, title="Nothing like it").results == []

    # History: newest first, with each changed field's [old, new].
    history = generated(events + "v1_event_events_history_list").sync(id=event.id, client=api)
    assert isinstance(history, models.PaginatedObjectChangeList)
    update, create = history.results
    assert all(isinstance(change, models.ObjectChange) for change in history.results)
    assert (update.action, create.action) == (models.ActionEnum.UPDATE, models.ActionEnum.CREATE)
    assert update.resource == event.id and update.actor.name
    assert update.diff.to_dict()["description"] == [
        "Paid and confirmed.",
        "Paid, confirmed and shipped.",
    ]
    assert update.diff.to_dict()["pii"] == [False, True]

    # Resource query, with its filter in a JSON body.
    found = generated("api.resources.v1_resource_catalog_query_create").sync(
        client=api,
        body=models.ResourceQueryRequest.from_dict(
            {"filter": {"operator": "contains", "field": "title", "value": "Order"}}
        ),
    )
    assert isinstance(found, models.PaginatedAnyResourceList)
    assert [(r.id, r.entity_type) for r in found.results] == [
        (event.id, models.EntityTypeEnum.EVENT)
    ]

    # Delete; the event is gone.
    deleted = generated(events + "v1_event_events_destroy").sync(id=event.id, client=api)
    assert isinstance(deleted, models.Deleted)
    assert deleted.id == event.id and deleted.deleted is True
    gone = generated(events + "v1_event_events_retrieve").sync_detailed(id=event.id, client=api)
    assert gone.status_code == 404
    assert isinstance(gone.parsed, models.Error)


def test_a_tracker_sends_a_batch_through_the_generated_client(
    generated, live_server, transactional_db
):
    """The ingestion endpoints are in the schema too: a Segment batch, its key as the Basic
    user name (the scheme the schema names), parses into the generated answer."""
    import base64

    from catalog.models import Event
    from catalog.services.writekeys import write_key_create

    models = generated("models")
    integration = IntegrationFactory(name="Web")
    _, write_key = write_key_create(ctx=SYSTEM, integration=integration, name="generated")
    basic = base64.b64encode(f"{write_key}:".encode()).decode()
    tracker = generated("client").AuthenticatedClient(
        base_url=live_server.url, token=basic, prefix="Basic", raise_on_unexpected_status=True
    )
    track = models.SegmentTrack.from_dict(
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "usr_1",
            "properties": {"revenue": 12.5},
        }
    )
    with tracker as opened:
        answer = generated("api.ingestion.ingest_segment_batch").sync_detailed(
            client=opened, body=models.SegmentBatch(batch=[track])
        )
    assert answer.status_code == 200
    assert isinstance(answer.parsed, models.SegmentAccepted)
    assert answer.parsed.success is True
    event = Event.objects.get(title="Order Completed", integration=integration)
    assert list(event.children.values_list("title", flat=True)) == ["revenue"]
