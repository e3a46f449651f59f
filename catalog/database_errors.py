"""Answers for a database that is down, busy or too slow, instead of an HTML 500.

Two kinds of database error are not bugs, and the client deserves to know which:

- the database can't be reached (down, restarting, failing over, out of connections, locked):
  503 with `Retry-After`, "try again shortly";
- one statement ran past `DATABASE_STATEMENT_TIMEOUT` and PostgreSQL cancelled it: 503 saying
  the request took too long (the same request would take as long again: no `Retry-After`).

Each route answers in its own shape: the API `{"detail": ...}`, ingestion
`{"success": false, "error": ...}`, the pages a plain page. The middleware catches what views
raise (authentication included: it happens in the view); `server_error`, the project's
handler500, catches what other middleware raises (a session saved after the view). Neither
touches the database itself. Any other database error is still a 500: it is a bug.
"""

import logging
import sqlite3
import sys
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.views import defaults

logger = logging.getLogger("catalog.database")

#: Seconds a client should wait before retrying when the database is unreachable: about as
#: long as a restart or a failover takes.
RETRY_AFTER_SECONDS = 30
UNAVAILABLE_MESSAGE = "The database is unavailable; try again shortly."

#: PostgreSQL error classes and codes that mean "not now" rather than "wrong": connection
#: exceptions (08), insufficient resources (53: too many connections, disk full), a server
#: shutting down or starting (57P01-57P03), and a standby that takes no writes (25006).
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "25006"}
#: SQLite: busy or locked past the busy timeout, or a file that can't be opened.
_SQLITE_UNAVAILABLE = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN}


@dataclass(frozen=True)
class Trouble:
    """What to tell the client about a database error that is not the request's fault."""

    message: str
    retry_after: int | None
    timed_out: bool = False


def _unreachable(exc: DatabaseError) -> bool:
    """Whether `exc` says the database can't be reached now (rather than a wrong query)."""
    if isinstance(exc, InterfaceError):  # a connection already closed or lost
        return True
    cause = exc.__cause__
    if isinstance(cause, psycopg.Error):
        state = cause.sqlstate
        if state is None:  # the client library's own failure, to connect or to hear back
            return isinstance(cause, psycopg.OperationalError)
        return state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_STATES
    if isinstance(cause, sqlite3.OperationalError):
        return getattr(cause, "sqlite_errorcode", 0) & 0xFF in _SQLITE_UNAVAILABLE
    return False


def _timed_out(exc: DatabaseError) -> bool:
    """Whether PostgreSQL cancelled the statement for running past statement_timeout."""
    cause = exc.__cause__
    return isinstance(cause, psycopg.errors.QueryCanceled) and "statement timeout" in str(cause)


def database_trouble(exc: BaseException | None) -> Trouble | None:
    """The answer `exc` deserves, or None when it is neither an outage nor a timeout."""
    if not isinstance(exc, DatabaseError):
        return None
    if _timed_out(exc):
        seconds = settings.DATABASE_STATEMENT_TIMEOUT
        # 0: the limit is the database's own (such as a role's statement_timeout).
        limit = f"the limit of {seconds:g} seconds" if seconds else "the database's time limit"
        message = (
            f"The request took too long: a database query ran past {limit} and was stopped. "
            "Narrow the request (a smaller filter or page) and try again."
        )
        return Trouble(message, None, timed_out=True)
    if _unreachable(exc):
        return Trouble(UNAVAILABLE_MESSAGE, RETRY_AFTER_SECONDS)
    return None


def _route_namespace(request) -> str | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    return match.namespace


def trouble_response(request, trouble: Trouble) -> HttpResponse:
    """The 503 for `trouble`, shaped as the route's other answers are."""
    if _route_namespace(request) == "ingest":
        response = JsonResponse({"success": False, "error": trouble.message}, status=503)
    elif request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": trouble.message}, status=503)
    else:
        # Rendered without the request: its context processors would read the user, from
        # the very database that failed.
        page = render_to_string("503.html", {"message": trouble.message})
        response = HttpResponse(page, status=503)
    if trouble.retry_after is not None:
        response["Retry-After"] = str(trouble.retry_after)
    return response


def _answer(request, exc: BaseException) -> HttpResponse | None:
    trouble = database_trouble(exc)
    if trouble is None:
        return None
    if trouble.timed_out:
        logger.warning(
            "%s %s: a statement ran past the statement timeout and was cancelled (%s)",
            request.method,
            request.path,
            exc,
        )
    else:
        logger.error("%s %s: the database is unavailable: %s", request.method, request.path, exc)
    return trouble_response(request, trouble)


class DatabaseTroubleMiddleware:
    """Turns a database outage, or a statement cancelled as too slow, in a view into its 503."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return _answer(request, exception)


def server_error(request):
    """handler500: a database outage raised outside a view gets its 503 too; anything else
    is Django's own 500 page."""
    response = _answer(request, sys.exc_info()[1])
    return response if response is not None else defaults.server_error(request)
