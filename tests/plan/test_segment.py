"""The "segment" format: Segment Protocols tracking plan rules.

`tests/fixtures/plans/segment-rules.json` follows Segment's Public API reference for
"List Rules from Tracking Plan" (`GET /tracking-plans/{trackingPlanId}/rules`, the `RuleV1`
model: type, key, version, jsonSchema, createdAt, updatedAt, deprecatedAt, with pagination)
and the Protocols docs "The Protocols Tracking Plan" (segment.com/docs/protocols/tracking-plan/
create/: the common JSON schema example, date-time as a string with "format", event versions).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.tracking_plan.formats import segment
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError, PlanProblem, PlanProperty
from tests.plan.plans import rich_plan, without_positions

FIXTURE = Path(__file__).parent.parent / "fixtures" / "plans" / "segment-rules.json"


def _problems(data: bytes) -> list[tuple[str, str]]:
    with pytest.raises(PlanFileError) as caught:
        segment.read(data)
    return [(problem.position, problem.message) for problem in caught.value.problems]


def _rules(*rules: dict) -> bytes:
    return json.dumps({"rules": list(rules)}).encode()


def _track(key, properties=None, required=None, **schema) -> dict:
    payload: dict = {"type": "object", "properties": properties or {}}
    if required is not None:
        payload["required"] = required
    return {
        "type": "TRACK",
        "key": key,
        "version": 1,
        "jsonSchema": {"type": "object", "properties": {"properties": payload}, **schema},
    }


def test_a_rich_plan_goes_out_and_comes_back_unchanged():
    written = segment.write(rich_plan())
    assert without_positions(segment.read(written)) == rich_plan()
    assert segment.write(segment.read(written)) == written


def test_a_small_plan_is_written_as_segment_takes_it_on_put():
    plan = Plan(
        events=[
            PlanEvent(
                name="Order Completed",
                description="Paid.",
                category="Checkout",
                properties=[
                    PlanProperty(
                        name="currency", type="string", required=True, allowed_values=["USD"]
                    ),
                    PlanProperty(name="paid_at", type="datetime", required=False, pii=False),
                ],
            )
        ]
    )
    assert segment.write(plan).decode() == (
        """{
  "rules": [
    {
      "type": "TRACK",
      "key": "Order Completed",
      "version": 1,
      "jsonSchema": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "description": "Paid.",
        "x-category": "Checkout",
        "properties": {
          "context": {},
          "traits": {},
          "properties": {
            "type": "object",
            "properties": {
              "currency": {
                "type": "string",
                "enum": [
                  "USD"
                ]
              },
              "paid_at": {
                "type": "string",
                "format": "date-time",
                "x-pii": false
              }
            },
            "required": [
              "currency"
            ]
          }
        },
        "required": [
          "properties"
        ]
      }
    }
  ]
}
"""
    )


def test_segments_answer_imports_its_track_rules_at_their_highest_version():
    plan, skipped = segment.read_with_skipped(FIXTURE.read_bytes())
    assert [event.name for event in plan.events] == ["Order Completed", "Product Viewed"]
    order = plan.events[0]
    assert order.position == "/data/rules/2"
    assert order.description == "A customer paid for an order."
    # Segment has no owners, tags, category...: the import leaves those as they are.
    assert (order.category, order.owners, order.tags, order.pii, order.integration) == (
        None,
        None,
        None,
        None,
        None,
    )
    props = {prop.name: prop for prop in order.properties}
    assert list(props) == ["order_id", "subtotal", "total", "currency", "completed_at", "coupon"]
    assert props["order_id"] == PlanProperty(
        name="order_id",
        type="string",
        required=True,
        description="The order's id.",
        position="/data/rules/2/jsonSchema/properties/properties/properties/order_id",
    )
    assert (props["currency"].type, props["currency"].allowed_values) == (
        "string",
        ["USD", "EUR", None],
    )
    assert props["completed_at"].type == "datetime"
    assert props["coupon"].type is None
    assert props["total"].required is False
    assert [(p.name, p.type) for p in plan.events[1].properties] == [
        ("product_id", "string"),
        ("quantity", "integer"),
    ]
    assert skipped == [
        PlanProblem(
            "/data/rules/0",
            "The COMMON rule was skipped: only TRACK rules are catalog events.",
        ),
        PlanProblem(
            "/data/rules/1",
            'Version 1 of event "Order Completed" was skipped: the highest version (2) is '
            "imported.",
        ),
        PlanProblem(
            "/data/rules/4",
            "The IDENTIFY rule was skipped: only TRACK rules are catalog events.",
        ),
    ]


def test_rules_are_read_from_every_shape_segment_uses():
    rule = _track("Signed Up")
    for data, position in [
        ({"rules": [rule]}, "/rules/0"),
        ({"data": {"rules": [rule]}}, "/data/rules/0"),
        ([rule], "/0"),
    ]:
        plan = segment.read(json.dumps(data).encode())
        assert [(event.name, event.position) for event in plan.events] == [("Signed Up", position)]


def test_a_lower_version_after_a_higher_one_is_skipped_too():
    first = _track("A", {"x": {"type": "string"}}) | {"version": 3}
    second = _track("A", {"y": {"type": "string"}}) | {"version": 2}
    plan, skipped = segment.read_with_skipped(_rules(first, second))
    assert [p.name for p in plan.events[0].properties] == ["x"]
    assert skipped == [
        PlanProblem(
            "/rules/1",
            'Version 2 of event "A" was skipped: the highest version (3) is imported.',
        )
    ]


def test_every_problem_of_a_file_is_told_with_its_json_pointer():
    data = _rules(
        _track("Good", {"n": {"type": "numbr"}}),
        {"type": "TRACK", "key": "", "version": 1, "jsonSchema": {}},
        {"type": "TRACK", "key": 12, "version": 1, "jsonSchema": {}},
        {"type": "TRACK", "key": "No version", "jsonSchema": {}},
        {"type": "ALIAS", "key": "x", "version": 1},
        "not a rule",
        _track("Twice"),
        _track("Twice"),
        _track("Bad schema", {"p": {"type": "string", "minLength": -1}}),
        _track("Bad extras", {"p": {"type": "string", "x-pii": "yes"}}, **{"x-owners": "ann"}),
        {"type": "TRACK", "key": "Schema is a list", "version": 1, "jsonSchema": []},
    )
    assert _problems(data) == [
        ("/rules/1/key", "The event name is empty."),
        ("/rules/2/key", "The event name must be a string, not a number."),
        ("/rules/3/version", "The version must be a whole number, not null."),
        (
            "/rules/4/type",
            "The rule type must be one of TRACK, COMMON, IDENTIFY, GROUP, PAGE, SCREEN, "
            "not 'ALIAS'.",
        ),
        ("/rules/5", "A rule must be an object, not a string."),
        (
            "/rules/7",
            'Version 1 of event "Twice" is also at /rules/6; each version of an event appears '
            "once.",
        ),
        (
            "/rules/0/jsonSchema/properties/properties/properties/n/type",
            "Unknown type 'numbr': expected one of string, number, integer, boolean, object, "
            'array, null (a date-time is a string with "format": "date-time").',
        ),
        (
            "/rules/8/jsonSchema/properties/properties/properties/p/minLength",
            "Not a valid JSON Schema (draft 7): -1 is less than the minimum of 0",
        ),
        ("/rules/9/jsonSchema/x-owners", "x-owners must be a list of non-empty strings."),
        (
            "/rules/9/jsonSchema/properties/properties/properties/p/x-pii",
            "x-pii must be true or false, not a string.",
        ),
        ("/rules/10/jsonSchema", "jsonSchema must be an object, not a list."),
    ]


def test_a_property_twice_in_one_event_is_an_error():
    data = (
        b'{"rules": [{"type": "TRACK", "key": "A", "version": 1, "jsonSchema": {"properties":'
        b' {"properties": {"properties": {"x": {}, "x": {"type": "string"}}}}}}]}'
    )
    assert _problems(data) == [
        (
            "/rules/0/jsonSchema/properties/properties/properties/x",
            'Property "x" appears more than once in event "A".',
        )
    ]


def test_names_too_long_or_with_nul_characters_are_refused():
    assert _problems(_rules(_track("x" * 256), _track("a\u0000b"))) == [
        ("/rules/0/key", "The event name is 256 characters long; at most 255 fit."),
        ("/rules/1/key", "The event name contains a NUL character."),
    ]
    long_property = _rules(_track("A", {"p" * 300: {}}))
    assert _problems(long_property)[0][1] == (
        "The property name is 300 characters long; at most 255 fit."
    )


def test_the_list_of_problems_stops_at_100():
    data = _rules(*[{"type": "TRACK", "key": "", "version": 1} for _ in range(150)])
    assert len(_problems(data)) == 100


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", ("byte 0", "The file is empty.")),
        (b"  \n", ("byte 0", "The file is empty.")),
        (
            b'{"rules": [\xff]}',
            ("byte 11", "The file is not UTF-8 text; save it as UTF-8 and try again."),
        ),
        (b"{\x00}", ("byte 1", "The file contains a NUL character.")),
        (b'{"rules": [', ("line 1, column 12", "Not valid JSON: Expecting value.")),
        (b"[" * 10_000 + b"]" * 10_000, ("", "The JSON is nested too deeply to be read.")),
        (b'{"rules": [1e999]}', ("", "Not a usable JSON number: The number 1e999 is too large.")),
        (b'{"rules": [NaN]}', ("", "Not a usable JSON number: NaN is not a JSON number.")),
        (
            b'{"rules": "none"}',
            ("/rules", "The rules must be a list, not a string."),
        ),
        (
            b'"rules"',
            ("", 'Expected {"rules": [...]} or a list of Segment rules, not a string.'),
        ),
        (
            b'{"tracking_plan": {}}',
            (
                "",
                'Expected Segment tracking plan rules: {"rules": [...]}, {"data": {"rules": '
                "[...]}} or a list of rules.",
            ),
        ),
    ],
)
def test_ugly_files_are_refused_with_a_reason(data, problem):
    assert _problems(data) == [problem]


def test_a_huge_integer_is_refused():
    [(position, message)] = _problems(b'{"rules": [' + b"9" * 5000 + b"]}")
    assert position == ""
    assert message.startswith("Not a usable JSON number:")


def test_a_byte_order_mark_is_accepted():
    plan = segment.read(b"\xef\xbb\xbf" + _rules(_track("A")))
    assert [event.name for event in plan.events] == ["A"]


def test_a_deeply_nested_schema_is_refused_not_crashed_on():
    """900 levels parse as JSON, but checking them as a schema would overflow the stack."""
    nested = '{"items": ' * 900 + "{}" + "}" * 900
    data = (
        '{"rules": [{"type": "TRACK", "key": "A", "version": 1, "jsonSchema": '
        f'{{"properties": {{"properties": {{"properties": {{"deep": {nested}}}}}}}}}}}]}}'
    ).encode()
    assert _problems(data) == [("", "The rules are nested too deeply to be read.")]


def test_nullable_and_multi_type_properties():
    plan = segment.read(
        _rules(
            _track(
                "A",
                {
                    "n": {"type": ["null", "integer"]},
                    "only_null": {"type": ["null"]},
                    "several": {"type": ["string", "number"]},
                    "any": True,
                },
            )
        )
    )
    assert [(p.name, p.type) for p in plan.events[0].properties] == [
        ("n", "integer"),
        ("only_null", "null"),
        ("several", None),
        ("any", None),
    ]


def test_the_same_event_name_in_two_integrations_cannot_be_one_segment_plan():
    plan = Plan(
        events=[PlanEvent(name="A", integration="web"), PlanEvent(name="A", integration="ios")]
    )
    with pytest.raises(ValueError, match="export one integration at a time"):
        segment.write(plan)


def test_schemas_are_checked_as_check_schema_does_with_valid_keywords_accepted():
    valid = _track("A", {"sku": {"type": "string", "pattern": "^[A-Z]{3}$", "minLength": 3}})
    assert [p.name for p in segment.read(_rules(valid)).events[0].properties] == ["sku"]
    invalid = _track("A", {"sku": {"type": "string", "pattern": "(unclosed"}})
    assert _problems(_rules(invalid)) == [
        (
            "/rules/0/jsonSchema/properties/properties/properties/sku/pattern",
            "Not a valid JSON Schema (draft 7): '(unclosed' is not a 'regex'",
        )
    ]


def test_every_exported_rule_is_a_valid_draft_7_schema():
    from jsonschema import Draft7Validator

    for rule in json.loads(segment.write(rich_plan()))["rules"]:
        Draft7Validator.check_schema(rule["jsonSchema"])
        assert (rule["type"], rule["version"]) == ("TRACK", 1)
