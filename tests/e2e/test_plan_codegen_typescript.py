"""The TypeScript generated from a tracking plan compiles with ``tsc --strict`` and runs: every
function of a rich plan (every type, enums of each kind, awkward names, texts full of comment
ends and quotes) is called with a recording client under node, which must see each event's
exact name and properties. Calls that break the plan (a missing required property, a value
outside an enum, an unknown property) must not compile, so the types are the plan's, not
``any``.

typescript comes from tests/e2e/node_modules (npm ci, see harness.npm_file): without npm the
test is skipped, or fails with E2E_REQUIRED=1. The mypy half is in tests/plan/test_codegen.py.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

from catalog.tracking_plan.codegen import generate
from tests.e2e.harness import node_tool, skip_or_fail
from tests.plan.codegen_plans import RICH_PLAN

TSC_STRICT = ["--strict", "--target", "es2020", "--lib", "es2020,dom"]

USE_TS = """\
import * as plan from "./tracking-plan";

const calls: unknown[] = [];
const analytics = {
  track(
    event: string,
    properties?: Record<string, unknown>,
    options?: Record<string, unknown>,
  ): number {
    calls.push([event, properties ?? null, options ?? null]);
    return calls.length;
  },
};

const count: number = plan.orderCompleted(
  analytics,
  {
    text: "t",
    amount: 1.5,
    payload: { a: 1 },
    items: [1, "x"],
    at: "2024-05-01T12:30:00Z",
    nothing: null,
    anything: [true],
    plan: 'say "hi"',
    level: -3,
    ratio: 0.5,
    answer: true,
    maybe: null,
    shape: {},
    huge: 7,
    open: "anything",
    email: "someone@example.com",
    count: 2,
  },
  { context: { ip: "0.0.0.0" } },
);
plan.orderCompleted2(analytics, {
  "order id": "o",
  "2fa": true,
  class: "c",
  str: 3,
  "🎉": "x",
  'quo"te\\\\': "q",
  "*/": "c",
});
plan.orderCompleted3(analytics, { type: "t", default: "d" });
plan.class_(analytics);
plan.default_(analytics);
plan.delete_(analytics);
plan.import_(analytics);
plan.type_(analytics);
plan.list(analytics);
plan.datetime(analytics);
plan.event2FaEnabled(analytics);
plan.event(analytics);
plan.event2(analytics, {});
plan.cafeVisited(analytics);
plan.heSaidHi(analytics);
plan.planChosen(analytics, { plan: "pro", seats: 5, annual: true });
plan.onlyOptional(analytics);
plan.onlyOptional(analytics, { note: "n" });
console.log(JSON.stringify({ count, calls }));

// @segment/analytics-next's `track`, as its types declare it: the functions return its Promise.
type Callback = (context: unknown) => Promise<unknown> | unknown;
type SegmentEvent = { event?: string; properties?: Record<string, any> };
type DispatchedEvent = { event: SegmentEvent };
type Options = { integrations?: Record<string, unknown>; anonymousId?: string; [key: string]: any };
type EventParams = [
  string | SegmentEvent,
  (Record<string, any> | Callback)?,
  (Options | Callback)?,
  Callback?,
];
interface AnalyticsBrowser {
  track(...args: EventParams): Promise<DispatchedEvent>;
}
export function sendWithAnalyticsNext(browser: AnalyticsBrowser): Promise<DispatchedEvent> {
  return plan.planChosen(browser, { plan: "free" }, { anonymousId: "a" });
}
"""

BAD_TS = """\
import * as plan from "./tracking-plan";

const analytics = { track: (event: string) => event };

plan.orderCompleted3(analytics, { type: "t" }); // error: "default" is required
plan.planChosen(analytics, { plan: "gold" }); // error: not in the enum
plan.planChosen(analytics, { plan: "pro", seats: 3 }); // error: not in the enum
plan.planChosen(analytics, { plan: "pro", annual: false }); // error: not in the enum
plan.planChosen(analytics, { plan: "pro", colour: "red" }); // error: no such property
plan.planChosen(analytics); // error: the properties are required
plan.orderCompleted3(analytics, { type: 1, default: "d" }); // error: not a string
plan.orderCompleted2(analytics, { "order id": "o", "2fa": 1, class: "c", str: 3 }); // error
plan.class_(analytics, { extra: 1 }); // error: the event has no properties
plan.onlyOptional({}, {}); // error: not a client
const wrong: number = plan.onlyOptional(analytics); // error: track returns a string
"""


def run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_generated_typescript_compiles_strict_runs_and_refuses_bad_calls(tmp_path: Path):
    tsc = node_tool("tsc")
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is missing: install Node.js (e.g. apt-get install nodejs)")
        return  # unreachable: skip_or_fail raises
    (tmp_path / "tracking-plan.ts").write_text(generate("typescript", RICH_PLAN), "utf-8")
    (tmp_path / "use.ts").write_text(USE_TS, encoding="utf-8")
    (tmp_path / "bad.ts").write_text(BAD_TS, encoding="utf-8")

    emitted = run([tsc, *TSC_STRICT, "--module", "commonjs", "--outDir", "out", "use.ts"], tmp_path)
    assert emitted.returncode == 0, emitted.stdout + emitted.stderr
    ran = run([node, "out/use.js"], tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    seen = json.loads(ran.stdout)
    assert seen["count"] == 1  # what the client's track returned
    events = [call[0] for call in seen["calls"]]
    assert events == [event.name for event in RICH_PLAN.events] + ["Only Optional"]
    assert seen["calls"][0][2] == {"context": {"ip": "0.0.0.0"}}
    assert seen["calls"][1][1] == {
        "order id": "o",
        "2fa": True,
        "class": "c",
        "str": 3,
        "🎉": "x",
        'quo"te\\': "q",
        "*/": "c",
    }
    assert seen["calls"][2] == ["OrderCompleted", {"type": "t", "default": "d"}, None]
    assert seen["calls"][3] == ["class", {}, None]  # no properties: an empty object is sent

    refused = run([tsc, *TSC_STRICT, "--noEmit", "bad.ts"], tmp_path)
    errors = re.findall(r"^(\S+\.ts)\((\d+),\d+\): error", refused.stdout, re.M)
    expected = [
        ("bad.ts", str(number))
        for number, line in enumerate(BAD_TS.splitlines(), start=1)
        if "// error" in line
    ]
    assert sorted(set(errors), key=lambda e: (e[0], int(e[1]))) == expected, refused.stdout
