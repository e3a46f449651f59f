"""Full-text search (catalog.search): what matches, in which order, for whom, and that the index
follows every write path. The same tests run on SQLite (FTS5) and PostgreSQL (tsvector)."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count

from catalog import search
from catalog.models import EntityType, Event, EventProperty, Resource
from catalog.search import (
    FTS_KEY_TABLE,
    FTS_TABLE,
    MAX_TERMS,
    normalize_query,
    search_resources,
    search_terms,
)
from catalog.services.context import ChangeContext
from catalog.services.resources import resource_create, resource_delete, resource_update
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def titles(user, text, **kwargs) -> list[str]:
    return [r.title for r in search_resources(user, text, **kwargs)]


def acting(user) -> ChangeContext:
    return ChangeContext(source="command", user=user)


@pytest.fixture
def catalog(db):
    """A small catalog: a category, events with descriptions and definitions, properties."""
    checkout = EventCategoryFactory(title="Checkout", description="Buying things.")
    order = EventFactory(
        parent=checkout,
        title="Order Completed",
        description="Sent when the payment went through.",
        definition="## Order Completed\n\nThe **revenue** is in `revenue`.",
    )
    EventPropertyFactory(parent=order, title="revenue", description="Total in cents.")
    EventPropertyFactory(parent=order, title="page_url", description="Where it happened.")
    EventFactory(parent=checkout, title="Cart Viewed", description="The cart was opened.")
    return checkout


# --- what matches, in which order -------------------------------------------------------------


def test_title_over_description_over_definition(admin_user):
    category = EventCategoryFactory(title="Misc")
    EventFactory(parent=category, title="Nothing here", description="Unrelated.")
    in_definition = EventFactory(parent=category, title="Zeta", definition="A refund, refunded.")
    in_description = EventFactory(parent=category, title="Yankee", description="After a refund.")
    in_title = EventFactory(parent=category, title="Xray Refund", description="Money back.")

    found = list(search_resources(admin_user, "refund"))

    assert found == [in_title, in_description, in_definition]
    ranks = [r.search_rank for r in found]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) == 3


def test_a_title_match_wins_over_a_long_text_mentioning_the_word_often(admin_user):
    """Tiers, not only weights: a title match comes first however the texts compare."""
    category = EventCategoryFactory(title="Misc")
    noisy = EventFactory(
        parent=category,
        title="Alpha",
        description="refund " * 20,
        definition="refund refund refund",
    )
    titled = EventFactory(parent=category, title="Refund", definition="word " * 2000)

    assert list(search_resources(admin_user, "refund")) == [titled, noisy]


def test_every_word_must_match_in_any_field(admin_user, catalog):
    assert titles(admin_user, "order payment") == ["Order Completed"]  # title + description
    assert titles(admin_user, "payment revenue") == ["Order Completed"]  # + definition
    assert titles(admin_user, "order cart") == []


def test_the_last_word_matches_as_a_prefix(admin_user, catalog):
    for text in ("ord", "Order", "order comp", "ORDER COMPLETED", "completed ord", "order_co"):
        assert "Order Completed" in titles(admin_user, text), text
    # Only the last word: earlier ones are whole words.
    assert titles(admin_user, "ord completed") == []


def test_ties_are_broken_by_title_then_id(admin_user):
    category = EventCategoryFactory(title="Misc")
    for title in ("Login Failed", "Login Attempted", "Login Succeeded"):
        EventFactory(parent=category, title=title)

    assert titles(admin_user, "login") == ["Login Attempted", "Login Failed", "Login Succeeded"]


def test_snake_case_names_are_found_whole_and_by_their_parts(admin_user, catalog):
    for text in ("page_url", "page", "url", "page_u", "page url", "PAGE-URL", "page.url"):
        assert titles(admin_user, text) == ["page_url"], text
    assert titles(admin_user, "url_page") == []  # the parts are a phrase, in order
    assert titles(admin_user, "rev") == ["revenue", "Order Completed"]  # title, then definition


def test_case_is_ignored_and_accents_are_kept(admin_user):
    category = EventCategoryFactory(title="École", description="Menu du café.")

    assert list(search_resources(admin_user, "école")) == [category]
    assert list(search_resources(admin_user, "CAFÉ")) == [category]
    assert list(search_resources(admin_user, "cafe")) == []


def test_kinds(admin_user, catalog):
    assert titles(admin_user, "revenue", entity_types=[EntityType.EVENT_PROPERTY]) == ["revenue"]
    assert titles(admin_user, "revenue", entity_types=["event"]) == ["Order Completed"]
    assert titles(admin_user, "revenue", entity_types="event") == ["Order Completed"]
    assert titles(admin_user, "checkout", entity_types=["event_category", "event"]) == ["Checkout"]
    assert titles(admin_user, "revenue", entity_types=[]) == []


def test_many_matches_on_postgresql_are_capped_title_matches_first(admin_user, monkeypatch):
    """PostgreSQL ranks and counts at most MAX_RESULTS candidates, titles first; SQLite all."""
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    category = EventCategoryFactory(title="Misc")
    for i in range(4):
        EventFactory(parent=category, title=f"Other {i}", definition="About widgets.")
    titled = [EventFactory(parent=category, title=f"Widget {i}") for i in range(2)]

    found = search_resources(admin_user, "widget")

    assert list(found)[:2] == titled
    assert found.count() == len(list(found)) == (3 if connection.vendor == "postgresql" else 6)


def test_the_cap_keeps_title_matches_over_the_rest(admin_user, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    category = EventCategoryFactory(title="Misc")
    EventFactory(parent=category, title="Other", definition="About widgets.")
    titled = [EventFactory(parent=category, title=f"Widget {i}") for i in range(4)]

    found = list(search_resources(admin_user, "widget"))

    if connection.vendor == "postgresql":
        assert len(found) == 3 and set(found) <= set(titled)
    else:
        assert found[:4] == titled and len(found) == 5


def test_a_viewers_cap_holds_only_what_they_may_see(viewer, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    category = EventCategoryFactory(title="Misc")
    for i in range(5):
        EventFactory(parent=category, title=f"Widget draft {i}", published=False)
    shown = [EventFactory(parent=category, title=f"Widget {i}") for i in range(2)]

    assert list(search_resources(viewer, "widget")) == shown


# --- who sees what ------------------------------------------------------------------------


def test_viewers_see_only_published_resources_under_published_parents(viewer, editor):
    shown = EventCategoryFactory(title="Shown stuff")
    hidden = EventCategoryFactory(title="Hidden stuff", published=False)
    event = EventFactory(parent=shown, title="Stuff Shown")
    EventFactory(parent=shown, title="Stuff Draft", published=False)
    under_hidden = EventFactory(parent=hidden, title="Stuff Orphan")
    EventPropertyFactory(parent=under_hidden, title="stuff_id")
    draft_event = EventFactory(parent=shown, title="Other", published=False)
    EventPropertyFactory(parent=draft_event, title="stuff_name")
    EventPropertyFactory(parent=event, title="stuff_count")

    assert sorted(titles(viewer, "stuff")) == ["Shown stuff", "Stuff Shown", "stuff_count"]
    assert len(titles(editor, "stuff")) == 8


def test_nobody_and_inactive_users_find_nothing(catalog):
    assert titles(None, "order") == []
    assert titles(UserFactory(is_active=False), "order") == []


# --- hostile input ------------------------------------------------------------------------

#: Text that finds "Order Completed" once the syntax in it is dropped.
FINDS_ORDER = [
    "order*",
    "order:*",
    "*order",
    "(order)",
    '"order"',
    '"order',
    "'order'",
    "order'",
    "order\\",
    "order;",
    "!order",
    "order!",
    "-order",
    "+order",
    "^order",
    "~order",
    "order\x00",
    "\x00order",
    "order\ud800",
    "\udfffor",
    "order\u200b",
    "  order   ",
    "order completed" + " " * 500,
    "order & completed",
    "order | completed",
    "order <-> completed",
    "ORDER completed",
    "order completed)",
]
#: Text that must come back (with or without results) without an error.
SURVIVES = [
    "",
    " ",
    "\t\n",
    "\x00",
    "*",
    ":",
    ":*",
    "&",
    "|",
    "!",
    "!!",
    "()",
    "(",
    ")",
    '"',
    '""',
    "'",
    "''",
    "\\",
    "%",
    "_",
    "%_%",
    "NEAR",
    "NEAR(order completed, 2)",
    "near/2",
    "AND",
    "OR",
    "NOT",
    "order AND",
    "AND order",
    "order OR refund",
    "order NOT refund",
    "NOT order",
    "order -refund",
    "order & !refund",
    "(order | refund) & !x",
    "order <2> completed",
    "'; DROP TABLE catalog_resource; --",
    "\ud800",
    "\ud800\udc00",
    "x" * 10_000,
    "order " * 100,
    "a" * 199 + " order",
    "é" * 300,
    "\u0301",
    "e\u0301",
    "🙂",
    "½",
    "\uff4f\uff52\uff44\uff45\uff52",  # fullwidth "order"
    "注文 完了",
    "नमस्ते",
    "\x1b[31m",
    "{}",
    "{title}: order",
    "title:order",
    "{title description}: (order)",
    "^",
    "$1",
    "%s",
    "%(x)s",
    "{0}",
    "0",
    "-1",
    "3.5",
    "1e9",
]


@pytest.mark.parametrize("text", FINDS_ORDER)
def test_syntax_in_the_text_is_only_a_separator(admin_user, catalog, text):
    assert "Order Completed" in titles(admin_user, text)


@pytest.mark.parametrize("text", SURVIVES)
def test_hostile_text_never_fails(admin_user, viewer, catalog, text):
    for user in (admin_user, viewer):
        results = search_resources(user, text)
        assert len(list(results[:20])) == results.count()
    assert normalize_query(normalize_query(text)) == normalize_query(text)


@pytest.mark.parametrize("text", [None, 42, b"order", ["order"]])
def test_text_that_is_no_string_finds_nothing(admin_user, catalog, text):
    assert list(search_resources(admin_user, text)) == []


def test_blank_text_is_an_empty_queryset(admin_user, catalog, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert list(search_resources(admin_user, "  *&! ")) == []


def test_long_text_is_capped():
    assert len(search_terms("word " * 1000)) == MAX_TERMS
    assert sum(len(parts) for parts in search_terms("a_b_c_d " * 10)) == MAX_TERMS
    assert len(normalize_query("x" * 10_000)) == 200


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("  Order   Completed ", "Order Completed"),
        ("page_url", "page_url"),
        ("Page.URL  (ord", "Page_URL ord"),
        ('NEAR("a" b)', "NEAR_a b"),
        ("order\x00completed", "order_completed"),
        ("*:&|!()", ""),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),
        ("\ud800x", "x"),
    ],
)
def test_normalize_query(text, normalized):
    assert normalize_query(text) == normalized


# --- the index follows every write ------------------------------------------------------


def test_rows_from_bulk_create_are_found(admin_user):
    category = EventCategoryFactory(title="Misc")
    Event.objects.bulk_create(
        Event(parent=category, integration=category.integration, title=f"Bulk Loaded {i}")
        for i in range(3)
    )

    assert titles(admin_user, "bulk loaded") == ["Bulk Loaded 0", "Bulk Loaded 1", "Bulk Loaded 2"]


def test_queryset_update_is_reflected(admin_user, catalog):
    EventProperty.objects.filter(title="revenue").update(description="Gross merchandise value.")

    assert titles(admin_user, "merchandise") == ["revenue"]
    assert "revenue" not in titles(admin_user, "cents")


def test_service_writes_are_reflected(admin_user, editor, catalog):
    event = resource_create(
        ctx=acting(editor),
        entity_type=EntityType.EVENT,
        data={"title": "Coupon Applied", "parent": catalog, "description": "A discount."},
    )
    assert titles(admin_user, "coupon") == ["Coupon Applied"]

    resource_update(ctx=acting(editor), resource=event, data={"title": "Voucher Applied"})
    assert titles(admin_user, "coupon") == []
    assert titles(admin_user, "voucher") == ["Voucher Applied"]

    resource_update(ctx=acting(editor), resource=event, data={"definition": "Zebra crossing."})
    assert titles(admin_user, "zebra") == ["Voucher Applied"]

    resource_delete(ctx=acting(editor), resource=event)
    assert titles(admin_user, "voucher") == []


def test_deleting_a_category_removes_its_events_and_properties(admin_user, editor, catalog):
    resource_delete(ctx=acting(editor), resource=catalog)

    for text in ("order", "revenue", "page_url", "cart", "checkout"):
        assert titles(admin_user, text) == [], text


def test_save_without_a_text_change_keeps_the_row_findable(admin_user, catalog):
    event = Event.objects.get(title="Cart Viewed")
    event.verified = True
    event.save()

    assert titles(admin_user, "cart") == ["Cart Viewed"]


@on_sqlite
def test_sqlite_index_stays_one_row_per_resource(editor, catalog):
    """The FTS5 table and its key table hold exactly the resources, after every kind of write
    (and FTS5's own check agrees)."""
    event = Event.objects.get(title="Cart Viewed")
    Resource.objects.filter(pk=event.pk).update(title="Cart Opened")
    resource_update(ctx=acting(editor), resource=event, data={"description": "Opened."})
    EventPropertyFactory(parent=event, title="cart_id")
    resource_delete(ctx=acting(editor), resource=Event.objects.get(title="Order Completed"))

    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{FTS_TABLE}" ("{FTS_TABLE}") VALUES (\'integrity-check\')')
        cursor.execute(
            f'SELECT (SELECT count(*) FROM "{FTS_TABLE}"), (SELECT count(*) FROM "{FTS_KEY_TABLE}")'
            f', (SELECT count(*) FROM "{FTS_TABLE}" s JOIN "{FTS_KEY_TABLE}" k ON k.id = s.rowid'
            f" JOIN catalog_resource r ON r.id = k.resource_id AND r.title = s.title"
            f" AND r.description = s.description AND r.definition = s.definition)"
        )
        counts = cursor.fetchone()
    assert counts == (Resource.objects.count(),) * 3


@on_sqlite
def test_sqlite_triggers_survive_later_migrations():
    """A later migration that makes Django rebuild catalog_resource on SQLite (AlterField,
    some constraints) drops the table's triggers with the old table, and search would stop
    seeing new rows. Such a migration must create them again (the statements of
    0009_resource_search)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master"
            " WHERE type = 'trigger' AND tbl_name = 'catalog_resource'"
        )
        triggers = {row[0] for row in cursor.fetchall()}
    assert {
        "catalog_resource_search_insert",
        "catalog_resource_search_update",
        "catalog_resource_search_delete",
    } <= triggers


@on_postgresql
def test_postgresql_matches_through_the_gin_index(admin_user, catalog):
    """The query's conditions are the indexed expressions themselves, so the planner can use
    both indexes (on a table this small only when sequential scans are off)."""
    queryset = search_resources(admin_user, "order comp")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "resource_search_title_idx" in plan, plan
    assert "resource_search_vector_idx" in plan, plan


# --- as a queryset ------------------------------------------------------------------------


def test_a_page_costs_one_query_and_its_count_one_more(
    admin_user, viewer, catalog, django_assert_num_queries
):
    for user in (admin_user, viewer):
        queryset = search_resources(user, "t").select_related(
            "parent", "parent__parent", "integration"
        )
        with django_assert_num_queries(2):
            page = Paginator(queryset, 2).page(1)
            rows = list(page)
            assert [(r.parent, r.parent and r.parent.parent, r.integration.name) for r in rows]
        assert page.paginator.count == len(queryset) > 2


def test_works_as_a_subquery(admin_user, catalog):
    """The conditions follow the resource table's alias when the queryset is nested."""
    found = Resource.objects.filter(
        pk__in=search_resources(admin_user, "revenue").values("pk")
    ).order_by("title")

    assert [r.title for r in found] == ["Order Completed", "revenue"]


def test_counts_per_kind(admin_user, catalog):
    counts = dict(
        search_resources(admin_user, "revenue")
        .order_by()
        .values_list("entity_type")
        .annotate(n=Count("pk"))
    )

    assert counts == {EntityType.EVENT: 1, EntityType.EVENT_PROPERTY: 1}
