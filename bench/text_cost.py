"""Benchmark of what a definition costs to show: Markdown rendering and line diffs, for the worst
inputs at the stored limit, next to a normal input of the same size.

Not a test. No database: it times the functions the pages and emails call.

1. **Rendering** (`catalog.markdown.render_markdown`: cmark-gfm, then `tidy_html`, then nh3)
   of every pathological shape of cmark's own `test/pathological_tests.py` and more (tables,
   autolinks, raw HTML nested or left open), each 100,000 characters, and of a normal
   definition of that size. Next to it the floor, cmark-gfm alone, and two baselines run in a
   subprocess stopped after `--cap` seconds: the renderer before (Python-Markdown with
   "extra" and "sane_lists", then nh3) and cmark-gfm then nh3 without `tidy_html`.
2. **Line diffs** (`catalog.notifications.linediff.line_diff`) of the worst pairs of texts at
   the limit (many equal lines, every line changed, lines shuffled or reversed) and of two
   normal edits of the longest definition; one History page of 25 such changes, which share
   a budget; and the diff before (difflib's SequenceMatcher without autojunk on the whole
   texts), in a subprocess stopped after `--cap` seconds.

    uv run python bench/text_cost.py                # about 10 minutes, most of it baselines
    uv run python bench/text_cost.py --write-docs   # also refresh docs/PERFORMANCE.md
    uv run python bench/text_cost.py --cap 2 --runs 3   # a quicker look

It exits with status 1 when a time of the new code is over its bound: a rendering over 20 times
the normal definition's, a diff (or a page of them) over 20 times the costliest normal edit's
(or a page of it), times the size over the limit of a text stored before the limit existed.
"""

import argparse
import difflib
import itertools
import multiprocessing
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import log, machine, write_section

from catalog.markdown import MAX_LENGTH, render_markdown
from catalog.markdown import _html as cmark_html
from catalog.markdown.tidy import tidy_html
from catalog.notifications.linediff import (
    DIFF_BUDGET,
    SHARED_BUDGET,
    line_diff,
    shared_budget,
)

DOC_START = "<!-- bench:text-cost:start -->"
DOC_END = "<!-- bench:text-cost:end -->"
DOC_HEADING = "## Markdown and line diffs: the worst input at the limit\n\n"

#: Each time of the new code may be this many times its normal input's (see the docstring).
BOUND = 20
#: Rows of a History page (catalog.web.views.HISTORY_PAGE_SIZE).
PAGE_ROWS = 25

L = MAX_LENGTH


# The texts.


def fill(unit: str, length: int = L) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def halves(first: str, second: str) -> str:
    return (first * (L // 2 // len(first)) + second * (L // 2 // len(second)))[:L]


def growing(make: Callable[[int], str], start: int = 0) -> str:
    """make(0) + make(1) + ... as long as it fits in L characters."""
    parts, size = [], 0
    for n in itertools.count(start):
        part = make(n)
        if size + len(part) > L:
            return "".join(parts)
        parts.append(part)
        size += len(part)
    raise AssertionError


def reference_collisions() -> str:
    """Link references whose names collide in cmark's hash table (cmark's own test)."""

    def collides(name: str) -> bool:
        h = 0
        for char in name:
            h = (ord(char) + ((h << 6) & 0xFFFFFFFF) + ((h << 16) & 0xFFFFFFFF) - h) & 0xFFFFFFFF
        return h % 16 == 0

    names = (f"x{n}" for n in itertools.count() if collides(f"x{n}"))
    first = next(names)
    return growing(lambda _: f"[{next(names)}]: /url\n\n[{first}]\n\n")


def normal_definition() -> str:
    """A definition as stewards write them (headings, prose, lists, a table, a payload, links),
    section after section up to the limit."""

    def section(n: int) -> str:
        return (
            f"## Step {n}: when it fires\n\n"
            f"The event fires once the customer completes step {n} of checkout, after the\n"
            "payment provider confirmed the charge. It is **not** sent for test orders, and\n"
            f"retries send it again with the same `order_id` (see [the spec](https://example.com/{n})).\n\n"
            "- `revenue`: number, after discounts, before shipping and tax\n"
            f"- `currency`: ISO 4217 code, such as `EUR` (step {n})\n"
            "- `coupon`: the code used, if any\n\n"
            "| property | type | required |\n|---|---|---|\n"
            f"| `order_id` | string | yes |\n| `step_{n}` | integer | no |\n\n"
            '```json\n{"event": "Order Completed", "properties": {"revenue": 42.5}}\n```\n\n'
            f"> Owned by the checkout team since release {n}.\n\n"
        )

    return growing(section)


def normal_edit(text: str, far_apart: bool) -> str:
    lines = text.split("\n")
    if far_apart:
        lines[2] = lines[2].replace("fires", "is sent")
        lines[-4] = lines[-4] + " Updated."
    else:
        middle = len(lines) // 2
        lines[middle] = lines[middle] + " Updated."
    return "\n".join(lines)


SHAPES: list[tuple[str, str]] = [
    ("normal definition", normal_definition()),
    # cmark's test/pathological_tests.py, at the limit.
    ("nested strong emph", halves("*a **a ", " a** a*")),
    ("many emph closers with no openers", fill("a_ ")),
    ("many emph openers with no closers", fill("_a ")),
    ("many link closers with no openers", fill("a]")),
    ("many link openers with no closers", fill("[a")),
    ("mismatched openers and closers", fill("*a_ ")),
    ("issue #389", halves("*a ", "_a*_ ")),
    ("openers and closers multiple of 3", "a**b" + fill("c* ", L - 4)),
    ("link openers and emph closers", fill("[ a_")),
    ("pattern [ (]( repeated", fill("[ (](")),
    ("pattern ![[]() repeated", fill("![[]()")),
    ("nested brackets", "[" * (L // 2) + "a" + "]" * (L // 2 - 1)),
    ("nested block quotes", fill("> ", L - 1) + "a"),
    ("deeply nested lists", growing(lambda n: "  " * n + "* a\n")),
    ("U+0000 and U+FFFD in input", fill("abc\x00de\ufffd")),
    ("backticks", growing(lambda n: "e" + "`" * n, start=1)),
    ("unclosed links A", fill("[a](<b")),
    ("unclosed links B", fill("[a](b")),
    ("unclosed <!--", "</" + fill("<!--", L - 2)),
    ("empty lines in deeply nested lists", ("- " * (L // 4) + "x" + "\n" * L)[:L]),
    ("same, in a block quote", ("> " + "- " * (L // 6) + "x\n" + ">\n" * L)[:L]),
    ("emph in deep block quote", ">" * (L // 3) + fill("a*", L - L // 3)),
    ("nested inlines", "*" * (L // 2) + "a" + "*" * (L // 2 - 1)),
    ("reference collisions", reference_collisions()),
    ("many references", growing(lambda n: f"[{n}]: u\n", 1)[: L // 2] + fill("[0] ", L // 2)),
    ("the review's 20,000 [", "[" * 20_000),
    # GitHub's extensions.
    ("tables (cmark-gfm's test)", fill("aaa\rbbb\n-\v\n")),
    ("a table with many columns", "|" + "a|" * 5_000 + "\n|" + "-|" * 5_000 + "\n" + "|" * 79_996),
    ("a table with many rows", "|a|b|\n|-|-|\n" + fill("|x|y|\n", L - 12)),
    ("a table of empty cells", "|a|\n|-|\n" + fill("|" * 50 + "\n", L - 8)),
    ("task lists", fill("- [ ] a\n")),
    ("strikethrough runs", fill("~a ")),
    ("autolinks: www. repeated", fill("www.")),
    ("autolinks: e-mail addresses", fill("a@b.")),
    ("autolinks: unbalanced parentheses", "www.a.com/" + "(" * (L // 2) + ")" * (L // 2 - 10)),
    # Raw HTML, which cmark passes through to the sanitiser.
    ("< repeated", "<" * L),
    ("<a repeated", fill("<a")),
    (
        "one tag with 15,000 attributes",
        "<b " + " ".join(f"a{n}" for n in range(15_000))[: L - 8] + ">x</b>",
    ),
    ("<div> nested 16,000 deep", fill("<div>\n")),
    ("<ul> nested 25,000 deep", fill("<ul>")),
    ("<p><b id=n>a</p>: formatting left open", growing(lambda n: f"<p><b id={n}>a</p>")),
    ("<li> repeated", fill("<li>")),
    ("<td> repeated in a table", "<table><tr>" + fill("<td>x", L - 11)),
    ("entity references", fill("&#")),
    ("unclosed fenced code blocks", fill("```\n")),
]

MANY_EQUAL = "\n".join("a" for _ in range(50_000))
SHUFFLED = "\n".join(f"value {n % 10}" for n in range(11_000))[:L]
DISTINCT = "\n".join(f"line {n:05d} of the text" for n in range(5_000))[:L]

DIFFS: list[tuple[str, str, str]] = [
    ("normal edit: one line in the middle", (d := normal_definition()), normal_edit(d, False)),
    ("normal edit: two lines far apart", d, normal_edit(d, True)),
    ("50,000 equal lines, one added", MANY_EQUAL, MANY_EQUAL + "\nb"),
    (
        "50,000 one-character lines, every fourth changed",
        "\n".join("ab"[n % 2] for n in range(50_000)),
        "\n".join("ab"[n % 2] if n % 4 else "c" for n in range(50_000)),
    ),
    ("11,000 lines of 10 kinds, shuffled", SHUFFLED, "\n".join(reversed(SHUFFLED.split("\n")))),
    ("5,000 distinct lines, every one changed", DISTINCT, DISTINCT.upper()),
    ("5,000 distinct lines, reversed", DISTINCT, "\n".join(reversed(DISTINCT.split("\n")))),
    (
        "stored before the limit: 200,000 lines of 2 kinds, shuffled",
        "\n".join("ab"[n % 2] for n in range(200_000)),
        "\n".join("ab"[n % 3 % 2] for n in range(200_000)),
    ),
]


# The code before, as the naive baselines.


def python_markdown(text: str) -> str:
    """The renderer before: Python-Markdown, then nh3 with the same rules."""
    import markdown
    import nh3

    from catalog.markdown import _ATTRIBUTES, _SCHEMES, _TAGS

    html = markdown.markdown(text[:L], extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html, tags=_TAGS - {"input"}, attributes=_ATTRIBUTES, url_schemes=_SCHEMES)


def cmark_nh3_without_tidy(text: str) -> str:
    import nh3

    from catalog.markdown import _ATTRIBUTES, _SCHEMES, _TAGS

    return nh3.clean(cmark_html(text), tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES)


def difflib_diff(pair: tuple[str, str]) -> list:
    """The diff before: SequenceMatcher without autojunk on the whole texts."""
    matcher = difflib.SequenceMatcher(
        None, pair[0].splitlines(), pair[1].splitlines(), autojunk=False
    )
    return list(matcher.get_grouped_opcodes(2))


def _run_capped(function, argument, queue) -> None:
    try:
        start = time.perf_counter()
        function(argument)
        queue.put(("ok", time.perf_counter() - start))
    except RecursionError:
        queue.put(("error", "RecursionError"))


def capped(function, argument, cap: float) -> str:
    """The time of function(argument) in a process of its own, stopped after `cap` seconds."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_run_capped, args=(function, argument, queue))
    process.start()
    process.join(cap)
    if process.is_alive():
        process.kill()
        process.join()
        return f"> {cap:g} s, stopped"
    if queue.empty():
        return f"crashed (exit {process.exitcode})"
    status, value = queue.get()
    return value if status == "error" else format_ms(value * 1000)


# Timing.


def median_ms(function, argument, runs: int) -> float:
    function(argument)  # one warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def format_ms(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


@dataclass
class RenderRow:
    shape: str
    length: int
    floor_ms: float
    tidy_ms: float
    render_ms: float
    before: str
    without_tidy: str


@dataclass
class DiffRow:
    pair: str
    characters: int
    lines: str
    diff_ms: float
    shown: str
    page_ms: float
    before: str


def measure_rendering(args) -> list[RenderRow]:
    rows = []
    for shape, text in SHAPES[:1] if args.diffs_only else SHAPES:
        log(f"render: {shape}")
        rows.append(
            RenderRow(
                shape,
                len(text),
                median_ms(cmark_html, text, args.runs),
                median_ms(tidy_html, cmark_html(text), args.runs),
                median_ms(render_markdown, text, args.runs),
                capped(python_markdown, text, args.cap) if args.cap else "not run",
                capped(cmark_nh3_without_tidy, text, args.cap) if args.cap else "not run",
            )
        )
    return rows


def a_page_of(pair: tuple[str, str]) -> None:
    with shared_budget():
        for _ in range(PAGE_ROWS):
            line_diff(*pair)


def measure_diffs(args) -> list[DiffRow]:
    rows = []
    for name, old, new in DIFFS:
        log(f"diff: {name}")
        result = line_diff(old, new)
        shown = f"summary: {result.summary}" if result.summary else f"{len(result.lines)} lines"
        rows.append(
            DiffRow(
                name,
                max(len(old), len(new)),
                f"{len(old.splitlines()):,} → {len(new.splitlines()):,}",
                median_ms(lambda pair: line_diff(*pair), (old, new), args.runs),
                shown,
                median_ms(a_page_of, (old, new), max(1, args.runs // 3)),
                capped(difflib_diff, (old, new), args.cap) if args.cap else "not run",
            )
        )
    return rows


# The report.


def size_factor(row: DiffRow) -> float:
    """How many times the stored limit the longer text is (rows stored before the limit)."""
    return max(1.0, row.characters / L)


def goals(render_rows: list[RenderRow], diff_rows: list[DiffRow]) -> list[tuple[bool, str]]:
    normal = render_rows[0].render_ms
    worst = max(render_rows, key=lambda row: row.render_ms)
    edit, page = diff_rows[1].diff_ms, diff_rows[1].page_ms
    worst_diff = max(diff_rows[2:], key=lambda row: row.diff_ms / size_factor(row))
    worst_page = max(diff_rows[2:], key=lambda row: row.page_ms / size_factor(row))
    return [
        (
            worst.render_ms <= BOUND * normal,
            f"Every shape renders within {BOUND}x the normal definition "
            f"({format_ms(normal)}): the slowest, {worst.shape}, {format_ms(worst.render_ms)} "
            f"({worst.render_ms / normal:.1f}x).",
        ),
        (
            worst_diff.diff_ms <= BOUND * edit * size_factor(worst_diff),
            f"Every diff within {BOUND}x the costliest normal edit, two lines far apart "
            f"({format_ms(edit)}), times the text's size over the limit: the slowest, "
            f"{worst_diff.pair}, {format_ms(worst_diff.diff_ms)} "
            f"({worst_diff.diff_ms / edit / size_factor(worst_diff):.1f}x).",
        ),
        (
            worst_page.page_ms <= BOUND * page * size_factor(worst_page),
            f"A History page of {PAGE_ROWS} such changes within {BOUND}x a page of that edit "
            f"({format_ms(page)}), likewise: the slowest, {worst_page.pair}, "
            f"{format_ms(worst_page.page_ms)} "
            f"({worst_page.page_ms / page / size_factor(worst_page):.1f}x).",
        ),
    ]


def report(render_rows: list[RenderRow], diff_rows: list[DiffRow], args, load: str) -> str:
    from importlib.metadata import version

    import django
    from cmarkgfm._cmark import ffi, lib

    cmark_version = ffi.string(lib.cmark_version_string()).decode()
    command = shlex.join(["uv", "run", "python", "bench/text_cost.py", *sys.argv[1:]])
    render_table = "\n".join(
        [
            "| shape (100,000 characters unless said) | cmark-gfm alone (floor) | of which "
            "tidy_html | rendered (cmark-gfm, tidy_html, nh3) | x normal | before: "
            "Python-Markdown, nh3 | cmark-gfm, nh3, no tidy_html |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *(
                f"| {row.shape}{'' if row.length == L else f' ({row.length:,})'} | "
                f"{format_ms(row.floor_ms)} | {format_ms(row.tidy_ms)} | "
                f"{format_ms(row.render_ms)} | "
                f"{row.render_ms / render_rows[0].render_ms:.1f}x | {row.before} | "
                f"{row.without_tidy} |"
                for row in render_rows
            ),
        ]
    )
    diff_table = "\n".join(
        [
            f"| texts | lines | line_diff | shown | a History page of {PAGE_ROWS} | "
            "before: difflib on the whole texts |",
            "| --- | ---: | ---: | --- | ---: | ---: |",
            *(
                f"| {row.pair} | {row.lines} | {format_ms(row.diff_ms)} | {row.shown} | "
                f"{format_ms(row.page_ms)} | {row.before} |"
                for row in diff_rows
            ),
        ]
    )
    checks = "\n".join(
        f"- **{'PASS' if ok else 'FAIL'}** {text}" for ok, text in goals(render_rows, diff_rows)
    )
    return (
        f"Measured by `bench/text_cost.py`: what a definition of the stored limit "
        f"({L:,} characters) costs to render (pages, the live preview) and to diff (emails, "
        "History pages), for the worst inputs known next to a normal one, in one process, "
        "no database. Times are medians of "
        f"{args.runs} runs after a warm-up; the baselines run once each, in a process of their "
        f"own stopped after {args.cap:g} s.\n\n"
        f"- Command: `{command}`\n"
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- Machine: {machine()}\n"
        f"- Software: Python {platform.python_version()}, Django {django.get_version()}, "
        f"cmark-gfm {cmark_version} (cmarkgfm {version('cmarkgfm')}), nh3 {version('nh3')}, "
        f"Python-Markdown {version('markdown')}, Linux {platform.release()}\n"
        f"- Load average: {load}\n\n"
        "### Rendering\n\n"
        "*floor* is cmark-gfm's HTML alone, what no renderer of this Markdown beats; "
        "*of which tidy_html* is the pass that closes every element before the sanitiser "
        "(what is left of *rendered* is cmark-gfm and nh3); "
        "*rendered* is `render_markdown`, what a page shows; *x normal* compares it with the "
        "normal definition's. The two baselines are the renderer before this change and the "
        "same parser without the pass that closes every element explicitly "
        "(`catalog/markdown/tidy.py`).\n\n"
        f"{render_table}\n\n"
        "### Line diffs\n\n"
        f"`line_diff` with its budget ({DIFF_BUDGET:,} lines looked at a diff, "
        f"{SHARED_BUDGET:,} a page or email). *shown* is what a reader gets: the changed lines "
        f"(at most 40) or the summary of sizes. *a History page* is {PAGE_ROWS} diffs of the "
        "same texts in one shared budget, as a page of such changes renders them.\n\n"
        f"{diff_table}\n\n"
        f"Goals:\n\n{checks}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row")
    parser.add_argument(
        "--cap", type=float, default=10.0, help="seconds before a baseline is stopped (0: skip)"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="refresh the results in docs/PERFORMANCE.md"
    )
    parser.add_argument(
        "--diffs-only", action="store_true", help="only the line diffs (and the normal rendering)"
    )
    args = parser.parse_args(argv)
    if args.write_docs and args.diffs_only:
        parser.error("--write-docs needs every row: leave out --diffs-only")
    if args.runs < 1 or args.cap < 0:
        parser.error("--runs must be positive, --cap not negative")
    load_before = os.getloadavg()[0]
    render_rows = measure_rendering(args)
    diff_rows = measure_diffs(args)
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (1 minute)"
    text = report(render_rows, diff_rows, args, load)
    print(text)
    if args.write_docs:
        write_section(text, DOC_START, DOC_END, heading=DOC_HEADING)
        log("wrote docs/PERFORMANCE.md")
    if not all(ok for ok, _ in goals(render_rows, diff_rows)):
        sys.exit(1)


if __name__ == "__main__":
    main()
