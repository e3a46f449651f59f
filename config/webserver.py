"""What gunicorn.conf.py changes in gunicorn: an access log that holds no credentials, and JSON
answers for a request line or headers too long.

gunicorn's default access log line names the HTTP Basic user, and on Segment's endpoints that
user name is an integration's write key. Whatever format an operator picks, this logger gives
every credential the placeholder `-`: the Basic user, the headers that carry API keys, write
keys, session cookies and CSRF tokens (as request headers and as environ variables), and the
signed token of a one-click unsubscribe link (in the path, the request line and the Referer of
the page's own requests).

gunicorn refuses a request line or a header section over its limits itself, before Django sees
the request, with an HTML page; API clients and trackers get JSON from everything else, so the
worker answers these in JSON too, saying what to do instead.
"""

import json
import re

from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.sync import SyncWorker

#: Request headers that carry a secret, lower case as gunicorn names them.
SECRET_HEADERS = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-auth-token",
    "x-client-access-token",
    "auth-token",
    "x-csrftoken",
)
_SECRET_ATOMS = tuple(f"{{{name}}}i" for name in SECRET_HEADERS) + tuple(
    f"{{http_{name.replace('-', '_')}}}e" for name in SECRET_HEADERS
)
#: Atoms holding the path or a URL of the site (the request line, the Referer...).
_URL_ATOMS = ("r", "U", "f", "{referer}i", "{raw_uri}e", "{path_info}e", "{http_referer}e")
_UNSUBSCRIBE_TOKEN = re.compile(r"(/unsubscribe/)[^/?#\s\"]+")
REDACTED = "-"


class CredentialFreeLogger(Logger):
    """gunicorn's logger, minus every credential in the access log's atoms."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["u"] = REDACTED
        for name in _SECRET_ATOMS:
            if name in atoms:
                atoms[name] = REDACTED
        for name in _URL_ATOMS:
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = _UNSUBSCRIBE_TOKEN.sub(rf"\1{REDACTED}", value)
        return atoms


def _too_large(exc: Exception, cfg) -> tuple[int, str, str] | None:
    """(status, reason, detail) for a request over gunicorn's size limits, else None."""
    if isinstance(exc, LimitRequestLine):
        limit = exc.max_size or cfg.limit_request_line
        return (
            414,
            "URI Too Long",
            f"The request line is too long: at most {limit:,} bytes. Send a long resource "
            "query as POST /api/v1/resource/catalog/query, with `filter` and `sort` in a "
            "JSON body.",
        )
    if isinstance(exc, LimitRequestHeaders):
        return (
            431,
            "Request Header Fields Too Large",
            f"The request headers are too large: at most {cfg.limit_request_fields} headers "
            f"of at most {cfg.limit_request_field_size:,} bytes each.",
        )
    return None


class JsonErrorsSyncWorker(SyncWorker):
    """gunicorn's sync worker, answering a request too large to read in JSON."""

    def handle_error(self, req, client, addr, exc):
        answer = _too_large(exc, self.cfg)
        if answer is None:
            return super().handle_error(req, client, addr, exc)
        status, reason, detail = answer
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        body = json.dumps({"detail": detail}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except OSError:
            self.log.debug("Failed to send error message.")
