"""What the benchmark scripts share: logging, the database they run on, the machine they ran
on, and writing their results between markers in docs/PERFORMANCE.md."""

import math
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def is_postgres(database_url: str) -> bool:
    return urlsplit(database_url).scheme in {"postgres", "postgresql", "pgsql", "psql"}


def ensure_postgres_database(database_url: str) -> None:
    """Create the benchmark database if it is missing, so one command is enough; only ever on
    this machine."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("The benchmarks only talk to a database on this machine (127.0.0.1).")
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def machine() -> str:
    """Cores, memory and processor, as the docs name the machine."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.split()
    total = memory[memory.index("Mem:") + 1] if "Mem:" in memory else "?"
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{nproc} cores (`nproc`), {total} RAM (`free -h`), {cpu}"


def write_section(
    section: str, start: str, end: str, *, heading: str = "", skeleton: str = "# Performance\n"
) -> None:
    """Replace what is between a benchmark's markers, keeping the rest of the page (the
    hand-written text, other benchmarks' sections); missing markers are appended (after
    `heading`) at the end."""
    text = DOCS_PATH.read_text() if DOCS_PATH.exists() else skeleton
    if start not in text or end not in text:
        text = text.rstrip() + f"\n\n{heading}{start}\n{end}\n"
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    DOCS_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCS_PATH.write_text(f"{before}{start}\n{section}{end}{after}")


def p50_ms(times: list[float]) -> float:
    """The median of durations in seconds, in milliseconds."""
    return statistics.median(times) * 1000


def p95_ms(times: list[float]) -> float:
    """The nearest-rank 95th percentile of durations in seconds, in milliseconds."""
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000
