# The RudderStack format's YAML writer: what it writes reads back equal, and it is what PyYAML
# with libyaml (CSafeDumper) writes, byte for byte.
from __future__ import annotations

import random

import pytest
import yaml

from catalog.tracking_plan.formats import rudderstack
from catalog.tracking_plan.formats._yaml import dump_all
from catalog.tracking_plan.model import Plan
from tests.plan.codegen_plans import RICH_PLAN
from tests.plan.plans import rich_plan, rich_plan_in_integrations

AWKWARD = [
    "",
    " leading",
    "trailing ",
    "  both  ",
    "a: b",
    "a:",
    ":",
    "a:b",
    "# comment",
    "a #b",
    "a#b",
    "-",
    "- item",
    "-1",
    "--- document",
    "...",
    "? key",
    "yes",
    "no",
    "on",
    "off",
    "Yes",
    "TRUE",
    "null",
    "Null",
    "~",
    "1e3",
    "0x1F",
    "0o17",
    "1_000",
    "12",
    "1.5",
    ".5",
    ".inf",
    "-.inf",
    ".nan",
    "2024-01-31",
    "2024-01-31T10:00:00Z",
    "2024-01-31 10:00:00",
    "12:30:00",
    "<<",
    "=",
    "first line\nsecond line",
    "ends with a break\n",
    "\nstarts with a break",
    "space before \nbreak",
    "break\n then space",
    "windows\r\nline",
    "tab\there",
    "café",
    "日本語のテキスト",
    "emoji 😀 here",
    "\ufeffbom",
    "next line\x85",
    "line\u2028separator",
    "bell\x07 escape\x1b",
    "it's",
    'say "hi"',
    "back\\slash",
    "[list]",
    "{map}",
    "a, b",
    "!tag",
    "&anchor",
    "*alias",
    "|",
    ">",
    "%",
    "@",
    "`",
    "non\xa0breaking",
    "k" * 200,
    "word " * 40,
    "a long sentence that goes on and on: " * 5,
    "x" * 90 + " " + "y" * 10,
]


def _documents_with(value: str) -> list:
    return [
        {"key": value, value or "empty": [value, [value], {value: value}], "n": [1, 2.5, None]},
        {"deep": {"deeper": {"deepest": [{"k": value}]}}, "empty": {}, "none": []},
    ]


def _reference(documents: list) -> str:
    dumper = getattr(yaml, "CSafeDumper", None)
    if dumper is None:
        pytest.skip("PyYAML without libyaml")
    return yaml.dump_all(documents, Dumper=dumper, sort_keys=False, allow_unicode=True)


@pytest.mark.parametrize("value", AWKWARD)
def test_an_awkward_string_reads_back_equal(value):
    documents = _documents_with(value)
    assert list(yaml.safe_load_all(dump_all(documents))) == documents


@pytest.mark.parametrize("value", AWKWARD)
def test_an_awkward_string_is_written_as_libyaml_writes_it(value):
    documents = _documents_with(value)
    assert dump_all(documents) == _reference(documents)


def test_numbers_and_constants_are_written_as_pyyaml_writes_them():
    documents = [{"values": [0, -7, 10**30, 1.5, -0.0, 1e300, 1e-7, 3.0, True, False, None]}]
    assert dump_all(documents) == _reference(documents)
    assert list(yaml.safe_load_all(dump_all(documents))) == documents


@pytest.mark.parametrize(
    "plan",
    [rich_plan(), Plan(events=rich_plan_in_integrations().events[:2]), RICH_PLAN],
    ids=["vendors", "integrations", "codegen"],
)
def test_a_rich_plan_is_written_as_pyyaml_wrote_it_and_reads_back(plan):
    written = rudderstack.write(plan).decode()
    documents = list(yaml.safe_load_all(written))
    assert dump_all(documents) == written
    assert _reference(documents) == written


def test_random_values_are_written_as_libyaml_writes_them():
    rng = random.Random(7)
    pieces = ["a", " ", "  ", "'", '"', "\n", "é", "😀", ":", "#", "-", "\t", "yes", "1", "x" * 43]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, rng.choice([3, 30, 120]))))

    def value(depth: int = 0):
        roll = rng.random()
        if depth < 4 and roll < 0.2:
            return {text(): value(depth + 1) for _ in range(rng.randint(0, 4))}
        if depth < 4 and roll < 0.4:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return text()

    for _ in range(300):
        documents = [{"k": value()}, {text(): value()}]
        assert dump_all(documents) == _reference(documents)
        assert list(yaml.safe_load_all(dump_all(documents))) == documents
