"""Login throttling: failed logins are counted per user name and per address, on both login
pages; a lockout says when it ends, ends on time, and can't be used to keep a user out of the
browser they log in with."""

import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import Client, override_settings
from django.urls import reverse

from catalog.web.login_throttle import KNOWN_BROWSER_COOKIE, client_address
from tests.factories import UserFactory
from tests.test_settings import _manage
from tests.web.test_pages import text_of

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
LOCKED = "Too many failed attempts to log in. Try again in 15 minutes."
WRONG = {
    "/login/": "Please enter a correct username and password",
    "/admin/login/": "Please enter the correct username and password",
}
LOGIN_PAGES = list(WRONG)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", password=PASSWORD)


def browser(address: str = "203.0.113.7", **headers) -> Client:
    return Client(REMOTE_ADDR=address, **headers)


def log_in(client: Client, page: str, username: str, password: str):
    return client.post(page, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def time_passes(minutes: float) -> None:
    """Every failure recorded so far happened `minutes` earlier."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_forty_wrong_passwords_then_the_right_one_is_refused_until_the_cool_off_ends(page, alice):
    attacker = browser()
    answers = [log_in(attacker, page, "alice", f"guess-{n}") for n in range(40)]
    assert [a.status_code for a in answers[:9]] == [200] * 9
    assert all(WRONG[page] in text_of(a) for a in answers[:9])
    assert [a.status_code for a in answers[9:]] == [429] * 31  # from the 10th failure on
    assert all(LOCKED in text_of(a) for a in answers[9:])

    refused = log_in(attacker, page, "alice", PASSWORD)
    assert refused.status_code == 429
    assert LOCKED in text_of(refused) and refused["Retry-After"] == "900"
    assert not logged_in(attacker)
    assert "sessionid" not in refused.cookies

    time_passes(10)
    still = log_in(attacker, page, "alice", PASSWORD)
    assert "Try again in 5 minutes." in text_of(still) and not logged_in(attacker)

    time_passes(5)  # the cool-off is over: the attempts during the lockout didn't extend it
    welcome = log_in(attacker, page, "alice", PASSWORD)
    assert welcome.status_code == 302 and logged_in(attacker)


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_a_locked_user_name_is_refused_from_every_new_browser_and_address(page, alice):
    UserFactory(username="bob", password=PASSWORD)
    for n in range(10):
        log_in(browser("203.0.113.7"), page, "alice", f"guess-{n}")
    elsewhere = browser("198.51.100.20")
    assert LOCKED in text_of(log_in(elsewhere, page, "alice", PASSWORD))
    assert not logged_in(elsewhere)
    # Another user from another address is not concerned.
    bob = browser("198.51.100.21")
    assert log_in(bob, page, "bob", PASSWORD).status_code == 302 and logged_in(bob)


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_an_address_guessing_many_user_names_is_refused_for_all(page, alice):
    attacker = browser("203.0.113.66")
    for n in range(10):
        log_in(attacker, page, f"user{n}", "password1")
    refused = log_in(attacker, page, "alice", PASSWORD)
    assert refused.status_code == 429 and LOCKED in text_of(refused)
    assert not logged_in(attacker)
    # Alice, from her own address, is not concerned.
    assert log_in(browser("198.51.100.5"), page, "alice", PASSWORD).status_code == 302


def test_a_user_name_that_does_not_exist_is_locked_the_same_way():
    """The answer doesn't tell whether a user name exists."""
    attacker = browser()
    answers = [log_in(attacker, "/login/", "nobody", f"guess-{n}") for n in range(11)]
    assert [a.status_code for a in answers[8:]] == [200, 429, 429]
    assert LOCKED in text_of(answers[-1])


def test_a_browser_where_the_user_logged_in_before_still_logs_in(alice):
    """Someone guessing Alice's password locks her user name out everywhere but in the
    browser she used before."""
    hers = browser("198.51.100.5")
    assert log_in(hers, "/login/", "alice", PASSWORD).status_code == 302
    assert hers.cookies[KNOWN_BROWSER_COOKIE]["httponly"]
    hers.post(reverse("logout"))
    for n in range(30):
        log_in(browser(f"203.0.113.{n}"), "/login/", "alice", f"guess-{n}")
    new_browser = browser("198.51.100.5")
    assert LOCKED in text_of(log_in(new_browser, "/login/", "alice", PASSWORD))
    assert log_in(hers, "/login/", "alice", PASSWORD).status_code == 302 and logged_in(hers)


def test_a_known_browser_counts_its_own_failures(alice):
    hers = browser("198.51.100.5")
    log_in(hers, "/login/", "alice", PASSWORD)
    hers.post(reverse("logout"))
    answers = [log_in(hers, "/login/", "alice", f"typo-{n}") for n in range(10)]
    assert answers[-1].status_code == 429 and LOCKED in text_of(answers[-1])
    # Its cookie is Alice's: it doesn't help with another user name.
    UserFactory(username="bob", password=PASSWORD)
    for n in range(10):
        log_in(browser("203.0.113.9"), "/login/", "bob", f"guess-{n}")
    assert log_in(hers, "/login/", "bob", PASSWORD).status_code == 429


def test_a_forged_known_browser_cookie_does_not_help(alice):
    for n in range(10):
        log_in(browser(), "/login/", "alice", f"guess-{n}")
    forger = browser("198.51.100.5")
    forger.cookies[KNOWN_BROWSER_COOKIE] = "0" * 64
    assert log_in(forger, "/login/", "alice", PASSWORD).status_code == 429


def test_a_successful_login_forgets_the_users_own_failures(alice):
    hers = browser()
    for n in range(9):
        log_in(hers, "/login/", "alice", f"typo-{n}")
    assert log_in(hers, "/login/", "alice", PASSWORD).status_code == 302
    hers.post(reverse("logout"))
    other = browser()  # the same address, no known-browser cookie
    answers = [log_in(other, "/login/", "alice", f"typo-{n}") for n in range(9)]
    assert all(a.status_code == 200 for a in answers)


def test_logging_into_ones_own_account_does_not_forget_guesses_at_others(alice):
    UserFactory(username="mallory", password=PASSWORD)
    attacker = browser("203.0.113.66")
    for n in range(9):
        log_in(attacker, "/login/", "alice", f"guess-{n}")
    assert log_in(attacker, "/login/", "mallory", PASSWORD).status_code == 302
    attacker.post(reverse("logout"))
    other = browser("203.0.113.66")
    assert log_in(other, "/login/", "alice", "guess-9").status_code == 429


def test_the_login_pages_keep_no_password_or_token(alice, caplog):
    client = browser()
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value
    client.post(
        "/login/", {"username": "alice", "password": "hunter2-secret", "csrfmiddlewaretoken": csrf}
    )
    attempt = AccessAttempt.objects.get()
    stored = f"{attempt.get_data} {attempt.post_data}"
    assert "hunter2-secret" not in stored and csrf not in stored
    assert "hunter2-secret" not in caplog.text


def test_the_test_clients_logins_are_not_counted(alice):
    """Django's test client logs in without a request: no browser, nothing to count."""
    client = Client()
    for _ in range(20):
        assert not client.login(username="alice", password="wrong")
    assert client.login(username="alice", password=PASSWORD)
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "address"),
    [
        ("203.0.113.7", "", 0, "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", 0, "203.0.113.7"),  # no proxy: the header is the client's
        ("127.0.0.1", "198.51.100.1", 1, "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", 1, "198.51.100.1"),  # forged left part
        ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.1", 2, "198.51.100.1"),
        ("127.0.0.1", "", 1, "127.0.0.1"),  # not through the proxy
        ("127.0.0.1", "not-an-address", 1, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.1:51234", 1, "198.51.100.1"),
        ("127.0.0.1", "[2001:db8:1:2::99]:443", 1, "2001:db8:1:2::"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "", 0, "2001:db8:1:2::"),  # per /64
        ("::ffff:203.0.113.7", "", 0, "203.0.113.7"),
        ("", "", 0, None),
    ],
)
def test_the_client_address(rf, remote, forwarded, proxies, address):
    request = rf.post("/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_address(request) == address


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_each_client_is_counted_apart(alice):
    """Every request comes from the proxy's address; the proxy's X-Forwarded-For tells them
    apart, and what a client writes in it doesn't help."""
    for n in range(10):
        attacker = browser("127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.66")
        log_in(attacker, "/login/", f"user{n}", "password1")
    attacker = browser("127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.99, 203.0.113.66")
    assert log_in(attacker, "/login/", "alice", PASSWORD).status_code == 429
    alice_browser = browser("127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert log_in(alice_browser, "/login/", "alice", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_USER_AGENT": "curl\x00"},
        {"HTTP_ACCEPT": "text/html\x00"},
        {"HTTP_USER_AGENT": "\x00" * 600, "HTTP_X_FORWARDED_FOR": "\x00, 1.2.3.4"},
    ],
)
def test_a_nul_in_a_header_is_counted_like_any_failure(alice, headers):
    """PostgreSQL refuses a NUL in text: the failure is recorded all the same, so a header
    can't make guesses uncounted (nor fail with a 500)."""
    attacker = browser(**headers)
    answers = [log_in(attacker, "/login/", "alice", f"guess-{n}") for n in range(10)]
    assert [a.status_code for a in answers] == [200] * 9 + [429]
    assert log_in(attacker, "/login/", "alice", PASSWORD).status_code == 429


@pytest.mark.parametrize(
    "data",
    [
        {"username": "alice\x00", "password": "x"},
        {"username": "a" * 5000, "password": "x"},
        {"username": "alice"},
        {},
    ],
)
@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_a_malformed_login_form_is_an_error_on_the_page(alice, page, data):
    response = browser().post(page, data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not AccessAttempt.objects.exists()  # no password was tried


def test_an_operator_lifts_a_lockout(alice):
    for n in range(10):
        log_in(browser(), "/login/", "alice", f"guess-{n}")
    call_command("axes_reset_username", "alice", stdout=io.StringIO())
    assert log_in(browser(), "/login/", "alice", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "env",
    [{"LOGIN_FAILURE_LIMIT": "0"}, {"LOGIN_COOLOFF_MINUTES": "0"}, {"TRUSTED_PROXY_COUNT": "-1"}],
)
def test_settings_that_would_turn_throttling_off_or_on_its_head_are_refused(env):
    result = _manage("check", DJANGO_DEBUG="1", **env)
    assert result.returncode != 0
    assert "LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be at least 1" in result.stderr
