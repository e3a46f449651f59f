"""API keys: `Authorization: Bearer <key>`, and for the event log also `auth-token: <key>`."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from catalog.services.keys import api_key_authenticate

#: How a write key's secret starts (catalog.services.writekeys): named in the refusal, since
#: a tracker's key is an easy mistake to make and it only sends events.
WRITE_KEY_START = "wk_"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticate with an API key; the request acts as the key's user, with its role."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: use 'Bearer <api key>'."
            )
        return self.authenticate_secret(header[1])

    def authenticate_secret(self, raw: bytes):
        """The (user, key) of the API key `raw`, or AuthenticationFailed."""
        try:
            secret = raw.decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Invalid API key.") from error
        if not secret.isprintable():
            # Keys are printable ASCII; a NUL would reach the prefix lookup, which PostgreSQL
            # can't compare (a 500).
            raise exceptions.AuthenticationFailed("Invalid API key.")
        key = api_key_authenticate(secret)
        if key is None:
            if secret.startswith(WRITE_KEY_START):
                raise exceptions.AuthenticationFailed(
                    "This is a write key, which only sends events; use an API key."
                )
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return key.user, key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate), not 403, to unauthenticated requests.
        return f'{self.keyword} realm="api"'


class AuthTokenAuthentication(ApiKeyAuthentication):
    """The same API keys in an `auth-token` header, as seed 003's Events API takes them.

    Only the event log read API uses it; everywhere else the key goes in `Authorization`.
    """

    header = "HTTP_AUTH_TOKEN"

    def authenticate(self, request):
        value = request.META.get(self.header)
        if value is None:
            return None
        if isinstance(value, str):
            # WSGI hands headers over as latin-1 text; back to the bytes that were sent.
            value = value.encode("latin-1", errors="replace")
        value = value.strip()
        if not value:
            raise exceptions.AuthenticationFailed("Empty auth-token header: send an API key.")
        return self.authenticate_secret(value)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `manage.py create_api_key` or /api/v1/user/api_keys.",
        }


class AuthTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = AuthTokenAuthentication
    name = "AuthToken"
    priority = 1  # before ApiKeyAuthenticationScheme, which matches subclasses too

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "auth-token",
            "description": "An API key, as in `Authorization: Bearer`, in seed 003's header.",
        }
