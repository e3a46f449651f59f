"""Login throttling for both login pages (`/login/`, `/admin/login/`), with django-axes.

Failed logins are counted per user name and per client address, in the database (axes'
database handler: every web process shares it, with or without Redis, and a lockout tells
when it ends). After `LOGIN_FAILURE_LIMIT` failures for a user name, or from an address, the
login pages refuse that user name, or that address, for `LOGIN_COOLOFF_MINUTES`, even with
the right password, and say so ("Too many failed attempts to log in. Try again in 15
minutes.", status 429). Attempts during a lockout don't extend it: it ends on time.

So that whoever guesses a user's password can't lock that user out, a browser where the user
has logged in before (it holds a cookie signed for that user name) counts only its own
failures. A successful login forgets the user's failures from that address only: logging
into one's own account doesn't wipe what the same address tried on others.
"""

import ipaddress
import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

#: The cookie a browser gets when a user logs in with it: an HMAC of the user name, which
#: proves nothing but that this browser logged in as that user before.
KNOWN_BROWSER_COOKIE = "login_browser"
KNOWN_BROWSER_DAYS = 365
_KNOWN_BROWSER_SALT = "catalog.login.known-browser"


def lockout_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed attempts to log in. Try again in {minutes} {unit}."


def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted for. Behind `TRUSTED_PROXY_COUNT` proxies, the one
    the outermost of them saw: X-Forwarded-For read from the right, where each proxy appends
    the address it was called from (the left part is whatever the client wrote). An IPv6
    address counts for its /64 network, which one subscriber usually holds whole."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        hops = [hop.strip() for hop in forwarded if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    return _network_of(address) or _network_of(request.META.get("REMOTE_ADDR", ""))


def _network_of(address: str) -> str | None:
    host = address
    if host.startswith("[") and "]" in host:  # [2001:db8::1]:443
        host = host[1 : host.index("]")]
    elif host.count(":") == 1:  # 203.0.113.7:443
        host = host.partition(":")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def known_browser_token(username: str) -> str:
    return salted_hmac(_KNOWN_BROWSER_SALT, username, algorithm="sha256").hexdigest()


def _is_known_browser(request: HttpRequest, username: str | None) -> bool:
    token = request.COOKIES.get(KNOWN_BROWSER_COOKIE, "")
    return bool(token and username) and constant_time_compare(token, known_browser_token(username))


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    """What failures count against a login attempt: the user name's from anywhere and the
    address's for any user name; from a browser where the user logged in before, only the
    failures for that user name from that address."""
    if isinstance(request_or_attempt, HttpRequest):
        username = get_client_username(request_or_attempt, credentials)
        if _is_known_browser(request_or_attempt, username):
            return [["username", "ip_address"]]
    return ["username", "ip_address"]


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a login while its user name or address is locked out (first in
    AUTHENTICATION_BACKENDS). A login without a request is no browser's: Django's test
    client, a script; it isn't counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


#: What axes keeps of a request with a failure, and where.
_HEADER_COLUMNS = {
    "axes_user_agent": "user_agent",
    "axes_http_accept": "http_accept",
    "axes_path_info": "path_info",
}


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler, with the catalog's reset on success and known browsers."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:  # not a login page's (see LoginThrottleBackend)
            return None
        # Kept with the failure: PostgreSQL refuses a NUL in text, and a failure that can't
        # be recorded isn't counted (a NUL in the User-Agent would allow endless guesses).
        for header, column in _HEADER_COLUMNS.items():
            value = getattr(request, header, None)
            if value:
                length = AccessAttempt._meta.get_field(column).max_length
                setattr(request, header, value.replace("\x00", "0x00")[:length])
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        # RememberLoginBrowserMiddleware gives this browser its cookie.
        request.logged_in_username = user.get_username()

    def reset_user_attempts(self, request, credentials=None) -> int:
        """After a successful login: this user name's failures from this address, and no
        others (axes would forget every failure from the address, or of the user name)."""
        username = get_client_username(request, credentials)
        attempts = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        )
        return attempts.delete()[0]


def minutes_left(request: HttpRequest, credentials=None) -> int:
    """Whole minutes until the lockout of this request ends: the cool-off after the latest
    failure that counts against it (at least 1). Asked by the form and the response: read
    once per request."""
    if not hasattr(request, "lockout_minutes_left"):
        request.lockout_minutes_left = _minutes_left(request, credentials)
    return request.lockout_minutes_left


def _minutes_left(request: HttpRequest, credentials) -> int:
    cool_off = get_cool_off(request) or timedelta(0)
    now = timezone.now()
    username = get_client_username(request, credentials)
    counted = Q()
    for parameters in get_client_parameters(
        username, request.axes_ip_address, request.axes_user_agent, request, credentials
    ):
        counted |= Q(**parameters)
    latest = AccessAttempt.objects.filter(counted, attempt_time__gte=now - cool_off).aggregate(
        latest=Max("attempt_time")
    )["latest"]
    if latest is None:
        return 1
    return max(1, math.ceil((latest + cool_off - now).total_seconds() / 60))


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out login gets: the login page again, its form saying why (see
    `ThrottledLoginMixin`), as 429 Too Many Requests with Retry-After."""
    minutes = minutes_left(request, credentials)
    if original_response is None or original_response.status_code != 200:
        response = HttpResponse(lockout_message(minutes), content_type="text/plain")
    else:
        response = original_response
    response.status_code = 429
    response["Retry-After"] = str(minutes * 60)
    return response


class RememberLoginBrowserMiddleware:
    """Gives a browser that has just logged in the cookie that makes it a known browser for
    that user name (see `lockout_parameters`)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        username = getattr(request, "logged_in_username", None)
        if username:
            response.set_cookie(
                KNOWN_BROWSER_COOKIE,
                known_browser_token(username),
                max_age=KNOWN_BROWSER_DAYS * 24 * 3600,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class ThrottledLoginMixin:
    """For a login form (`AuthenticationForm`): a refused login during a lockout says so and
    when to try again, instead of "Please enter a correct username and password"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django only tells the browser (maxlength); a longer name is no user's, and too long
        # to be counted.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if not getattr(self.request, "axes_locked_out", False):
                raise
            credentials = getattr(self.request, "axes_credentials", None)
            message = lockout_message(minutes_left(self.request, credentials))
            raise ValidationError(message, code="throttled") from error
