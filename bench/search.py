"""Benchmark of full-text search (catalog.search) on a catalog of realistic size.

Not a test: it reuses the fill of bench/api.py (1,000 categories, 100,000 events and 1,000,000
event properties, times `--scale`) and times what a search results page costs: the first 20
results with the `select_related` the pages use, and their count (2 queries), for an admin and a
viewer, for rare, common and very common words, prefixes as typed and snake_case names. Next to
it, for two of the texts, the `icontains` scan search would be without the index. On PostgreSQL
it prints `EXPLAIN (ANALYZE, BUFFERS)` of the page and the count, which shows the GIN index at
work; on SQLite `EXPLAIN QUERY PLAN`.

    uv run python bench/search.py                      # full scale, PostgreSQL, fills on 1st run
    uv run python bench/search.py --scale 0.1          # 10,000 events, 100,000 properties
    uv run python bench/search.py --database-url sqlite:////tmp/bench-search.sqlite3 --scale 0.1
    uv run python bench/search.py --write-docs         # also refresh docs/PERFORMANCE.md

The fill is api.py's (same seed, same reuse and refusal rules), in its own database by default.
"""

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass

from api import Measure, Size, configure_django, ensure_filled, environment, time_calls
from common import ensure_postgres_database, is_postgres, log, write_section

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/event_catalog_bench_search"
DOC_START = "<!-- bench:search:start -->"
DOC_END = "<!-- bench:search:end -->"
DOC_HEADING = "## Search\n\n"

#: The goal: a page of results with its count, for any text.
GOAL_MS = 200.0
PAGE_SIZE = 20
SELECT_RELATED = ("parent", "parent__parent", "integration")

#: (what it is in api.py's fill, text). Events are "<Noun> <Verb> <n>", properties
#: "<subject>_<attribute>" described as "The <subject> <attribute> of the event.", and 30% of
#: resources have the same Markdown definition.
TEXTS = [
    ("one event's number", "4711"),
    ("two words, 1 in 450 events", "wishlist shared"),
    ("a noun of 1 in 30 events", "refund"),
    ("a noun of events and properties", "order"),
    ("as typed: 'order comp'", "order comp"),
    ("a snake_case property name", "page_url"),
    ("3-letter prefix", "pro"),
    ("2-letter prefix", "pr"),
    ("in every definition (30% of rows)", "conversion"),
    ("in every property's description", "event"),
    ("in nearly every row", "the"),
]
#: Texts also timed as an `icontains` scan, with fewer runs: it takes seconds.
SCAN_TEXTS = ("4711", "order")
SCAN_RUNS = 3


@dataclass
class Row:
    what: str
    text: str
    role: str
    matches: int
    queries: int
    total: Measure
    page: Measure
    count: Measure


def bench_users():
    """An admin and a viewer to search as (created once, outside the fill)."""
    from catalog.models import Role, User

    users = {}
    for role in (Role.ADMIN, Role.VIEWER):
        users[role], _ = User.objects.get_or_create(
            username=f"bench-search-{role}",
            defaults={"role": role, "email": f"bench-search-{role}@example.com", "password": "!"},
        )
    return users


def page_and_count(queryset) -> Callable[[], tuple[list, int]]:
    """What a results page runs: its rows (with the parents and integration shown next to each
    result) and the count its pager needs."""

    def call():
        rows = list(queryset.select_related(*SELECT_RELATED)[:PAGE_SIZE])
        return rows, queryset.count()

    return call


def count_queries(call: Callable) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries), [q["sql"] for q in queries.captured_queries]


def measure(what: str, text: str, role: str, queryset, runs: int, warmups: int) -> Row:
    call = page_and_count(queryset)
    queries, _ = count_queries(call)
    total = time_calls(call, runs, warmups)
    page = time_calls(lambda: list(queryset.select_related(*SELECT_RELATED)[:PAGE_SIZE]), runs, 1)
    count = time_calls(queryset.count, runs, 1)
    return Row(
        what,
        text,
        role,
        queryset.count(),
        queries,
        Measure(queries, total),
        Measure(1, page),
        Measure(1, count),
    )


def scan_queryset(user, text: str):
    """The search without an index: every part of every word `icontains` in one of the texts."""
    from django.db.models import Q

    from catalog.policy import resources_visible_to
    from catalog.search import search_terms

    queryset = resources_visible_to(user)
    for part in (part for parts in search_terms(text) for part in parts):
        queryset = queryset.filter(
            Q(title__icontains=part)
            | Q(description__icontains=part)
            | Q(definition__icontains=part)
        )
    return queryset.order_by("title", "id")


def plans(user, text: str) -> str:
    """The database's plan of the page and count queries of one search."""
    from django.db import connection

    from catalog.search import search_resources

    _, statements = count_queries(page_and_count(search_resources(user, text)))
    out = []
    with connection.cursor() as cursor:
        for label, sql in zip(("page", "count"), statements, strict=True):
            if connection.vendor == "postgresql":
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            out.append(f"{label} ({text!r}):\n\n```\n{sql}\n\n{plan}\n```")
    return "\n\n".join(out)


def run(runs: int, warmups: int) -> tuple[list[Row], list[Row]]:
    from catalog.search import search_resources

    users = bench_users()
    rows, scans = [], []
    for what, text in TEXTS:
        for role, user in users.items():
            log(f"searching {text!r} as {role}")
            rows.append(measure(what, text, role, search_resources(user, text), runs, warmups))
    for text in SCAN_TEXTS:
        for role, user in users.items():
            log(f"icontains scan for {text!r} as {role}")
            scans.append(
                measure("icontains scan", text, role, scan_queryset(user, text), SCAN_RUNS, 1)
            )
    return rows, scans


def table(rows: list[Row]) -> str:
    lines = [
        "| text | what | as | matches | queries | page + count p50 ms | p95 ms "
        "| page p50 ms | count p50 ms |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| `{r.text}` | {r.what} | {r.role} | {r.matches:,} | {r.queries} "
            f"| {r.total.p50:.1f} | {r.total.p95:.1f} | {r.page.p50:.1f} | {r.count.p50:.1f} |"
        )
    return "\n".join(lines)


def goals(rows: list[Row]) -> list[tuple[str, bool, str]]:
    slow = [r for r in rows if r.total.p50 > GOAL_MS]
    worst = max(rows, key=lambda r: r.total.p50)
    many = [r for r in rows if r.queries != 2]
    return [
        (
            "A page and its count are 2 queries",
            not many,
            ", ".join(f"{r.text!r} as {r.role}: {r.queries}" for r in many) or "all rows",
        ),
        (
            f"A page with its count under {GOAL_MS:g} ms (p50)",
            not slow,
            "over: " + "; ".join(f"{r.text!r} as {r.role} {r.total.p50:.0f} ms" for r in slow)
            if slow
            else f"slowest: {worst.text!r} as {worst.role}, {worst.total.p50:.1f} ms",
        ),
    ]


def section(rows, scans, env, runs, warmups, plan_text) -> str:
    facts = "\n".join(f"- {key}: {value}" for key, value in env.items())
    checks = "\n".join(
        f"- **{'PASS' if ok else 'FAIL'}** {goal}: {evidence}."
        for goal, ok, evidence in goals(rows)
    )
    return (
        f"### Search results\n\n{facts}\n- Runs: {runs} timed calls after {warmups} warm-ups "
        f"per row (the icontains scans: {SCAN_RUNS} after 1)\n\n{table(rows)}\n\n"
        f"Without the index (`icontains` on title, description and definition):\n\n"
        f"{table(scans)}\n\nGoals:\n\n{checks}\n\nPlans:\n\n{plan_text}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 100,000 events, 1,000,000 properties"
    )
    parser.add_argument("--refill", action="store_true", help="rebuild the data even if present")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per measurement")
    parser.add_argument("--warmups", type=int, default=3, help="untimed calls first")
    parser.add_argument("--plan", default="order", help="the text whose plans are printed")
    parser.add_argument(
        "--write-docs", action="store_true", help="refresh the results in docs/PERFORMANCE.md"
    )
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.runs < 1 or args.warmups < 0:
        parser.error("--scale and --runs must be positive, --warmups not negative")

    if is_postgres(args.database_url):
        ensure_postgres_database(args.database_url)
    configure_django(args.database_url)
    size = Size(args.scale)
    ensure_filled(size, args.refill)
    load_before = os.getloadavg()[0]
    rows, scans = run(args.runs, args.warmups)
    from catalog.models import Role

    plan_text = plans(bench_users()[Role.ADMIN], args.plan)
    env = environment(args.database_url, size)
    env["Command"] = (
        "`" + shlex.join(["uv", "run", "python", "bench/search.py", *sys.argv[1:]]) + "`"
    )
    # Other work on the machine shows in the numbers: say how busy it was.
    env["Load average"] = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (1 minute)"
    text = section(rows, scans, env, args.runs, args.warmups, plan_text)
    print(text)
    if args.write_docs:
        write_section(text, DOC_START, DOC_END, heading=DOC_HEADING)
    if not all(ok for _, ok, _ in goals(rows)):
        sys.exit(1)


if __name__ == "__main__":
    main()
