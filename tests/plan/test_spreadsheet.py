"""The tracking plan as CSV: what a steward's spreadsheet reads and what an export looks like."""

from pathlib import Path

import pytest

from catalog.tracking_plan.formats import spreadsheet
from catalog.tracking_plan.model import Plan, PlanEvent, PlanFileError, PlanProperty
from tests.plan.plans import changed, rich_plan_in_integrations, without_positions

FIXTURES = Path(__file__).parent.parent / "fixtures" / "plans"
HEADER = (
    "integration,category,event,event description,property,type,required,allowed values,pii,"
    "description,owners,tags"
)


def _csv(*lines: str) -> bytes:
    return "\r\n".join([HEADER, *lines, ""]).encode()


def _problems(data: bytes) -> list[tuple[str, str]]:
    with pytest.raises(PlanFileError) as caught:
        spreadsheet.read(data)
    return [(p.position, p.message) for p in caught.value.problems]


def _as_the_csv_carries(plan: Plan) -> Plan:
    """`plan` less what a CSV has no column for; its None texts and lists are empty cells."""
    not_in_a_csv: dict = {"definition": None, "verified": None, "published": None}
    return changed(
        plan,
        lambda event: (
            not_in_a_csv
            | {
                "pii": None,
                "category": event.category or "",
                "description": event.description or "",
                "owners": event.owners or [],
                "tags": event.tags or [],
            }
        ),
        lambda prop: (
            not_in_a_csv
            | {
                "examples": None,
                "owners": None,
                "tags": None,
                "description": prop.description or "",
                "allowed_values": prop.allowed_values or [],
            }
        ),
    )


def test_a_small_plan_is_written_one_row_per_property():
    plan = Plan(
        events=[
            PlanEvent(
                name="Order Completed",
                integration="web",
                category="Checkout",
                description="Paid, at last",
                owners=["alice", "bob"],
                tags=["revenue"],
                properties=[
                    PlanProperty(
                        name="currency",
                        type="string",
                        required=True,
                        allowed_values=["EUR", "USD"],
                        pii=False,
                        description='ISO "4217"',
                    ),
                    PlanProperty(
                        name="revenue", type="number", required=False, allowed_values=[-1, 9.5]
                    ),
                ],
            ),
            PlanEvent(name="Signed Out", category="", description=""),
        ]
    )

    assert (
        spreadsheet.write(plan)
        == (
            "\ufeff"
            f"{HEADER}\r\n"
            'web,Checkout,Order Completed,"Paid, at last",currency,string,true,EUR|USD,false,'
            '"ISO ""4217""",alice|bob,revenue\r\n'
            'web,Checkout,Order Completed,"Paid, at last",revenue,number,false,\'-1|9.5,,,'
            "alice|bob,revenue\r\n"
            ",,Signed Out,,,,,,,,,\r\n"
        ).encode()
    )


def test_values_that_do_not_survive_pipes_are_written_as_a_json_array():
    plan = Plan(
        events=[
            PlanEvent(
                name="e",
                properties=[
                    PlanProperty(name="a", type="string", allowed_values=["a|b", "c"]),
                    PlanProperty(name="b", type=None, allowed_values=["1", 1]),
                    PlanProperty(name="c", type="string", allowed_values=[""]),
                ],
            )
        ]
    )

    rows = spreadsheet.write(plan).decode("utf-8-sig").splitlines()[1:]

    assert [row.split(",", 7)[7] for row in rows] == [
        '"[""a|b"",""c""]",,,,',
        '"[""1"",1]",,,,',
        '"[""""]",,,,',
    ]


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused_and_read_back():
    plan = Plan(
        events=[
            PlanEvent(
                name='=HYPERLINK("http://evil")',
                integration="+web",
                category="@ops",
                description="-1",
                owners=["=cmd"],
                tags=["-x", "y"],
                properties=[PlanProperty(name="'=p", description="'- already quoted")],
            )
        ]
    )

    data = spreadsheet.write(plan)

    assert data.decode("utf-8-sig").splitlines()[1] == (
        "'+web,'@ops,\"'=HYPERLINK(\"\"http://evil\"\")\",'-1,''=p,,,,,"
        "''- already quoted,'=cmd,'-x|y"
    )
    assert without_positions(spreadsheet.read(data)) == _as_the_csv_carries(plan)


def test_a_rich_plan_survives_the_round_trip():
    plan = rich_plan_in_integrations()

    data = spreadsheet.write(plan)
    again = spreadsheet.read(data)

    assert without_positions(again) == _as_the_csv_carries(plan)
    assert spreadsheet.write(again) == data
    assert [type(v) for v in again.events[0].properties[1].allowed_values] == [
        int,
        float,
        int,
        float,
        float,
    ]


def test_positions_are_spreadsheet_rows():
    plan = spreadsheet.read(_csv(",,a,,x,,,,,,,", "", ",,a,,y,,,,,,,", ",,b,,,,,,,,,"))

    assert [e.position for e in plan.events] == ["row 2", "row 5"]
    assert [p.position for p in plan.events[0].properties] == ["row 2", "row 4"]


def test_the_example_e_commerce_plan_reads():
    plan = spreadsheet.read((FIXTURES / "ecommerce.csv").read_bytes())

    assert [(e.integration, e.category, e.name, e.position) for e in plan.events] == [
        ("web", "Browsing", "Product Viewed", "row 2"),
        ("web", "Checkout", "Order Completed", "row 5"),
        ("web", "Account", "Signed Out", "row 13"),
        ("ios", "Browsing", "Product Viewed", "row 14"),
    ]
    order = plan.events[1]
    assert order.owners == ["alice"]
    assert order.tags == ["revenue", "core"]
    assert [(p.name, p.type, p.required, p.pii) for p in order.properties] == [
        ("order_id", "string", True, False),
        ("revenue", "number", True, False),
        ("currency", "string", True, False),
        ("shipping_tier", "integer", False, False),
        ("products", "array", True, False),
        ("email", "string", False, True),
        ("coupon", "string", None, False),
    ]
    assert order.properties[2].allowed_values == ["EUR", "USD", "GBP"]
    assert order.properties[3].allowed_values == [1, 2, 3]
    assert order.properties[5].description == (
        "Where the receipt went.\nHashed before it leaves the server."
    )
    assert plan.events[2].properties == []
    assert plan.events[0].definition is None and plan.events[0].verified is None


def test_headers_are_trimmed_any_case_any_order_and_integration_may_be_left_out():
    data = (
        b" TAGS ,Owners,Description,PII,Allowed values,Required,Type,Property,"
        b"Event Description,Event,Category\n"
        b"t,o,d,Yes,,NO,STRING,p,,e,c\n"
    )

    [event] = spreadsheet.read(data).events

    assert (event.integration, event.category, event.name, event.tags, event.owners) == (
        None,
        "c",
        "e",
        ["t"],
        ["o"],
    )
    assert event.properties[0] == PlanProperty(
        name="p",
        type="string",
        required=False,
        allowed_values=[],
        pii=True,
        description="d",
        position="row 2",
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("true", True), ("Yes", True), ("1", True), ("FALSE", False), ("no", False), ("0", False)],
)
def test_booleans_read_true_false_yes_no_one_zero(cell, expected):
    [event] = spreadsheet.read(_csv(f",,e,,p,,{cell},,{cell},,,")).events

    assert (event.properties[0].required, event.properties[0].pii) == (expected, expected)


def test_an_empty_boolean_cell_says_nothing():
    [event] = spreadsheet.read(_csv(",,e,,p,,,,,,,")).events

    assert (event.properties[0].required, event.properties[0].pii) == (None, None)


def test_a_byte_order_mark_lf_line_ends_and_blank_rows_are_fine():
    data = ("\ufeff" + HEADER + '\n\n,,e,,"multi\nline",,,,,,,\n\n').encode()

    [event] = spreadsheet.read(data).events

    assert event.properties[0].name == "multi\nline"


def test_a_json_array_cell_is_read_typed():
    [event] = spreadsheet.read(
        _csv(',,e,,p,number,,"[1, 2.5]",,,,', ',,e,,q,,,"[""a|b"", null]",,,,')
    ).events

    assert [p.allowed_values for p in event.properties] == [[1, 2.5], ["a|b", None]]


def test_header_problems_name_the_columns():
    data = b"event,property,colour,type,type,\nx,y,z,,,\n"

    assert _problems(data) == [
        ("row 1", "Column 'type' appears twice in the header."),
        (
            "row 1",
            "Unknown columns 'colour', an unnamed column 6. The columns are: integration, "
            "category, event, event description, property, type, required, allowed values, "
            "pii, description, owners, tags.",
        ),
        (
            "row 1",
            "Missing columns: category, event description, required, allowed values, pii, "
            "description, owners, tags.",
        ),
    ]


def test_a_semicolon_separated_file_gets_a_hint():
    data = HEADER.replace(",", ";").encode() + b"\n"

    [(position, message), _missing] = _problems(data)

    assert position == "row 1"
    assert message.endswith(
        "This file seems to separate its columns with ';'; save it with commas."
    )


def test_every_row_problem_is_reported_with_its_row():
    data = _csv(
        ",,,,p,,,,,,,",
        ",,e,,p,text,maybe,,2,,,",
        ",,e,,q,number,,1|abc,,,,",
        ",,e,,r,integer,,1.5,,,,",
        ",,e,,s,integer,,99999999999999999999,,,,",
        ",,e,,t,number,,1e999,,,,",
        ",,e,,u,boolean,,true|perhaps,,,,",
        ',,e,,v,,,"[1,",,,,',
        ',,e,,w,string,,"[1]",,,,',
        ",,e,,,string,yes,,,,,",
        ",,e,,x,,,,,,,,extra",
        f",,{'n' * 256},,,,,,,,,",
        "web,c,f,first,,,,,,,o1,t",
        "web,d,f,second,,,,,,,o2,t",
        ",,e,,dup,,,,,,,",
        ",,e,,dup,,,,,,,",
    )

    assert _problems(data) == [
        ("row 2", "The event name is empty."),
        (
            "row 3",
            "Column 'type': 'text' is not a type; use one of string, number, integer, boolean, "
            "object, array, datetime, null or leave it empty.",
        ),
        (
            "row 3",
            "Column 'required': 'maybe' is not true or false (yes/no and 1/0 are fine too).",
        ),
        ("row 3", "Column 'pii': '2' is not true or false (yes/no and 1/0 are fine too)."),
        ("row 4", "Column 'allowed values': 'abc' is not a number (write 9.99 or 1e3)."),
        ("row 5", "Column 'allowed values': '1.5' is not a whole number."),
        (
            "row 6",
            "Column 'allowed values': '99999999999999999999' is too large; whole numbers must "
            "fit in 64 bits.",
        ),
        ("row 7", "Column 'allowed values': '1e999' is too large a number."),
        (
            "row 8",
            "Column 'allowed values': 'perhaps' is not true or false (yes/no and 1/0 are fine "
            "too).",
        ),
        (
            "row 9",
            "Column 'allowed values': a cell starting with '[' is read as a JSON array, and "
            "this one is not valid JSON.",
        ),
        ("row 10", "Column 'allowed values': 1 is not text."),
        (
            "row 11",
            "This row has no property but fills type, required: name the property, or leave "
            "those cells empty for an event without properties.",
        ),
        ("row 12", "This row has 13 cells but the header has 12."),
        ("row 13", "The event name is 256 characters long; at most 255 fit."),
        (
            "row 15",
            "Column 'category' differs from the event's first row (row 14); every row of event "
            "'f' must say the same category.",
        ),
        (
            "row 15",
            "Column 'event description' differs from the event's first row (row 14); every "
            "row of event 'f' must say the same event description.",
        ),
        (
            "row 15",
            "Column 'owners' differs from the event's first row (row 14); every row of event "
            "'f' must say the same owners.",
        ),
        ("row 17", "Property 'dup' of event 'e' is already defined at row 16."),
    ]


def test_broken_quoting_is_reported_at_its_row():
    data = _csv(",,a,,,,,,,,,", ',,b,"unterminated,,,,,,,,,')

    assert _problems(data) == [
        (
            "row 3",
            "This row is not well-formed CSV (unexpected end of data); check its quotes.",
        )
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", ("byte 0", "The file is empty.")),
        (b"\xef\xbb\xbf \r\n", ("byte 0", "The file is empty.")),
        (
            HEADER.encode() + b"\n,,caf\xe9,,,,,,,,,\n",
            (
                f"byte {len(HEADER) + 6}",
                "The file is not UTF-8 text; save it as UTF-8 and try again.",
            ),
        ),
        (
            HEADER.encode() + b"\n,,a\x00,,,,,,,,,\n",
            (f"byte {len(HEADER) + 4}", "The file contains a NUL character."),
        ),
    ],
)
def test_files_that_are_not_text_are_refused_with_the_byte(data, problem):
    assert _problems(data) == [problem]


def test_a_file_with_endless_problems_reports_the_first_hundred():
    data = _csv(*[f",,e,,p{i},nope,,,,,," for i in range(500)])

    problems = _problems(data)

    assert len(problems) == 100
    assert problems[-1][0] == "row 101"


def test_a_large_plan_is_read_and_written_in_linear_time():
    plan = Plan(
        events=[
            PlanEvent(
                name=f"Event {i}",
                integration="web",
                category="",
                description="",
                owners=[],
                tags=[],
                properties=[PlanProperty(name=f"p{j}", type="string") for j in range(10)],
            )
            for i in range(2000)
        ]
    )

    again = spreadsheet.read(spreadsheet.write(plan))

    assert len(again.events) == 2000
    assert again.events[-1].properties[-1].position == "row 20001"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''-x"])
def test_every_formula_start_gets_one_quote_that_the_reader_takes_off(text):
    plan = Plan(events=[PlanEvent(name="e", properties=[PlanProperty(name="p", description=text)])])

    data = spreadsheet.write(plan)

    assert f"'{text}" in data.decode("utf-8-sig")
    assert spreadsheet.read(data).events[0].properties[0].description == text


@pytest.mark.parametrize("text", ["'quoted", "'", "a=b", "1-2"])
def test_other_text_is_written_and_read_as_it_is(text):
    plan = Plan(events=[PlanEvent(name="e", properties=[PlanProperty(name="p", description=text)])])

    data = spreadsheet.write(plan)

    assert f"'{text}" not in data.decode("utf-8-sig")
    assert spreadsheet.read(data).events[0].properties[0].description == text


def test_a_quote_left_open_is_reported_where_the_cell_starts():
    data = _csv(',,a,"never closed,,,,,,,,,', *[",,b,,,,,,,,," for _ in range(20_000)])

    assert _problems(data) == [
        (
            "row 2",
            "A cell is longer than 131,072 characters, or a quote opened above it is never closed.",
        )
    ]
