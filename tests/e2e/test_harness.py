"""The browser-test harness proves itself: on the Django admin's real pages (login, index) and
on tiny pages made up with Playwright routes for each kind of problem it must catch."""

import os
import subprocess
import sys
import textwrap

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import (
    CONSOLE_ERROR,
    EXTERNAL_REQUEST,
    FAILED_REQUEST,
    PAGE_ERROR,
    REPO_DIR,
    SCREENSHOTS_DIR,
    check_accessibility,
    check_no_horizontal_scroll,
    login,
    require_chromium,
    screenshot,
)

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


def serve_html(page: Page, path: str, html: str) -> None:
    """Answer ``path`` on the live server's origin with ``html`` (no view needed) and open it."""
    page.route(
        f"**{path}",
        lambda route: route.fulfill(status=200, content_type="text/html", body=html),
    )
    page.goto(path)


def test_admin_login_page_is_accessible_and_fits_a_phone(page):
    page.goto("/admin/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()

    path = screenshot(page, "admin-login")

    assert path == SCREENSHOTS_DIR / "admin-login.png"
    assert path.read_bytes().startswith(b"\x89PNG")
    check_accessibility(page)
    check_no_horizontal_scroll(page)


def test_admin_logs_in_through_the_form(page, admin_user):
    login(page, "admin", PASSWORD, url="/admin/login/")

    assert page.url.endswith("/admin/")
    expect(page.get_by_role("heading", name="Catalog administration")).to_be_visible()
    screenshot(page, "admin-index")
    check_accessibility(page)
    check_no_horizontal_scroll(page)


def test_a_refused_login_says_why(page, admin_user):
    with pytest.raises(AssertionError, match=r"login as 'admin' at /admin/login/ failed.*correct"):
        login(page, "admin", "wrong-password", url="/admin/login/")


def test_accessibility_violations_are_listed(page):
    serve_html(
        page,
        "/__e2e__/inaccessible/",
        "<html><head><title>No language, no alt</title></head><body><main>"
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="logo"></main></body></html>',
    )

    with pytest.raises(AssertionError) as failure:
        check_accessibility(page)

    message = str(failure.value)
    assert "image-alt (critical): Images must have alternative text" in message
    assert "#logo" in message
    assert "html-has-lang (serious)" in message

    # A known issue is tolerated, and one that went away must be struck off the list.
    violations = check_accessibility(page, known=("image-alt", "html-has-lang"))
    assert {v["id"] for v in violations} >= {"image-alt", "html-has-lang"}
    with pytest.raises(AssertionError, match="known issue 'color-contrast' no longer fails"):
        check_accessibility(page, known=("image-alt", "html-has-lang", "color-contrast"))


def test_accessibility_check_works_under_a_strict_content_security_policy(page):
    strict = "default-src 'self'; script-src 'nonce-e2e' 'strict-dynamic'"
    page.route(
        "**/__e2e__/strict/",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": strict},
            body='<html lang="en"><head><title>Strict</title></head><body><main><h1>Hi</h1>'
            "</main></body></html>",
        ),
    )
    page.goto("/__e2e__/strict/")

    assert check_accessibility(page) == []


def test_a_page_wider_than_a_phone_is_caught(page):
    serve_html(
        page,
        "/__e2e__/wide/",
        '<html lang="en"><body style="margin:0"><div class="banner" style="width:600px">'
        "wide</div></body></html>",
    )

    with pytest.raises(AssertionError, match=r"(?s)scrolls horizontally at 390px.*div\.banner"):
        check_no_horizontal_scroll(page)
    assert page.viewport_size == {"width": 1280, "height": 800}

    serve_html(page, "/__e2e__/narrow/", '<html lang="en"><body><p>fits</p></body></html>')
    check_no_horizontal_scroll(page)


def test_requests_to_other_hosts_are_blocked_and_reported(page, page_errors):
    page.set_content('<img src="https://example.com/x.png">')

    assert page.evaluate("document.images[0].complete && document.images[0].naturalWidth") == 0
    assert [p.text for p in page_errors.of(EXTERNAL_REQUEST)] == [
        "GET https://example.com/x.png (blocked)"
    ]
    assert page_errors.of(CONSOLE_ERROR) == []  # the browser's echo of it is not repeated
    with pytest.raises(AssertionError, match=r"external request: GET https://example\.com/x\.png"):
        page_errors.check()

    page_errors.expect(EXTERNAL_REQUEST, r"example\.com/x\.png", "this test's own request")


def test_javascript_errors_are_caught(page, page_errors):
    page.set_content(
        "<script>console.error('something broke')</script>"
        "<script>throw new TypeError('boom')</script>"
    )

    assert [p.text for p in page_errors.of(PAGE_ERROR)] == ["TypeError: boom"]
    assert [p.text for p in page_errors.of(CONSOLE_ERROR)] == ["something broke"]
    with pytest.raises(AssertionError) as failure:
        page_errors.check()
    assert "page error: TypeError: boom" in str(failure.value)
    assert "console error: something broke" in str(failure.value)

    page_errors.expect(PAGE_ERROR, "boom")
    page_errors.expect(CONSOLE_ERROR, "something broke")


def test_a_missing_static_file_is_caught(page, page_errors):
    serve_html(
        page,
        "/__e2e__/broken/",
        '<html lang="en"><head><link rel="stylesheet" href="/static/e2e-missing.css">'
        "</head><body><p>styled?</p></body></html>",
    )

    assert [p.text for p in page_errors.of(FAILED_REQUEST)] == [
        f"GET {page_errors.origin}/static/e2e-missing.css: HTTP 404 (stylesheet)"
    ]
    page_errors.expect(FAILED_REQUEST, r"/static/e2e-missing\.css: HTTP 404")


INNER_CONFTEST = """
from tests.e2e.conftest import (  # noqa: F401
    _django_orm_beside_playwright,
    browser,
    browser_context,
    page,
    page_errors,
    pytest_runtest_makereport,
)
"""

INNER_TESTS = """
def test_unexpected_error(page):
    page.set_content("<script>throw new Error('inner boom')</script>")

def test_expected_error_that_never_comes(page, page_errors):
    page_errors.expect("page error", "never thrown", "a known bug")
    page.set_content("<p>calm</p>")

def test_expected_error(page, page_errors):
    page_errors.expect("page error", "inner boom")
    page.set_content("<script>throw new Error('inner boom')</script>")

def test_orm_works_beside_playwright(page, django_user_model):
    django_user_model.objects.create(username="inner")
    assert django_user_model.objects.filter(username="inner").exists()

def test_failing_test_keeps_its_own_failure(page):
    page.set_content("<script>throw new Error('beside a failure')</script>")
    assert False, "the test's own failure"
"""


def test_page_fixture_fails_the_test_at_teardown(tmp_path):
    """Run a few browser tests in a separate pytest and read its verdicts."""
    require_chromium()
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\n"
        "DJANGO_SETTINGS_MODULE = config.settings_test\n"
        f"pythonpath = {REPO_DIR}\n"
        "filterwarnings = ignore:No directory at:UserWarning\n"
    )
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")
    }
    env["DATABASE_URL"] = "sqlite://:memory:"  # never the outer run's test database
    env["E2E_ARTIFACTS_DIR"] = str(tmp_path / "artifacts")  # its failure screenshot stays here

    inner_pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-migrations"]
    run = subprocess.run(
        [*inner_pytest, "-q", "-rA", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr

    assert "1 failed, 4 passed, 2 errors in" in output, output
    assert "ERROR test_inner.py::test_unexpected_error" in output, output
    assert "page error: Error: inner boom" in output, output
    assert "ERROR test_inner.py::test_expected_error_that_never_comes" in output, output
    assert "expected page error matching 'never thrown' (a known bug) did not happen" in output
    assert "PASSED test_inner.py::test_expected_error\n" in output, output
    assert "PASSED test_inner.py::test_orm_works_beside_playwright" in output, output
    assert "FAILED test_inner.py::test_failing_test_keeps_its_own_failure" in output, output
    assert "The browser also reported:\n  - page error: Error: beside a failure" in output
    failure_shot = "test_inner.py-test_failing_test_keeps_its_own_failure.png"
    assert (tmp_path / "artifacts" / "failures" / failure_shot).exists()
