# The "rudderstack" format: the YAML specs of rudder-cli.
#
# tests/fixtures/plans/rudderstack.yaml follows RudderStack's "Data Catalog and Tracking Plans
# YAML Reference" (rudderstack.com/docs/dev-tools/rudder-cli/yaml-data-catalog-and-tracking-plans/,
# spec version rudder/v1) and the rudder-cli guides "Manage Events / Properties / Custom Types"
# and "Create Tracking Plans using Rudder CLI". The 0.1 example below follows the archived
# v0.1 pages of the same reference (kind: tp, $ref paths, propConfig).
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from catalog.tracking_plan.formats import rudderstack
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError, PlanProblem, PlanProperty
from tests.plan.plans import rich_plan, without_positions

FIXTURE = Path(__file__).parent.parent / "fixtures" / "plans" / "rudderstack.yaml"


def _yaml(text: str) -> bytes:
    return textwrap.dedent(text).encode()


def _problems(data: bytes) -> list[tuple[str, str]]:
    with pytest.raises(PlanFileError) as caught:
        rudderstack.read(data)
    return [(problem.position, problem.message) for problem in caught.value.problems]


CATALOG = textwrap.dedent(
    """\
    version: rudder/v1
    kind: properties
    metadata:
      name: props
    spec:
      properties:
        - id: sku
          name: sku
          type: string
    ---
    version: rudder/v1
    kind: events
    metadata:
      name: events
    spec:
      events:
        - id: viewed
          name: Product Viewed
          event_type: track
    """
)


def _with_plan(rules: str, catalog: str = CATALOG) -> bytes:
    """`catalog`'s documents, then a tracking plan of `rules` (a YAML list)."""
    plan = (
        "---\nversion: rudder/v1\nkind: tracking-plan\nmetadata:\n  name: tp\n"
        "spec:\n  id: tp\n  display_name: TP\n  rules:\n"
    )
    return (
        textwrap.dedent(catalog) + plan + textwrap.indent(textwrap.dedent(rules), "    ")
    ).encode()


def test_a_rich_plan_goes_out_and_comes_back_as_far_as_rudderstack_carries_it():
    plan = rich_plan()
    plan.name = "Web — main"
    written = rudderstack.write(plan)
    expected = rich_plan()
    expected.name = "Web — main"
    # A RudderStack event has a category or none: "as it is" (None) is written as none.
    expected.events[2].category = ""
    assert without_positions(rudderstack.read(written)) == expected
    assert rudderstack.write(rudderstack.read(written)) == written


def test_properties_of_one_name_are_shared_when_equal_and_split_when_not():
    plan = Plan(
        name="Shop",
        events=[
            PlanEvent(
                name="Order Completed",
                category="Checkout",
                description="Paid.",
                owners=["ann"],
                properties=[
                    PlanProperty(name="paid_at", type="datetime", required=False),
                    PlanProperty(
                        name="revenue",
                        type="number",
                        required=True,
                        allowed_values=[1, 2.5],
                        pii=False,
                    ),
                ],
            ),
            PlanEvent(
                name="Order Refunded",
                category="Checkout",
                properties=[
                    PlanProperty(
                        name="revenue",
                        type="number",
                        required=False,
                        allowed_values=[1, 2.5],
                        pii=False,
                    ),
                ],
            ),
            PlanEvent(
                name="Subscription Paid",
                properties=[PlanProperty(name="revenue", type="integer", required=True)],
            ),
        ],
    )
    written = rudderstack.write(plan)
    assert written.decode() == textwrap.dedent(
        """\
        version: rudder/v1
        kind: properties
        metadata:
          name: properties
          x-event-catalog:
            revenue:
              pii: false
        spec:
          properties:
          - id: paid_at
            name: paid_at
            type: string
            config:
              format: date-time
          - id: revenue
            name: revenue
            type: number
            config:
              enum:
              - 1
              - 2.5
          - id: revenue_2
            name: revenue
            type: integer
        ---
        version: rudder/v1
        kind: categories
        metadata:
          name: categories
        spec:
          categories:
          - id: checkout
            name: Checkout
        ---
        version: rudder/v1
        kind: events
        metadata:
          name: events
          x-event-catalog:
            order_completed:
              owners:
              - ann
        spec:
          events:
          - id: order_completed
            name: Order Completed
            event_type: track
            description: Paid.
            category: '#category:checkout'
          - id: order_refunded
            name: Order Refunded
            event_type: track
            category: '#category:checkout'
          - id: subscription_paid
            name: Subscription Paid
            event_type: track
        ---
        version: rudder/v1
        kind: tracking-plan
        metadata:
          name: shop
        spec:
          id: shop
          display_name: Shop
          rules:
          - type: event_rule
            id: order_completed_rule
            event: '#event:order_completed'
            properties:
            - property: '#property:paid_at'
              required: false
            - property: '#property:revenue'
              required: true
          - type: event_rule
            id: order_refunded_rule
            event: '#event:order_refunded'
            properties:
            - property: '#property:revenue'
              required: false
          - type: event_rule
            id: subscription_paid_rule
            event: '#event:subscription_paid'
            properties:
            - property: '#property:revenue_2'
              required: true
        """
    )
    assert without_positions(rudderstack.read(written)) == Plan(
        name="Shop",
        events=[
            PlanEvent(**{**vars(event), "category": event.category or ""}) for event in plan.events
        ],
    )


def test_ids_made_from_names_never_collide():
    plan = Plan(
        name="",
        events=[
            PlanEvent(name="Sign up", category="A b"),
            PlanEvent(name="sign_up", category="a-b"),
            PlanEvent(name="!!!"),
            PlanEvent(name="Ümlaut événement"),
            PlanEvent(name="注文"),
        ],
    )
    text = rudderstack.write(plan).decode()
    assert "- id: sign_up\n" in text
    assert "- id: sign_up_2\n" in text
    assert "- id: event\n" in text
    assert "- id: umlaut_evenement\n" in text
    assert "- id: event_2\n" in text
    assert "- id: a_b\n" in text
    assert "- id: a_b_2\n" in text
    assert "  id: tracking_plan\n" in text
    assert [e.name for e in rudderstack.read(text.encode()).events] == [
        "Sign up",
        "sign_up",
        "!!!",
        "Ümlaut événement",
        "注文",
    ]


def test_a_rudder_cli_project_imports_its_tracking_plans_track_events():
    plan, skipped = rudderstack.read_with_skipped(FIXTURE.read_bytes())
    assert plan.name == "Product Tracking Plan"
    assert [(e.name, e.category, e.description, e.position) for e in plan.events] == [
        (
            "Product Viewed",
            "Browsing",
            "Triggered when a user views a product",
            "document 1, /spec/rules/0",
        ),
        ("User Signed Up", "Account", None, "document 1, /spec/rules/1"),
    ]
    viewed, signed_up = plan.events
    assert viewed.properties == [
        PlanProperty(
            name="sku",
            type="string",
            required=True,
            description="The product's stock keeping unit",
            position="document 1, /spec/rules/0/properties/0",
        ),
        PlanProperty(
            name="price",
            type="number",
            required=False,
            description="Product price in USD",
            position="document 1, /spec/rules/0/properties/1",
        ),
        PlanProperty(
            name="viewed_at",
            type="datetime",
            required=False,
            position="document 1, /spec/rules/0/properties/2",
        ),
        PlanProperty(
            name="tags",
            type="array",
            required=False,
            position="document 1, /spec/rules/0/properties/3",
        ),
    ]
    assert [(p.name, p.type, p.required, p.allowed_values) for p in signed_up.properties] == [
        ("email", None, True, None),  # a custom type: RudderStack's rules, no catalog type
        ("plan", "string", True, ["free", "pro", "enterprise"]),
        ("address", "object", False, None),
    ]
    assert (viewed.owners, viewed.pii, viewed.integration) == (None, None, None)
    assert skipped == [
        PlanProblem(
            "document 1, /spec/rules/2",
            "The rule of an event of type identify was skipped: only track events are events "
            "of the catalog.",
        ),
        PlanProblem(
            "document 5, /spec/events/3",
            'Event "Cart Viewed" is in no rule of the tracking plan; skipped.',
        ),
    ]


def test_rudder_0_1_specs_are_read_too():
    data = _yaml(
        """\
        version: "rudder/v0.1"
        kind: "tp"
        metadata:
          name: "api_tracking"
        spec:
          id: "api_tracking"
          display_name: "API Tracking"
          rules:
            - type: "event_rule"
              id: "login_rule"
              event:
                $ref: "#/events/api_events/login"
                allow_unplanned: false
              properties:
                - $ref: "#/properties/api_props/api_method"
                  required: true
                - $ref: "#/properties/api_props/status"
        ---
        version: rudder/0.1
        kind: properties
        metadata:
          name: api_props
        spec:
          properties:
            - id: api_method
              name: "API Method"
              type: "string"
              propConfig:
                enum: ["GET", "POST"]
            - id: status
              name: "Status"
              type: "integer,null"
        ---
        version: rudder/0.1
        kind: events
        metadata:
          name: api_events
        spec:
          events:
            - id: login
              name: "Login"
              event_type: "track"
              category: "#/categories/app_categories/user_actions"
        ---
        version: rudder/0.1
        kind: categories
        metadata:
          name: app_categories
        spec:
          categories:
            - id: user_actions
              name: "User Actions"
        """
    )
    plan = without_positions(rudderstack.read(data))
    assert plan == Plan(
        name="API Tracking",
        events=[
            PlanEvent(
                name="Login",
                category="User Actions",
                properties=[
                    PlanProperty(
                        name="API Method",
                        type="string",
                        required=True,
                        allowed_values=["GET", "POST"],
                    ),
                    PlanProperty(name="Status", type="integer", required=False),
                ],
            )
        ],
    )


def test_malformed_documents_are_told_with_their_number():
    data = _with_plan(
        "[]",
        CATALOG
        + textwrap.dedent(
            """\
    ---
    version: rudder/v1
    kind: properties
    metadata:
      name: more
    spec:
      properties:
        - id: sku
          name: other
        - name: no id
    ---
    version: rudder/v2
    kind: events
    ---
    version: rudder/v1
    kind: things
    ---
    - a list
    ---
    version: rudder/v1
    kind: events
    metadata: {}
    spec:
      event: []
    """
        ),
    )
    assert _problems(data) == [
        (
            "document 3, /spec/properties/0/id",
            'The id "sku" is also used at document 1, /spec/properties/0; ids are unique '
            "among the properties.",
        ),
        ("document 3, /spec/properties/1/id", "Each item needs an id (a string)."),
        (
            "document 4, /version",
            "The version must be rudder/v1 (or rudder/0.1 or rudder/v0.1), not 'rudder/v2'.",
        ),
        (
            "document 5, /kind",
            "Unknown kind 'things': expected one of properties, categories, events, "
            "tracking-plan, tp, custom-types.",
        ),
        (
            "document 6",
            NOT_A_MAPPING + "not a list.",
        ),
        (
            "document 7, /spec/events",
            "A document of kind events lists its events under spec.events.",
        ),
    ]


def test_wrong_references_types_and_names_are_told_with_their_document_and_path():
    catalog = """\
    version: rudder/v1
    kind: properties
    metadata:
      name: props
    spec:
      properties:
        - id: sku
          name: sku
          type: strin
        - id: price
          name: price
          type: number
        - id: cost
          name: price
          type: integer
    ---
    version: rudder/v1
    kind: events
    metadata:
      name: events
    spec:
      events:
        - id: viewed
          name: Product Viewed
          event_type: track
          category: "#category:nowhere"
        - id: bought
          name: ""
          event_type: track
        - id: odd
          name: Odd
          event_type: sneeze
    """
    data = _with_plan(
        """\
        - type: event_rule
          id: r1
          event: "#event:viewed"
          properties:
            - property: "#property:sku"
              required: "yes"
            - property: "#property:missing"
            - property: "#event:viewed"
            - property: "#property:price"
            - property: "#property:cost"
        - type: event_rule
          id: r2
          event: "#event:viewed"
        - type: event_rule
          id: r3
          event: "#event:bought"
        - type: event_rule
          id: r4
          event: "#event:odd"
        - type: event_rule
          id: r5
          event: 12
        """,
        catalog,
    )
    assert _problems(data) == [
        (
            "document 2, /spec/events/0/category",
            '"#category:nowhere" points to no category of the file.',
        ),
        (
            "document 1, /spec/properties/0/type",
            "Unknown type 'strin': expected one of string, number, integer, boolean, object, "
            'array, null or a custom type ("#custom-type:<id>").',
        ),
        (
            "document 3, /spec/rules/0/properties/0/required",
            "required must be true or false, not a string.",
        ),
        (
            "document 3, /spec/rules/0/properties/1",
            '"#property:missing" points to no property of the file.',
        ),
        (
            "document 3, /spec/rules/0/properties/2",
            '"#event:viewed" is not a reference to a property: expected "#property:<id>".',
        ),
        (
            "document 3, /spec/rules/0/properties/4",
            'Property "price" of event "Product Viewed" is also at '
            "document 3, /spec/rules/0/properties/3.",
        ),
        (
            "document 3, /spec/rules/1/event",
            "The event of this rule also has the rule at document 3, /spec/rules/0.",
        ),
        ("document 2, /spec/events/1/name", "The event name is empty."),
        (
            "document 2, /spec/events/2/event_type",
            "event_type must be one of track, identify, page, screen, group, not 'sneeze'.",
        ),
        (
            "document 3, /spec/rules/4/event",
            'Expected a reference like "#event:<id>", not a number.',
        ),
    ]


def test_a_file_without_one_tracking_plan_is_refused():
    assert _problems(_yaml(CATALOG)) == [
        (
            "",
            "No tracking plan: expected a document of kind tracking-plan whose rules "
            "reference the events and properties.",
        )
    ]
    two = _with_plan("[]") + b"\n---\n" + _with_plan("[]").split(b"---\n")[-1]
    assert _problems(two) == [
        (
            "document 4",
            "One tracking plan per file; found one at document 3 and document 4.",
        )
    ]


def test_two_events_of_one_name_in_the_plan_are_refused():
    catalog = CATALOG + "    - id: viewed_again\n      name: Product Viewed\n"
    catalog += "      event_type: track\n"
    data = _with_plan(
        """\
        - event: "#event:viewed"
        - event: "#event:viewed_again"
        """,
        catalog,
    )
    assert _problems(data) == [
        (
            "document 3, /spec/rules/1",
            'Event "Product Viewed" is also at document 3, /spec/rules/0; each event appears '
            "once in a tracking plan.",
        )
    ]


NOT_A_MAPPING = "Each document must be a mapping with version, kind, metadata and spec, "

ALIAS_BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            ALIAS_BOMB,
            ("line 2, column 8", "YAML aliases (*name) are not accepted: write the value out."),
        ),
        (b"", ("byte 0", "The file is empty.")),
        (
            b"kind: \xc3\x28",
            ("byte 6", "The file is not UTF-8 text; save it as UTF-8 and try again."),
        ),
        (b"kind: a\x00b", ("byte 7", "The file contains a NUL character.")),
        (
            b"kind: [unclosed",
            (
                "line 2, column 1",
                "Not valid YAML: did not find expected ',' or ']'.",
            ),
        ),
        (
            b"a: !!python/object:os.system {}",
            (
                "line 1, column 4",
                "Not valid YAML: the tag 'tag:yaml.org,2002:python/object:os.system' is not "
                "accepted.",
            ),
        ),
        (
            b"[" * 10_000 + b"]" * 10_000,
            (
                "document 1",
                NOT_A_MAPPING + "not a list.",
            ),
        ),
        (
            b"just text",
            (
                "document 1",
                NOT_A_MAPPING + "not a string.",
            ),
        ),
    ],
)
def test_ugly_files_are_refused_with_a_reason(data, problem):
    assert _problems(data) == [problem]


def test_a_huge_number_is_refused():
    assert _problems(b"a: " + b"9" * 5000) == [
        ("line 1, column 4", "Not a usable value: " + "9" * 40 + " is too large.")
    ]


def test_wrong_extra_fields_are_told_where_they_are():
    catalog = CATALOG.replace(
        "  name: props\n",
        "  name: props\n  x-event-catalog:\n    sku:\n      pii: maybe\n      owners: ann\n",
    ).replace("  name: events\n", "  name: events\n  x-event-catalog:\n    viewed: [1]\n")
    data = _with_plan('- event: "#event:viewed"\n  properties:\n    - property: "#property:sku"')
    assert rudderstack.read(data).events[0].properties[0].pii is None
    assert _problems(
        _with_plan(
            '- event: "#event:viewed"\n  properties:\n    - property: "#property:sku"', catalog
        )
    ) == [
        (
            "document 2, /metadata/x-event-catalog/viewed",
            "The extra fields of an item must be a mapping.",
        ),
        (
            "document 1, /metadata/x-event-catalog/sku/pii",
            "pii must be true or false, not a string.",
        ),
        (
            "document 1, /metadata/x-event-catalog/sku/owners",
            "owners must be a list of non-empty strings.",
        ),
    ]


def test_collections_as_keys_and_odd_tags_are_refused():
    assert _problems(b"? [a]\n: b\n") == [
        ("line 1, column 3", "A mapping key must be a plain value.")
    ]
    assert _problems(b"a: !!set {b}\n") == [
        ("line 1, column 4", "Not valid YAML: the tag 'tag:yaml.org,2002:set' is not accepted.")
    ]


def test_a_byte_order_mark_dates_and_big_scalars_are_fine():
    big = "x" * 3_000_000
    data = b"\xef\xbb\xbf" + _with_plan(
        """\
        - event: "#event:viewed"
          properties:
            - property: "#property:sku"
        """,
        CATALOG.replace(
            "      type: string\n",
            "      type: string\n"
            "      config:\n        enum: [2024-01-01, yes, 1.5]\n"
            f"      description: {big}\n",
        ),
    )
    [event] = rudderstack.read(data).events
    [sku] = event.properties
    assert sku.allowed_values == ["2024-01-01", True, 1.5]
    assert sku.description == big


def test_the_same_event_name_in_two_integrations_cannot_be_one_rudderstack_plan():
    plan = Plan(
        events=[PlanEvent(name="A", integration="web"), PlanEvent(name="A", integration="ios")]
    )
    with pytest.raises(ValueError, match="export one integration at a time"):
        rudderstack.write(plan)
