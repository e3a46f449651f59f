"""Hostile or odd input is a clear 4xx, never a 500."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalog.models import Tag
from tests.factories import (
    CollectionFactory,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

BAD_TEXT = ["Text can't contain NUL characters or unpaired surrogates."]
BAD_TEXT_DETAIL = {
    "detail": "JSON parse error - text can't contain NUL characters or unpaired surrogates."
}
TOO_DEEP = {"detail": "JSON parse error - nested too deeply (at most 32 levels)."}
NOT_NULL = ["This field may not be null."]


def send_json(client, method: str, url: str, body: str | bytes):
    """Send `body` as it is: JSON escapes such as \\ud800 reach the server unparsed."""
    return getattr(client, method)(url, body, content_type="application/json")


# Query-string filters (django-filter) and the resource query's JSON (resource_query.py)

NOT_A_UUID = ["Enter a valid UUID."]
NO_NUL = ["Null characters are not allowed."]
BIG = "9" * 5_000


@pytest.mark.parametrize(
    ("url", "params", "body"),
    [
        ("/api/v1/event/events", {"title": "nul\x00byte"}, {"title": NO_NUL}),
        ("/api/v1/event/events", {"parent_id": "\x00"}, {"parent_id": NOT_A_UUID}),
        ("/api/v1/event/events", {"parent_id": BIG}, {"parent_id": NOT_A_UUID}),
        ("/api/v1/event/events", {"integration_id": BIG}, {"integration_id": NOT_A_UUID}),
        ("/api/v1/event/category", {"integration_id": "\x00"}, {"integration_id": NOT_A_UUID}),
        ("/api/v1/event/event_properties", {"parent_id": "1"}, {"parent_id": NOT_A_UUID}),
        ("/api/v1/tag/tags", {"title": "\x00"}, {"title": NO_NUL}),
        ("/api/v1/collection/collections", {"title": "a\x00"}, {"title": NO_NUL}),
        ("/api/v1/team/teams", {"name": "\x00"}, {"name": NO_NUL}),
        ("/api/v1/user/users", {"username": "\x00"}, {"username": NO_NUL}),
        (
            "/api/v1/user/users",
            {"role": "\x00"},
            {"role": ["Select a valid choice. \x00 is not one of the available choices."]},
        ),
        (
            "/api/v1/integration/integrations",
            {"type": BIG},
            {"type": [f"Select a valid choice. {BIG} is not one of the available choices."]},
        ),
    ],
)
def test_odd_list_filters_are_400_naming_the_parameter(as_admin, url, params, body):
    """Django's form fields refuse NUL and malformed ids before any query runs."""
    EventPropertyFactory()
    response = as_admin.get(url, params)
    assert response.status_code == 400
    assert response.json() == body


@pytest.mark.parametrize("url", ["/api/v1/event/events", "/api/v1/tag/tags"])
def test_invalid_utf8_in_the_query_string_is_read_as_replacement_characters(as_editor, url):
    """%ED%A0%80 (a UTF-8-encoded surrogate) is not valid UTF-8: Django decodes each bad byte
    to U+FFFD, a character every database can compare, so no surrogate reaches a query."""
    EventFactory(title="\ufffd\ufffd\ufffd")
    TagFactory(title="\ufffd\ufffd\ufffd")
    response = as_editor.get(f"{url}?title=%ED%A0%80")
    assert response.status_code == 200
    assert [row["title"] for row in response.json()["results"]] == ["\ufffd\ufffd\ufffd"]
    response = as_editor.get("/api/v1/event/events?parent_id=%ED%A0%80")
    assert response.status_code == 400
    assert response.json() == {"parent_id": NOT_A_UUID}


def _exact(field, value):
    return {"operator": "exact", "field": field, "value": value}


CANT_HOLD = "`filter` can't contain NUL characters or unpaired surrogates."


@pytest.mark.parametrize(
    ("filter_", "detail"),
    [
        # json.loads raises ValueError past 4,300 digits: these were a 500.
        (
            '{"operator": "exact", "field": "title", "value": ' + BIG + "}",
            "`filter` is not valid JSON: a number has more than 4,300 digits.",
        ),
        (
            '{"operator": "exact", "field": "pii", "value": -' + BIG + "}",
            "`filter` is not valid JSON: a number has more than 4,300 digits.",
        ),
        (
            '{"operator": "in", "field": "title", "value": [1, ' + BIG + "]}",
            "`filter` is not valid JSON: a number has more than 4,300 digits.",
        ),
        (
            '{"operator": "exact", "field": "title", "value": ' + BIG + ".5}",
            "`filter` is not valid JSON: a number is out of range.",
        ),
        # A lone surrogate can't be encoded for the database: these were a 500.
        (r'{"operator": "exact", "field": "title", "value": "\ud800"}', CANT_HOLD),
        (r'{"operator": "contains", "field": "description", "value": "a\udfff"}', CANT_HOLD),
        (r'{"operator": "in", "field": "title", "value": ["ok", "\ud800"]}', CANT_HOLD),
        (r'{"operator": "exact", "field": "ti\ud800tle", "value": "a"}', CANT_HOLD),
        (r'{"operator": "exact", "\u0000": 1, "field": "title", "value": "a"}', CANT_HOLD),
        (json.dumps(_exact("title", "nul\x00")), CANT_HOLD),
        (json.dumps({"operator": "contains", "field": "title", "value": "nul\x00"}), CANT_HOLD),
        (json.dumps(_exact("id", "\x00")), CANT_HOLD),
        (
            json.dumps(_exact("title", 10**400)),
            f"`title` needs a string, not {10**400}.",
        ),
        (json.dumps(_exact("title", ["a"])), "`title` needs a string, not ['a']."),
        (
            json.dumps(_exact("created_at", "2026-13-45T99:00:00Z")),
            "`created_at` needs an ISO 8601 date and time, such as 2026-01-31T12:00:00Z.",
        ),
        (
            "[" * 50_000 + "]" * 50_000,
            "`filter` is not valid JSON: nested too deeply (at most 32 levels).",
        ),
        (
            '{"a":' * 10_000 + "1" + "}" * 10_000,
            "`filter` is not valid JSON: nested too deeply (at most 32 levels).",
        ),
        ("NaN", "`filter` is not valid JSON: NaN is not a JSON value."),
        (
            json.dumps({"operator": "in", "field": "id", "value": ["x"] * 2000}),
            "`in` takes at most 1000 values.",
        ),
    ],
)
def test_odd_resource_query_filters_are_400(as_editor, filter_, detail):
    EventFactory()
    response = as_editor.get("/api/v1/resource/catalog", {"filter": filter_})
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("sort", "detail"),
    [
        (BIG, "`sort` is not valid JSON: a number has more than 4,300 digits."),
        (r'{"field": "\ud800"}', "`sort` can't contain NUL characters or unpaired surrogates."),
        ("[" * 50_000, "`sort` is not valid JSON: nested too deeply (at most 32 levels)."),
    ],
)
def test_odd_resource_query_sorts_are_400(as_editor, sort, detail):
    response = as_editor.get("/api/v1/resource/catalog", {"sort": sort})
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_a_filter_nested_past_its_own_limit_says_so(as_editor):
    """Within the JSON depth limit, the filter's own limit of 10 levels gives the message."""
    node = _exact("pii", True)
    for _ in range(11):
        node = {"operator": "not", "operands": [node]}
    response = as_editor.get("/api/v1/resource/catalog", {"filter": json.dumps(node)})
    assert response.status_code == 400
    assert response.json() == {"detail": "The filter is nested more than 10 levels deep."}


# Bodies the serializers refuse


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"title": "nul\x00", "parent": "{category}"}, {"title": BAD_TEXT}),
        (
            {"title": "x" * 300, "parent": "{category}"},
            {"title": ["Ensure this field has no more than 255 characters."]},
        ),
        (
            {"title": "ok", "parent": "{category}", "description": "nul\x00"},
            {"description": BAD_TEXT},
        ),
        ({"title": "ok", "parent": ["{category}"]}, {"parent": ["Must be a valid UUID."]}),
        ({"title": {"a": 1}, "parent": "{category}"}, {"title": ["Not a valid string."]}),
        (
            {"title": "ok", "parent": "{category}", "tags": "not-a-list"},
            {"tags": ['Expected a list of items but got type "str".']},
        ),
        ({"title": "ok", "parent": "{category}", "pii": None}, {"pii": NOT_NULL}),
    ],
)
def test_odd_bodies(as_editor, body, errors):
    event = EventFactory()
    filled = json.loads(json.dumps(body).replace("{category}", str(event.parent_id)))
    response = as_editor.post("/api/v1/event/events", filled, format="json")
    assert response.status_code == 400
    assert response.json() == errors


def test_odd_property_values(as_editor):
    event = EventFactory()
    response = as_editor.post(
        "/api/v1/event/event_properties",
        {"title": "p", "parent": str(event.pk), "examples": ["nul\x00"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"examples": BAD_TEXT}
    response = as_editor.post(
        "/api/v1/event/event_properties",
        {"title": "q", "parent": str(event.pk), "data_type": None, "required": None},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"data_type": NOT_NULL, "required": NOT_NULL}


# Text longer than its column (PostgreSQL would raise DataError)

#: Route, field, the column's max_length, and a valid body without the field.
LENGTH_LIMITS = [
    ("/api/v1/event/category", "title", 255, {"integration": "{integration}"}),
    ("/api/v1/event/events", "title", 255, {"parent": "{category}"}),
    ("/api/v1/event/event_properties", "title", 255, {"parent": "{event}"}),
    ("/api/v1/tag/tags", "name", 100, {}),
    ("/api/v1/collection/collections", "title", 200, {}),
    ("/api/v1/team/teams", "name", 200, {}),
    ("/api/v1/integration/integrations", "name", 200, {"type": "segment"}),
]


@pytest.fixture
def one_of_each():
    """One object per route of LENGTH_LIMITS, for PATCH, and the ids a create needs."""
    prop = EventPropertyFactory()
    event, integration = prop.parent, prop.integration
    return {
        "/api/v1/event/category": event.parent,
        "/api/v1/event/events": event,
        "/api/v1/event/event_properties": prop,
        "/api/v1/tag/tags": TagFactory(),
        "/api/v1/collection/collections": CollectionFactory(),
        "/api/v1/team/teams": TeamFactory(),
        "/api/v1/integration/integrations": integration,
        "ids": {"integration": integration.pk, "category": event.parent_id, "event": event.pk},
    }


@pytest.mark.parametrize(("route", "field", "limit", "base"), LENGTH_LIMITS)
def test_text_longer_than_its_column_is_refused_naming_the_field(
    as_admin, one_of_each, route, field, limit, base
):
    too_long = {field: [f"Ensure this field has no more than {limit} characters."]}
    body = {
        **{k: v.format(**one_of_each["ids"]) for k, v in base.items()},
        field: "x" * (limit + 1),
    }
    response = as_admin.post(route, body, format="json")
    assert response.status_code == 400
    assert response.json() == too_long
    url = f"{route}/{one_of_each[route].pk}"
    response = as_admin.patch(url, {field: "é" * (limit + 1)}, format="json")
    assert response.status_code == 400
    assert response.json() == too_long


@pytest.mark.parametrize(("route", "field", "limit", "base"), LENGTH_LIMITS)
def test_text_as_long_as_its_column_is_stored(as_admin, one_of_each, route, field, limit, base):
    """The limit counts characters, not UTF-8 bytes, on both databases."""
    body = {**{k: v.format(**one_of_each["ids"]) for k, v in base.items()}, field: "x" * limit}
    response = as_admin.post(route, body, format="json")
    assert response.status_code == 201, response.content[:300]
    url = f"{route}/{one_of_each[route].pk}"
    text = ("é\N{GRINNING FACE}" * limit)[:limit]  # 2 and 4 bytes in UTF-8
    response = as_admin.patch(url, {field: text}, format="json")
    assert response.status_code == 200, response.content[:300]
    assert response.json()[field] == text


def test_an_api_key_name_longer_than_its_column_is_refused(viewer):
    as_viewer = APIClient()
    as_viewer.force_login(viewer)  # keys are made in a session, not with a key
    response = as_viewer.post("/api/v1/user/api_keys", {"name": "k" * 201}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["Ensure this field has no more than 200 characters."]}


# Django's upload limits (catalog/api/exceptions.py)


@pytest.mark.parametrize(
    ("method", "url", "data", "content_type"),
    [
        ("get", "/api/v1/event/events?{fields}", None, None),
        ("get", "/api/v1/resource/catalog?{fields}", None, None),
        ("post", "/api/v1/tag/tags", "{fields}", "application/x-www-form-urlencoded"),
        ("post", "/api/v1/tag/tags", {f"f{i}": "1" for i in range(11)}, None),  # multipart
    ],
)
def test_too_many_fields_is_400_with_json(as_editor, settings, method, url, data, content_type):
    """Django refuses these itself, with an HTML page."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = "&".join(f"f{i}=1" for i in range(11))
    kwargs = {"content_type": content_type} if content_type else {}
    data = data.format(fields=fields) if isinstance(data, str) else data
    response = getattr(as_editor, method)(url.format(fields=fields), data, **kwargs)
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many query parameters or form fields: at most 10."}


def test_too_many_files_is_400_with_json(as_editor, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = {f"f{i}": SimpleUploadedFile(f"{i}.txt", b"x") for i in range(3)}
    response = as_editor.post("/api/v1/tag/tags", files)
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files: at most 2."}


def test_a_body_over_the_upload_limit_is_413_with_json(as_editor, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    event = EventFactory()
    response = as_editor.patch(
        f"/api/v1/event/events/{event.pk}", {"description": "a" * 20_000}, format="json"
    )
    assert response.status_code == 413
    assert "at most 10,000 bytes" in response.json()["detail"]


# JSON request bodies (catalog/api/parsers.py)


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/api/v1/tag/tags", r'{"title": "a\u0000b"}', "title"),
        ("post", "/api/v1/tag/tags", r'{"title": "\ud800"}', "title"),
        ("post", "/api/v1/tag/tags", r'{"title": "ok", "description": "\udc00"}', "description"),
        ("patch", "/api/v1/event/events/{event}", r'{"description": "\ud800"}', "description"),
        ("patch", "/api/v1/event/events/{event}", r'{"description": "a\u0000"}', "description"),
        ("patch", "/api/v1/event/event_properties/{prop}", r'{"examples": ["\udfff"]}', "examples"),
        (
            "patch",
            "/api/v1/event/event_properties/{prop}",
            r'{"allowed_values": [{"\u0000": 1}]}',
            "allowed_values",
        ),
    ],
)
def test_text_the_database_cant_hold_is_refused_naming_the_field(
    as_editor, method, url, body, field
):
    """PostgreSQL can't store NUL or unpaired surrogates; before, some of these were a 500."""
    prop = EventPropertyFactory(description="before")
    url = url.format(event=prop.parent_id, prop=prop.pk)
    response = send_json(as_editor, method, url, body)
    assert response.status_code == 400
    assert response.json() == {field: BAD_TEXT}
    prop.refresh_from_db()
    assert (prop.description, prop.examples, Tag.objects.count()) == ("before", None, 0)


def test_every_field_with_bad_text_is_named(as_editor):
    response = send_json(
        as_editor, "post", "/api/v1/tag/tags", r'{"title": "\ud83d", "description": "\u0000"}'
    )
    assert response.status_code == 400
    assert response.json() == {"title": BAD_TEXT, "description": BAD_TEXT}


def test_a_paired_surrogate_is_an_ordinary_character(as_editor):
    response = send_json(as_editor, "post", "/api/v1/tag/tags", r'{"title": "ok \ud83d\ude00"}')
    assert response.status_code == 201
    assert response.json()["title"] == "ok \N{GRINNING FACE}"


@pytest.mark.parametrize(
    "body", [r'{"\ud800": "x"}', r'{"ti\u0000tle": "x"}', r'["\u0000"]', r'"\ud800"']
)
def test_bad_text_outside_a_field_is_a_parse_error(as_editor, body):
    """A key with NUL can't name the field (the error body would carry the NUL itself)."""
    response = send_json(as_editor, "post", "/api/v1/tag/tags", body)
    assert response.status_code == 400
    assert response.json() == BAD_TEXT_DETAIL


@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000 + "]" * 50_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"title": ' + "[" * 40 + "]" * 40 + "}",
    ],
    ids=["100KB-of-brackets", "10000-nested-objects", "33-levels"],
)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_deeply_nested_bodies_are_refused(as_editor, method, body):
    """json.loads recurses once per level: 50,000 levels were a RecursionError and a 500."""
    event = EventFactory()
    url = "/api/v1/event/events" + (f"/{event.pk}" if method == "patch" else "")
    response = send_json(as_editor, method, url, body)
    assert response.status_code == 400
    assert response.json() == TOO_DEEP


def test_nesting_up_to_the_limit_is_accepted(as_editor):
    prop = EventPropertyFactory()
    url = f"/api/v1/event/event_properties/{prop.pk}"
    # The body object and the examples list are two levels; 30 more make 32.
    examples = "[" * 30 + '"deep"' + "]" * 30
    response = send_json(as_editor, "patch", url, f'{{"examples": [{examples}]}}')
    assert response.status_code == 200, response.content[:300]
    response = send_json(as_editor, "patch", url, f'{{"examples": [[{examples}]]}}')
    assert response.status_code == 400
    assert response.json() == TOO_DEEP


def test_brackets_inside_strings_dont_count_as_nesting(as_editor):
    title = "[{" * 40 + '\\"' + "}]" * 10
    response = send_json(as_editor, "post", "/api/v1/tag/tags", f'{{"title": "{title[:100]}"}}')
    assert response.status_code == 201, response.content[:300]


def test_an_unterminated_string_full_of_escaped_quotes_is_a_parse_error(as_editor):
    """The depth scan skips strings; one with no end must not make it rescan from every later
    quote (quadratic: this body took minutes)."""
    body = '{"title": "' + '\\"[' * 50_000
    response = send_json(as_editor, "post", "/api/v1/tag/tags", body)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Unterminated string starting at: line 1 column 11 (char 10)."
    }


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"title": ' + "9" * 5_000 + "}", "a number has more than 4,300 digits"),
        ('{"title": -' + "1" * 4_301 + "}", "a number has more than 4,300 digits"),
        ('{"title": "x", "description": 1e999}', "a number is out of range"),
        ('{"title": NaN}', "NaN is not a JSON value"),
        ('{"title": -Infinity}', "-Infinity is not a JSON value"),
    ],
)
def test_numbers_json_or_python_cant_hold_are_refused(as_editor, body, detail):
    """int() raises past 4,300 digits; the message no longer tells the client to call
    sys.set_int_max_str_digits()."""
    response = send_json(as_editor, "post", "/api/v1/tag/tags", body)
    assert response.status_code == 400
    assert response.json() == {"detail": f"JSON parse error - {detail}."}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"title": "\xed\xa0\x80"}', "byte 0xed at position 11"),  # a UTF-8-encoded surrogate
        (b'{"title": "\xff"}', "byte 0xff at position 11"),
        (b'\xc3{"title": "x"}', "byte 0xc3 at position 0"),
    ],
)
def test_a_body_that_is_not_utf8_is_refused(as_editor, body, detail):
    response = send_json(as_editor, "post", "/api/v1/tag/tags", body)
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"JSON parse error - the body is not valid utf-8: {detail} can't be decoded."
    }


def test_a_body_in_a_charset_that_cant_decode_it_is_refused(as_editor):
    response = as_editor.post(
        "/api/v1/tag/tags", b'{"title": "x"}', content_type="application/json; charset=punycode"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the body is not valid punycode."}


def test_a_body_that_is_not_json_is_refused(as_editor):
    response = send_json(as_editor, "post", "/api/v1/tag/tags", '{"title": x}')
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting value: line 1 column 11 (char 10)."
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ("null", ["No data provided"]),
        ("[]", ["Invalid data. Expected a dictionary, but got list."]),
        ('[{"title": "x"}]', ["Invalid data. Expected a dictionary, but got list."]),
        ('"x"', ["Invalid data. Expected a dictionary, but got str."]),
        ("7", ["Invalid data. Expected a dictionary, but got int."]),
    ],
)
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/tag/tags"),
        ("post", "/api/v1/event/events"),
        ("patch", "/api/v1/event/events/{event}"),
        ("post", "/api/v1/user/api_keys"),
    ],
)
def test_a_body_that_is_not_an_object_is_refused(as_editor, editor, method, url, body, errors):
    event = EventFactory(title="Before")
    client = as_editor
    if "api_keys" in url:  # keys are made in a session, not with a key
        client = APIClient()
        client.force_login(editor)
    response = send_json(client, method, url.format(event=event.pk), body)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": errors}
    event.refresh_from_db()
    assert event.title == "Before"


# Paging parameters (catalog/api/pagination.py)

PAGE_ERROR = {"page": ["Must be a whole number from 1."]}
PAGE_SIZE_ERROR = {"page_size": ["Must be a whole number from 1 to 200."]}
TOO_DEEP_PAGE = {"page": ["Results can be paged at most 10,000 deep; narrow the filter instead."]}


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"page": "²"}, PAGE_ERROR),  # str.isdigit() is True, int() fails: was a 500
        ({"page": "\u0661"}, PAGE_ERROR),  # an Arabic-Indic one: int() would take it
        ({"page": "\x00"}, PAGE_ERROR),
        ({"page": "1\x00"}, PAGE_ERROR),
        ({"page": "-1"}, PAGE_ERROR),
        ({"page": "0"}, PAGE_ERROR),
        ({"page": " 1"}, PAGE_ERROR),
        ({"page": "9" * 5_000}, TOO_DEEP_PAGE),  # int() refuses 4,300+ digits: was a 500
        ({"page": "99999999999999999999999"}, TOO_DEEP_PAGE),
        ({"page_size": "²"}, PAGE_SIZE_ERROR),
        ({"page_size": "9" * 5_000}, PAGE_SIZE_ERROR),
        ({"page_size": "100000000000"}, PAGE_SIZE_ERROR),
        ({"page_size": "201"}, PAGE_SIZE_ERROR),
        ({"page_size": "\x00"}, PAGE_SIZE_ERROR),
        ({"page_size": "1e3"}, PAGE_SIZE_ERROR),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/event/events", "/api/v1/resource/catalog"])
def test_odd_paging_is_400_naming_the_parameter(as_editor, url, params, body):
    EventFactory()
    response = as_editor.get(url, params)
    assert response.status_code == 400
    assert response.json() == body


def test_leading_zeros_are_a_page_number_however_many(as_editor):
    EventFactory(title="Only")
    response = as_editor.get("/api/v1/event/events", {"page": "0" * 5_000 + "1"})
    assert response.status_code == 200
    assert [event["title"] for event in response.json()["results"]] == ["Only"]
    response = as_editor.get("/api/v1/event/events", {"page_size": "0" * 5_000 + "3"})
    assert response.status_code == 200


# Malformed ids and unknown paths (catalog/api/exceptions.py, catalog/api/urls.py)

NOT_FOUND = {"detail": "Not found."}
#: Each route and the methods it has for one object.
OBJECT_ROUTES = [
    ("/api/v1/event/category", ("get", "patch", "delete")),
    ("/api/v1/event/events", ("get", "patch", "delete")),
    ("/api/v1/event/event_properties", ("get", "patch", "delete")),
    ("/api/v1/integration/integrations", ("get", "patch", "delete")),
    ("/api/v1/tag/tags", ("get", "patch", "delete")),
    ("/api/v1/collection/collections", ("get", "patch", "delete")),
    ("/api/v1/team/teams", ("get", "patch", "delete")),
    ("/api/v1/user/users", ("get",)),
    ("/api/v1/user/api_keys", ("get", "delete")),
    ("/api/v1/resource/all", ("get",)),
]


def _call(client, method: str, url: str):
    """GET and DELETE without a body; POST and PATCH with an empty JSON object."""
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return send_json(client, method, url, "{}")


BAD_IDS = [
    "not-a-uuid",
    "xyz",
    "123",
    "%00",
    "%ED%A0%80",  # invalid UTF-8
    "%F0%9F%98%80",  # an emoji
    "1" * 5_000,
    "00000000-0000-0000-0000-000000000000",  # well formed, but no such object
    "00000000000000000000000000000000/",
    "a.b",  # no route matches: was Django's HTML 404 page
    "x/y",
    "x%2Fy",
    "%20",
    "'%20OR%201=1--",
]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(("route", "methods"), OBJECT_ROUTES, ids=[r for r, _ in OBJECT_ROUTES])
def test_a_malformed_or_unknown_id_is_the_same_json_404(as_admin, route, methods, bad_id):
    """An unknown id said "No Resource matches the given query." (a model the client never
    sees), a malformed one "Not found.", and an id with a dot got Django's HTML page."""
    for method in methods:
        response = _call(as_admin, method, f"{route}/{bad_id}")
        assert (method, response.status_code) == (method, 404)
        assert response["Content-Type"] == "application/json"
        assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/nothing-here", "/api/v1/event", "/api/v1/event/events/x/y/z"]
)
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_an_unknown_path_under_the_api_is_a_json_404(as_admin, method, path):
    response = _call(as_admin, method, path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_an_unknown_path_is_a_404_even_with_csrf_checks(editor):
    """A POST without a CSRF token to a wrong URL gets the 404, not Django's HTML 403 page."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post("/api/v1/event/events/a.b", {}, format="json")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# The Authorization header (catalog/api/authentication.py)


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer ec_\x00_x", "Invalid API key."),  # was a 500 on PostgreSQL
        ("Bearer ec_ab\x00cd_x", "Invalid API key."),
        ("Bearer ec_\x7f_x", "Invalid API key."),
        ("Bearer ec_\xe9_x", "Invalid API key."),
        ("Bearer ec_" + "x" * 5_000 + "_y", "Invalid or revoked API key."),
        ("Bearer ec__x", "Invalid or revoked API key."),
        # The key's prefix is a parameter of hand-written SQL (selectors.active_api_key).
        ("Bearer ec_%s'%(x)s--_x", "Invalid or revoked API key."),
        ("Bearer a b", "Invalid Authorization header: use 'Bearer <api key>'."),
    ],
)
def test_an_odd_api_key_is_401(db, header, detail):
    response = APIClient().get("/api/v1/tag/tags", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
