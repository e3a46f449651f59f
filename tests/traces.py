"""Where a secret shown once must not be found afterwards."""

from django.contrib.admin.models import LogEntry
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session


def assert_shown_once(response, secret: str, caplog) -> None:
    """`response` shows `secret` and leaves it nowhere else: not in a cookie it sets (messages
    included), a redirect, a session, the admin's log of changes, or the server's log; and
    tells browsers and proxies not to keep the page."""
    assert response.status_code == 200
    assert secret in response.content.decode()
    assert "Location" not in response
    assert "no-store" in response["Cache-Control"]
    for cookie in response.cookies.values():
        assert secret not in cookie.OutputString(), cookie.key
    assert CookieStorage.cookie_name not in response.cookies  # no message kept for later
    for session in Session.objects.all():
        assert secret not in str(session.get_decoded())
    for entry in LogEntry.objects.all():
        assert secret not in f"{entry.object_repr} {entry.change_message}"
    assert secret not in caplog.text
