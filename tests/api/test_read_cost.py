"""What a read costs: the M2M ids in one query built once per process, and what must not
regress while they are cheap."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.api.serializers import AnyResourceSerializer
from catalog.models import M2M_FIELDS, DailyVolume, Resource, ResourceSeen, UserGroup
from catalog.policy import resources_visible_to
from catalog.selectors import (
    _by_id_query,
    _relation_ids_sql,
    _tracking_sql,
    attach_relation_ids,
    relation_ids_of,
    tracking_of,
    visible_resource,
    with_details,
)
from tests.api.conftest import DETAIL_QUERIES
from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _targets(field: str, n: int) -> list:
    make = {
        "owners": UserFactory,
        "subscribers": UserFactory,
        "owners_groups": lambda: UserGroup.objects.create(name=f"group {uuid.uuid4()}"),
        "teams": TeamFactory,
        "tags": TagFactory,
        "collections": CollectionFactory,
    }[field]
    return [make() for _ in range(n)]


def _expected(resource: Resource) -> dict:
    """The ids as the ORM reads them, sorted as `relation_ids_of` promises."""
    return {
        field: sorted(getattr(resource, field).values_list("pk", flat=True), key=str)
        for field in M2M_FIELDS
    }


# --- relation ids --------------------------------------------------------------------------


def test_a_resource_without_relations_has_empty_lists(django_assert_num_queries):
    event = EventFactory()
    with django_assert_num_queries(1):
        found = relation_ids_of([event.pk])
    assert found == {event.pk: {field: [] for field in M2M_FIELDS}}


def test_no_ids_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert relation_ids_of([]) == {}


@pytest.mark.parametrize("field", M2M_FIELDS)
def test_each_relation_kind_alone(field, django_assert_num_queries):
    related, bare = EventPropertyFactory(), EventPropertyFactory()
    targets = _targets(field, 3)
    getattr(related, field).add(*targets)
    with django_assert_num_queries(1):
        found = relation_ids_of([related.pk, bare.pk])
    assert list(found) == [related.pk, bare.pk]
    assert found[related.pk][field] == sorted((t.pk for t in targets), key=str)
    assert all(found[related.pk][other] == [] for other in M2M_FIELDS if other != field)
    assert found[bare.pk] == {f: [] for f in M2M_FIELDS}
    assert all(isinstance(pk, uuid.UUID) for pk in found[related.pk][field])


def test_every_relation_kind_at_once_matches_the_orm():
    resource = EventFactory()
    for field in M2M_FIELDS:
        getattr(resource, field).add(*_targets(field, 2))
    assert relation_ids_of([resource.pk])[resource.pk] == _expected(resource)


def test_many_ids_in_one_query(django_assert_num_queries):
    category = EventCategoryFactory()
    events = Resource.objects.bulk_create(
        EventFactory.build(parent=category, integration=category.integration, title=f"e{n}")
        for n in range(500)
    )
    tag, owner = TagFactory(), UserFactory()
    tagged = events[::7]
    Resource.tags.through.objects.bulk_create(
        Resource.tags.through(resource_id=event.pk, tag_id=tag.pk) for event in tagged
    )
    Resource.owners.through.objects.bulk_create(
        Resource.owners.through(resource_id=event.pk, user_id=owner.pk) for event in events[-3:]
    )
    unknown = uuid.uuid4()
    pks = [event.pk for event in events] + [unknown]
    with django_assert_num_queries(1):
        found = relation_ids_of(pks)
    assert list(found) == pks
    tagged_pks = {event.pk for event in tagged}
    for event in events:
        assert found[event.pk]["tags"] == ([tag.pk] if event.pk in tagged_pks else [])
    assert [found[event.pk]["owners"] for event in events[-3:]] == [[owner.pk]] * 3
    assert found[unknown] == {field: [] for field in M2M_FIELDS}


def test_repeated_and_string_ids():
    event = EventFactory()
    event.tags.add(tag := TagFactory())
    found = relation_ids_of([event.pk, event.pk, event.pk])
    assert list(found) == [event.pk] and found[event.pk]["tags"] == [tag.pk]
    # Ids as text are accepted (the answer is keyed by what was given).
    assert relation_ids_of([str(event.pk)])[str(event.pk)]["tags"] == [tag.pk]


def test_attach_relation_ids_gives_every_resource_its_dict():
    first, second = EventFactory(), EventFactory()
    first.teams.add(team := TeamFactory())
    attach_relation_ids([first, second])
    assert first.relation_ids["teams"] == [team.pk]
    assert second.relation_ids == {field: [] for field in M2M_FIELDS}


def test_the_sql_is_built_once():
    _relation_ids_sql.cache_clear()
    for _ in range(3):
        relation_ids_of([EventFactory().pk])
    info = _relation_ids_sql.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    sql = _relation_ids_sql(connection.vendor)
    assert sql.count("UNION ALL") == len(M2M_FIELDS) - 1
    assert sql.count("%(ids)s") == len(M2M_FIELDS)  # the one parameter, named


def test_the_tracking_sql_is_built_once_and_reads_ids_as_text():
    _tracking_sql.cache_clear()
    events = [EventFactory() for _ in range(3)]
    ResourceSeen.objects.create(
        resource=events[0], first_seen_at=timezone.now(), last_seen_at=timezone.now()
    )
    for event in events:
        tracking_of([event.pk])
    info = _tracking_sql.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert tracking_of([str(events[0].pk)])[str(events[0].pk)].first_seen_at is not None


# --- a page with its details in one query (PostgreSQL) -------------------------------------

on_postgresql = connection.vendor == "postgresql"


def _catalog_with_everything() -> list[Resource]:
    """A category, an event with every relation kind and some tracking, and a bare
    property of it: what a page can hold."""
    event = EventFactory()
    for field in M2M_FIELDS:
        getattr(event, field).add(*_targets(field, 2))
    prop = EventPropertyFactory(parent=event, integration=event.integration)
    today = timezone.now().date()
    ResourceSeen.objects.create(
        resource=event, first_seen_at=timezone.now(), last_seen_at=timezone.now()
    )
    DailyVolume.objects.bulk_create(
        DailyVolume(resource=event, day=today - dt.timedelta(days=ago), count=count)
        for ago, count in [(0, 3), (6, 4), (7, 50), (29, 600), (30, 7000)]
    )
    return [event.parent, event, prop]


def test_with_details_reads_what_the_separate_queries_read(django_assert_num_queries):
    resources = _catalog_with_everything()
    pks = [resource.pk for resource in resources]
    plain = Resource.objects.filter(pk__in=pks).order_by("entity_type")
    expected = AnyResourceSerializer(plain, many=True).data
    event = next(row for row in expected if row["entity_type"] == "event")
    assert (event["volume_7d"], event["volume_30d"]) == (7, 657)
    assert all(len(event[field]) == 2 for field in M2M_FIELDS)
    with django_assert_num_queries(1 + DETAIL_QUERIES):
        found = AnyResourceSerializer(with_details(plain.all()), many=True).data
    assert found == expected
    with django_assert_num_queries(1 + DETAIL_QUERIES):  # one row, as a detail reads
        one = AnyResourceSerializer(with_details(plain).get(pk=event["id"])).data
    assert one == event


@pytest.mark.skipif(not on_postgresql, reason="with_details annotates on PostgreSQL only")
def test_the_count_of_a_list_leaves_the_details_out(as_editor):
    category = EventCategoryFactory()
    for n in range(3):
        EventFactory(parent=category, integration=category.integration, title=f"e{n}")
    as_editor.get("/api/v1/event/events")  # the key's first use writes last_used_at once
    with CaptureQueriesContext(connection) as queries:
        body = as_editor.get("/api/v1/event/events", {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (3, 2)
    statements = [query["sql"] for query in queries]
    page = next(sql for sql in statements if "ARRAY(SELECT" in sql)
    assert "LIMIT 2" in page
    count = next(sql for sql in statements if sql.startswith("SELECT COUNT(*)"))
    assert "ARRAY(" not in count and "SUM(" not in count


def test_a_later_page_chooses_its_ids_first(as_editor):
    category = EventCategoryFactory()
    for n in range(12):
        event = EventFactory(parent=category, integration=category.integration, title=f"e{n:02}")
        event.tags.add(TagFactory())
    as_editor.get("/api/v1/event/events")  # the key's first use writes last_used_at once
    with CaptureQueriesContext(connection) as queries:
        body = as_editor.get("/api/v1/event/events", {"page_size": 5, "page": 2}).json()
    assert [row["title"] for row in body["results"]] == [f"e{n:02}" for n in range(5, 10)]
    assert all(len(row["tags"]) == 1 for row in body["results"])
    page = next(query["sql"] for query in queries if "LIMIT 5 OFFSET 5" in query["sql"])
    # The subquery picks the 5 ids; the details are read for those rows only.
    inner = page[page.index("IN (SELECT") :]
    assert "ARRAY(" not in inner[: inner.index("LIMIT 5")]


def test_a_patch_answers_what_it_wrote_not_what_the_read_had(as_editor):
    event = EventFactory()
    event.tags.add(old := TagFactory())
    url = f"/api/v1/event/events/{event.pk}"
    assert as_editor.get(url).json()["tags"] == [str(old.pk)]
    new = TagFactory()
    response = as_editor.patch(url, {"tags": [str(new.pk)]}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == [str(new.pk)]
    assert as_editor.get(url).json()["tags"] == [str(new.pk)]


# --- a detail request ----------------------------------------------------------------------


def test_an_event_by_id_costs_two_queries_and_ignores_the_list_filters(
    as_editor, django_assert_num_queries
):
    event, other = EventFactory(), EventFactory()
    as_editor.get(f"/api/v1/event/events/{event.pk}")  # the key's last use is written once
    # Key and user, then the row with its relation ids and tracking (on SQLite: a query
    # each); a list filter that would leave the row out does not make a detail a 404 (the
    # id names the row).
    with django_assert_num_queries(2 + DETAIL_QUERIES):
        response = as_editor.get(
            f"/api/v1/event/events/{event.pk}", {"integration_id": str(other.integration_id)}
        )
    assert response.status_code == 200
    assert response.json()["id"] == str(event.pk)


# --- one resource by id, compiled once -----------------------------------------------------


def _fields(resource: Resource) -> dict:
    return {name: value for name, value in vars(resource).items() if name != "_state"}


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_visible_resource_finds_what_the_queryset_finds(role, request):
    user = request.getfixturevalue(role)
    for resource in _catalog_with_everything():
        for kind in (None, resource.entity_type):
            expected = with_details(resources_visible_to(user, kind)).get(pk=resource.pk)
            found = visible_resource(user, resource.pk, kind)
            assert _fields(found) == _fields(expected)
            assert AnyResourceSerializer(found).data == AnyResourceSerializer(expected).data


def test_visible_resource_is_none_where_the_reader_may_not_look(editor, viewer):
    category = EventCategoryFactory(published=False)
    hidden = EventFactory(parent=category, integration=category.integration)  # published
    shown = EventFactory()
    assert visible_resource(viewer, hidden.pk, "event") is None  # its category is a draft
    assert visible_resource(editor, hidden.pk, "event") is not None
    assert visible_resource(viewer, shown.pk, "event_property") is None  # another kind
    assert visible_resource(viewer, uuid.uuid4()) is None
    assert visible_resource(None, shown.pk) is None
    viewer.is_active = False
    assert visible_resource(viewer, shown.pk) is None


def test_visible_resource_is_compiled_once_a_visibility_kind_and_day(editor, viewer):
    _by_id_query.cache_clear()
    first, second = EventFactory(), EventFactory()
    day = dt.date(2026, 3, 1)
    assert visible_resource(editor, first.pk, "event", today=day).pk == first.pk
    assert visible_resource(UserFactory(role=editor.role), second.pk, "event", today=day).pk == (
        second.pk
    )
    info = _by_id_query.cache_info()
    assert (info.misses, info.hits) == (1, 1)  # another editor, another id: the same SQL
    visible_resource(viewer, first.pk, "event", today=day)
    visible_resource(editor, first.pk, "event_property", today=day)
    visible_resource(editor, first.pk, "event", today=day + dt.timedelta(days=1))
    assert _by_id_query.cache_info().misses == 4


@pytest.mark.skipif(not on_postgresql, reason="with_details annotates on PostgreSQL only")
def test_visible_resource_counts_volumes_from_the_day_it_is_given(editor):
    event = EventFactory()
    day = dt.date(2026, 3, 10)
    DailyVolume.objects.bulk_create(
        DailyVolume(resource=event, day=day - dt.timedelta(days=ago), count=count)
        for ago, count in [(0, 1), (6, 20), (7, 300), (29, 4000)]
    )

    def volumes(today):
        data = AnyResourceSerializer(visible_resource(editor, event.pk, today=today)).data
        return data["volume_7d"], data["volume_30d"]

    assert volumes(day) == (21, 4321)
    assert volumes(day + dt.timedelta(days=7)) == (0, 321)  # 4,000 fell out of the 30 days


def test_the_generic_detail_route_reads_through_visible_resource(
    as_editor, editor, django_assert_num_queries
):
    event = _catalog_with_everything()[1]
    url = f"/api/v1/resource/all/{event.pk}"
    as_editor.get(url)  # the key's last use is written once
    expected = AnyResourceSerializer(visible_resource(editor, event.pk)).data
    # Key and user, the row with its details, its custom values (on SQLite: the details in
    # two more queries).
    with django_assert_num_queries(3 + DETAIL_QUERIES):
        body = as_editor.get(url).json()
    assert body == {**expected, "custom_properties": body["custom_properties"]}
    assert (body["volume_7d"], body["volume_30d"]) == (7, 657)
    assert as_editor.head(url).status_code == 200
    assert as_editor.head(f"/api/v1/event/events/{event.pk}").status_code == 200
    assert as_editor.head(f"/api/v1/event/events/{uuid.uuid4()}").status_code == 404
