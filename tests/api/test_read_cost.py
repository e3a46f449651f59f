"""What a read costs: the M2M ids in one query built once per process, and what must not
regress while they are cheap."""

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import M2M_FIELDS, Resource, ResourceSeen, UserGroup
from catalog.selectors import (
    _relation_ids_sql,
    _tracking_sql,
    attach_relation_ids,
    relation_ids_of,
    tracking_of,
)
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


# --- a detail request ----------------------------------------------------------------------


def test_an_event_by_id_costs_four_queries_and_ignores_the_list_filters(
    as_editor, django_assert_num_queries
):
    event, other = EventFactory(), EventFactory()
    as_editor.get(f"/api/v1/event/events/{event.pk}")  # the key's last use is written once
    # Key and user, the row, its relation ids, its tracking; a list filter that would leave
    # the row out does not make a detail a 404 (the id names the row).
    with django_assert_num_queries(4):
        response = as_editor.get(
            f"/api/v1/event/events/{event.pk}", {"integration_id": str(other.integration_id)}
        )
    assert response.status_code == 200
    assert response.json()["id"] == str(event.pk)
