"""Mangled copies of the example plans: each is read, or refused with PlanFileError, never
anything else; and what is read survives the round trip."""

import random
from pathlib import Path

import pytest

from catalog.tracking_plan.formats import json_schema, rudderstack, segment, spreadsheet
from catalog.tracking_plan.model import PlanFileError
from tests.plan.plans import without_positions

FIXTURES = Path(__file__).parent.parent / "fixtures" / "plans"
SNIPPETS = [b'"', b",", b"[", b"]", b"{", b"}", b"\n", b"|", b"'", b"=", b"-", b"@", b"\t"]
SNIPPETS += [b"\xff", b"null", b"1e999", b"true", b":", b"\\", b" ", b"99999999999999999999"]


def _mangled(data: bytes, rng: random.Random) -> bytes:
    mangled = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        at = rng.randrange(len(mangled))
        if rng.random() < 0.3:
            del mangled[at : at + rng.randint(1, 20)]
        else:
            mangled[at:at] = rng.choice(SNIPPETS)
    return bytes(mangled)


@pytest.mark.parametrize(
    ("module", "fixture"),
    [
        (spreadsheet, "ecommerce.csv"),
        (json_schema, "ecommerce.schema.json"),
        (segment, "segment-rules.json"),
        (rudderstack, "rudderstack.yaml"),
    ],
)
def test_mangled_files_are_read_or_refused_and_what_is_read_round_trips(module, fixture):
    rng = random.Random(fixture)
    original = (FIXTURES / fixture).read_bytes()
    read = 0
    for _ in range(400):
        try:
            plan = module.read(_mangled(original, rng))
        except PlanFileError as error:
            assert error.problems and all(p.message for p in error.problems)
            # Segment and RudderStack place a problem of the whole file at "".
            assert all(p.position for p in error.problems) or module in (segment, rudderstack)
            continue
        read += 1
        written = module.write(plan)
        again = module.read(written)
        assert without_positions(again) == without_positions(plan)
        assert module.write(again) == written
    assert read > 20  # the mangling leaves some files readable, so both paths are exercised
