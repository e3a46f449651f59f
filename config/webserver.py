"""What gunicorn.conf.py changes in gunicorn: an access log that holds no credentials.

gunicorn's default access log line names the HTTP Basic user, and on Segment's endpoints that
user name is an integration's write key. Whatever format an operator picks, this logger gives
every credential the placeholder `-`: the Basic user, the headers that carry API keys, write
keys, session cookies and CSRF tokens (as request headers and as environ variables), and the
signed token of a one-click unsubscribe link (in the path, the request line and the Referer of
the page's own requests).
"""

import re

from gunicorn.glogging import Logger

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
