"""The web processes' limit on one SQL statement (`DATABASE_STATEMENT_TIMEOUT`).

A request must not hold a database CPU for minutes (a pathological regular expression in an
admin search, a filter no index serves): PostgreSQL cancels a web request's statement after
the limit. Only the web processes get it, gunicorn and `serve`, which both load config.wsgi;
migrations, `db_worker` and cron commands may legitimately run longer. It is a connection
parameter (libpq's `options`), sent once when a connection opens: no query per request.
"""

import re

from django.conf import settings
from django.db import connections

_STATEMENT_TIMEOUT = re.compile(r"\s*-c\s*statement_timeout=\S*")


def with_statement_timeout(options: str, milliseconds: int) -> str:
    """libpq `options` that set statement_timeout to `milliseconds`, instead of any given."""
    kept = _STATEMENT_TIMEOUT.sub("", options).strip()
    return f"{kept} -c statement_timeout={milliseconds}".strip()


def limit_statement_time(seconds: float | None = None) -> None:
    """Every PostgreSQL connection this process opens from now on cancels a statement that
    runs longer than `seconds` (default: DATABASE_STATEMENT_TIMEOUT; 0 is no limit).

    The current thread's connections are closed, so the next query opens one with the limit.
    """
    if seconds is None:
        seconds = settings.DATABASE_STATEMENT_TIMEOUT
    if not seconds:
        return
    milliseconds = max(1, round(seconds * 1000))
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        options = connection.settings_dict.setdefault("OPTIONS", {})
        options["options"] = with_statement_timeout(options.get("options", ""), milliseconds)
        connection.close()
