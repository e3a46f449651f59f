"""The tracking plan as JSON Schema: one draft 2020-12 schema per event."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from catalog.tracking_plan.formats import json_schema
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError, PlanProperty
from tests.plan.plans import changed, rich_plan_in_integrations, without_positions

FIXTURES = Path(__file__).parent.parent / "fixtures" / "plans"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _problems(data: bytes | str) -> list[tuple[str, str]]:
    with pytest.raises(PlanFileError) as caught:
        json_schema.read(data.encode() if isinstance(data, str) else data)
    return [(p.position, p.message) for p in caught.value.problems]


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _event(**fields) -> dict:
    return {"title": "e", "type": "object"} | fields


def _as_json_schema_carries(plan: Plan) -> Plan:
    """`plan` with no enum read as an empty list of allowed values: JSON Schema's "any"."""
    return changed(plan, prop=lambda prop: {"allowed_values": prop.allowed_values or []})


def test_a_small_plan_is_written_as_an_array_of_event_schemas():
    plan = Plan(
        events=[
            PlanEvent(
                name="Order Completed",
                integration="web",
                category="Checkout",
                description="Paid",
                owners=["alice"],
                properties=[
                    PlanProperty(
                        name="currency",
                        type="string",
                        required=True,
                        allowed_values=["EUR", "USD"],
                        pii=False,
                    ),
                    PlanProperty(name="placed_at", type="datetime", required=False),
                    PlanProperty(name="coupon", required=None),
                ],
            )
        ]
    )

    assert json_schema.write(plan).decode() == (
        """[
  {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Order Completed",
    "description": "Paid",
    "x-integration": "web",
    "x-category": "Checkout",
    "x-owners": [
      "alice"
    ],
    "type": "object",
    "properties": {
      "currency": {
        "type": "string",
        "enum": [
          "EUR",
          "USD"
        ],
        "x-pii": false
      },
      "placed_at": {
        "type": "string",
        "format": "date-time"
      },
      "coupon": {
        "x-required": null
      }
    },
    "required": [
      "currency"
    ]
  }
]
"""
    )


def test_an_empty_plan_is_an_empty_array():
    assert json_schema.write(Plan()) == b"[]\n"


def test_a_rich_plan_survives_the_round_trip_and_every_schema_is_valid():
    plan = rich_plan_in_integrations()

    data = json_schema.write(plan)
    again = json_schema.read(data)

    assert without_positions(again) == _as_json_schema_carries(plan)
    assert json_schema.write(again) == data
    for schema in json.loads(data):
        Draft202012Validator.check_schema(schema)


def test_written_schemas_validate_events_as_a_tracker_would_send_them():
    [schema] = json.loads(json_schema.write(Plan(events=[rich_plan_in_integrations().events[0]])))
    validator = Draft202012Validator(schema)

    assert not list(validator.iter_errors({"currency": "EUR", "nothing": None}))
    assert [e.message for e in validator.iter_errors({"currency": "JPY", "nothing": None})] == [
        "'JPY' is not one of ['EUR', 'USD', 'a|b', ' spaced ', '[x]', '1']"
    ]


def test_positions_are_json_pointers():
    plan = json_schema.read(
        _json([_event(title="a"), _event(title="b", properties={"x/y": {}, "m~n": True})])
    )

    assert [e.position for e in plan.events] == ["/0", "/1"]
    assert [p.position for p in plan.events[1].properties] == [
        "/1/properties/x~1y",
        "/1/properties/m~0n",
    ]


def test_a_single_event_schema_on_its_own_is_read():
    [event] = json_schema.read(_json(_event(properties={"p": {"type": "string"}}))).events

    assert (event.name, event.position, event.properties[0].position) == ("e", "/", "/properties/p")


def test_the_example_e_commerce_plan_reads():
    plan = json_schema.read((FIXTURES / "ecommerce.schema.json").read_bytes())

    assert [(e.integration, e.category, e.name, e.position) for e in plan.events] == [
        ("web", "Browsing", "Product Viewed", "/0"),
        ("web", "Checkout", "Order Completed", "/1"),
        ("web", "Account", "Signed Out", "/2"),
    ]
    order = plan.events[1]
    assert order.definition.startswith("Sent by the **order service**")
    assert (order.verified, order.published, order.pii) == (True, True, None)
    assert (order.owners, order.tags) == (["alice"], ["revenue", "core"])
    assert [(p.name, p.type, p.required, p.pii, p.allowed_values) for p in order.properties] == [
        ("order_id", "string", True, None, []),
        ("revenue", "number", True, None, []),
        ("currency", "string", True, None, ["EUR", "USD", "GBP"]),
        ("shipping_tier", "integer", False, None, [1, 2, 3]),
        ("products", "array", True, None, []),
        ("email", "string", False, True, []),
        ("coupon", "string", None, None, []),
    ]
    assert order.properties[1].examples == [49.9, 120]
    assert order.properties[4].examples == [
        [{"product_id": "SKU-1042", "quantity": 2, "price": 24.95}]
    ]
    assert plan.events[0].properties[2].type == "datetime"
    assert plan.events[2].properties == []


def test_schemas_of_other_tools_read_with_their_own_draft():
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Signed Up",
        "properties": {
            "plan": {"type": ["string", "null"], "enum": ["free", "pro", None]},
            "age": {"type": "integer", "minimum": 13, "exclusiveMinimum": 12},
            "anything": {"anyOf": [{"type": "string"}, {"type": "number"}]},
        },
        "required": ["plan"],
        "additionalProperties": False,
    }

    [event] = json_schema.read(_json([schema])).events

    assert [(p.name, p.type, p.required, p.allowed_values) for p in event.properties] == [
        ("plan", "string", True, ["free", "pro", None]),
        ("age", "integer", False, []),
        ("anything", None, False, []),
    ]
    assert event.category is None and event.owners is None and event.description is None


def test_every_problem_of_a_file_is_reported_with_its_pointer():
    data = _json(
        [
            _event(
                properties={
                    "a": {"type": "datetime"},
                    "b": {"type": ["string", "number"]},
                    "c": {"enum": [{"x": 1}], "x-pii": "yes"},
                    "d": {"x-required": True},
                    "e": {"x-required": None},
                    "": {},
                    "f": False,
                },
                required=["e", "zz", "e", {}],
            ),
            _event(title=None),
            _event(title=5, type="array"),
            {"type": "object"},
            [],
            _event(title="ok", **{"x-owners": "alice", "x-category": 3, "description": ["d"]}),
            _event(title="ok", properties=[]),
            _event(title="n" * 256),
            _event(title="meta", minProperties=-1, properties={"p": {"pattern": 3}}),
            _event(title="x", **{"$schema": "http://example.com/my-schema"}),
        ]
    )

    assert _problems(data) == [
        (
            "/0/required/1",
            "'zz' is required but is not among the event's properties.",
        ),
        ("/0/required/2", "'e' is listed twice."),
        ("/0/required/3", "Expected a name, not an object."),
        (
            "/0/properties/a/type",
            "'datetime' is not a JSON Schema type; use one of array, boolean, integer, null, "
            "number, object, string (or string with format date-time).",
        ),
        (
            "/0/properties/b/type",
            "A property has one type in the catalog, not 2 (string, number); leave 'type' out "
            "for any type.",
        ),
        ("/0/properties/c/enum/0", "Expected text, a number, true, false or null, not an object."),
        ("/0/properties/c/x-pii", "Expected true, false or null, not text."),
        (
            "/0/properties/d/x-required",
            "'x-required' may only be null (not said); list required properties in the event's "
            "'required'.",
        ),
        (
            "/0/properties/e/x-required",
            "'x-required' is null (not said), yet the event's 'required' lists the property.",
        ),
        ("/0/properties/", "The property name is empty."),
        ("/0/properties/f", "A property's schema must be a JSON object (or true)."),
        ("/1", "The schema has no 'title': the title is the event's name."),
        ("/2/title", "The event name must be a string, not a number."),
        ("/3", "The schema has no 'title': the title is the event's name."),
        ("/4", "An event's schema must be a JSON object, not an array."),
        ("/5/x-category", "Expected text, not a number."),
        ("/5/description", "Expected text, not an array."),
        ("/5/x-owners", "Expected an array of names, not text."),
        ("/6/properties", "Expected an object, not an array."),
        ("/7/title", "The event name is 256 characters long; at most 255 fit."),
        ("/8/properties/p/pattern", "Not a valid JSON Schema: 3 is not of type 'string'"),
        ("/8/minProperties", "Not a valid JSON Schema: -1 is less than the minimum of 0"),
        (
            "/9/$schema",
            "Unknown JSON Schema dialect 'http://example.com/my-schema'; use "
            "'https://json-schema.org/draft/2020-12/schema'.",
        ),
    ]


def test_an_event_schema_of_another_type_is_an_error():
    assert _problems(_json(_event(type="array"))) == [
        ("/type", 'An event\'s schema describes its properties object: its type must be "object".')
    ]


def test_duplicates_are_errors_naming_both_places():
    data = b"""[
      {"title": "a", "x-integration": "web", "properties": {"p": {}, "p": {"type": "string"}}},
      {"title": "a", "x-integration": "ios"},
      {"title": "a", "x-integration": "web", "title": "a"}
    ]"""

    assert _problems(data) == [
        ("/0/properties/p", "The key 'p' appears more than once here."),
        ("/2/title", "The key 'title' appears more than once here."),
    ]
    assert _problems(_json([_event(title="a"), _event(title="b"), _event(title="a")])) == [
        ("/2", "Event 'a' is already defined at /0.")
    ]
    assert _problems(_json([_event(title="a", **{"x-integration": "web"})] * 2)) == [
        ("/1", "Event 'a' in integration 'web' is already defined at /0.")
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", ("byte 0", "The file is empty.")),
        (b"\xef\xbb\xbf  \n", ("byte 0", "The file is empty.")),
        (
            b'[{"title": "caf\xe9"}]',
            ("byte 15", "The file is not UTF-8 text; save it as UTF-8 and try again."),
        ),
        (
            b"\xef\xbb\xbf[\xff]",
            ("byte 4", "The file is not UTF-8 text; save it as UTF-8 and try again."),
        ),
        (b'[{"title": "a\x00"}]', ("byte 13", "The file contains a NUL character.")),
        (
            b"[{]",
            (
                "line 1, column 3",
                "Not valid JSON: Expecting property name enclosed in double quotes.",
            ),
        ),
        (b"[" * 10_000 + b"]" * 10_000, ("/", "The JSON is nested too deeply to be read.")),
        (b"NaN", ("/", "Not a usable JSON number: NaN is not a JSON number.")),
        (
            b'"a plan"',
            ("/", "Expected a JSON array of event schemas (or one event schema object)."),
        ),
        (b"42", ("/", "Expected a JSON array of event schemas (or one event schema object).")),
    ],
)
def test_files_that_are_not_plans_are_refused(data, problem):
    assert _problems(data) == [problem]


def test_a_byte_order_mark_is_fine():
    assert json_schema.read(b"\xef\xbb\xbf" + _json([_event()])).events[0].name == "e"


def test_numbers_the_catalog_cannot_keep_are_errors_at_their_place():
    data = b"""{"title": "e", "properties": {"p": {
        "enum": [1e999, -1e999, 123456789012345678901234567890, 9223372036854775807],
        "examples": [{"deep": [1e400]}]
    }}}"""

    assert _problems(data) == [
        (
            "/properties/p/enum/0",
            "1e999 is out of range: numbers must be finite, and whole numbers fit in 64 bits.",
        ),
        (
            "/properties/p/enum/1",
            "-1e999 is out of range: numbers must be finite, and whole numbers fit in 64 bits.",
        ),
        (
            "/properties/p/enum/2",
            "123456789012345678901234567890 is out of range: numbers must be finite, and whole "
            "numbers fit in 64 bits.",
        ),
        (
            "/properties/p/examples/0/deep/0",
            "1e400 is out of range: numbers must be finite, and whole numbers fit in 64 bits.",
        ),
    ]


def test_an_integer_of_thousands_of_digits_is_an_error_not_a_crash():
    data = b'{"title": "e", "properties": {"p": {"enum": [' + b"9" * 5000 + b"]}}}"

    assert _problems(data)[0][0] == "/properties/p/enum/0"


def test_escaped_nul_and_lone_surrogates_are_refused():
    data = rb'[{"title": "a\u0000"}, {"title": "b", "description": "\ud800"}]'

    assert _problems(data) == [
        ("/0/title", "The event name contains a NUL character."),
        ("/1/description", "The text contains an invalid character (an unpaired surrogate)."),
    ]


def test_a_schema_nested_deep_inside_a_property_is_checked_without_crashing():
    deep = '{"items": ' * 600 + '{"type": "object"}' + "}" * 600
    data = ('[{"title": "e", "properties": {"p": ' + deep + "}}]").encode()

    assert _problems(data) == [("/0", "The schema is nested too deeply to check.")]


def test_a_file_with_endless_problems_reports_the_first_hundred():
    data = _json([_event(title=i) for i in range(500)])

    problems = _problems(data)

    assert len(problems) == 100
    assert problems[-1] == ("/99/title", "The event name must be a string, not a number.")


def test_a_large_plan_is_read_and_written_quickly():
    plan = Plan(
        events=[
            PlanEvent(
                name=f"Event {i}",
                integration="web",
                properties=[
                    PlanProperty(name=f"p{j}", type="string", required=j == 0) for j in range(10)
                ],
            )
            for i in range(2000)
        ]
    )

    again = json_schema.read(json_schema.write(plan))

    assert len(again.events) == 2000
    assert again.events[-1].properties[-1].position == "/1999/properties/p9"


def test_an_out_of_range_number_in_another_keyword_is_quoted_as_written():
    data = b'{"title": "e", "minProperties": 1e999, "properties": {"a": {"type": []}}}'

    assert _problems(data) == [("/properties/a/type", "Expected a type name, or an array of them.")]
    assert _problems(b'{"title": "e", "minProperties": 1e999}') == [
        ("/minProperties", "Not a valid JSON Schema: 1e999 is not of type 'integer'")
    ]


def test_a_wrapper_object_gets_a_hint():
    assert _problems(_json({"events": [_event()]})) == [
        (
            "/",
            "The schema has no 'title': the title is the event's name. A file of several "
            "events is a JSON array of schemas, not an object.",
        )
    ]
