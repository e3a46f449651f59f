"""`Authorization: Bearer <key>` with the user's API keys."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from catalog.services.keys import api_key_authenticate


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
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Invalid API key.") from error
        if not secret.isprintable():
            # Keys are printable ASCII; a NUL would reach the prefix lookup, which PostgreSQL
            # can't compare (a 500).
            raise exceptions.AuthenticationFailed("Invalid API key.")
        key = api_key_authenticate(secret)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return key.user, key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate), not 403, to unauthenticated requests.
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `manage.py create_api_key` or /api/v1/user/api_keys.",
        }
