"""The browser-test harness proves itself: on the Django admin's real pages (login, index) and
on tiny pages made up with Playwright routes for each kind of problem it must catch."""

import os

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import harness
from tests.e2e.harness import (
    CONSOLE_ERROR,
    EXTERNAL_REQUEST,
    FAILED_REQUEST,
    PAGE_ERROR,
    SCREENSHOTS_DIR,
    PageProblems,
    check_accessibility,
    check_no_horizontal_scroll,
    finish_page,
    login,
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


def test_new_page_has_a_context_of_its_own_whose_problems_count(page, new_page, page_errors):
    other = new_page(java_script_enabled=False)

    other.route(
        "**/__e2e__/no-js/",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body='<title>Static</title><script>document.title = "Scripted"</script>'
            '<img src="https://example.com/no-js.png">',
        ),
    )
    other.goto("/__e2e__/no-js/")

    assert other.title() == "Static"  # its scripts don't run
    assert other.context is not page.context  # nor does it share page's cookies
    assert other.viewport_size == page.viewport_size
    assert [p.text for p in page_errors.problems] == ["GET https://example.com/no-js.png (blocked)"]
    page_errors.expect(EXTERNAL_REQUEST, r"example\.com/no-js\.png", "this test's own request")


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


def test_requests_the_page_cancels_are_not_failures(page, page_errors):
    # A page that navigates away before its favicon arrived, or htmx dropping a stale
    # request, cancels it (net::ERR_ABORTED): not a broken page. A request that fails is one.
    page.goto("/admin/login/")
    held = []
    page.route("**/__e2e__/held", lambda route: held.append(route))  # never answered
    page.route("**/__e2e__/broken", lambda route: route.abort("failed"))
    with page.expect_event("requestfailed") as cancelled:
        page.evaluate(
            """() => {
                window.e2eCancel = new AbortController();
                fetch("/__e2e__/held", {signal: window.e2eCancel.signal}).catch(() => {});
            }"""
        )
        page.wait_for_function("() => true")  # a round trip: the route has the request
        assert held
        page.evaluate("window.e2eCancel.abort()")
    assert cancelled.value.failure == "net::ERR_ABORTED"
    with page.expect_event("requestfailed"):
        page.evaluate('fetch("/__e2e__/broken").catch(() => {})')

    assert [p.text for p in page_errors.problems] == [
        f"GET {page_errors.origin}/__e2e__/broken: net::ERR_FAILED"
    ]
    page_errors.expect(FAILED_REQUEST, r"/__e2e__/broken: net::ERR_FAILED")


def test_unexpected_problems_fail_the_test_at_teardown(page, page_errors):
    page.set_content("<script>throw new Error('unexpected boom')</script>")

    with pytest.raises(pytest.fail.Exception) as failure:
        finish_page(page, page_errors, test_failed=False, name="any")  # as the fixture does

    assert str(failure.value) == (
        "The browser reported problems (use page_errors.expect(kind, pattern) for intended "
        "ones):\n  - page error: Error: unexpected boom"
    )
    page_errors.expect(PAGE_ERROR, "unexpected boom")
    finish_page(page, page_errors, test_failed=False, name="any")


def test_an_expected_problem_that_never_comes_fails():
    problems = PageProblems(origin="http://localhost:8000")
    problems.expect(PAGE_ERROR, "never thrown", "a known bug")

    with pytest.raises(AssertionError, match=r"expected page error matching 'never thrown' "):
        problems.check()
    with pytest.raises(ValueError, match="unknown kind"):
        problems.expect("warning", "anything")


def test_a_failed_test_keeps_its_failure_and_gets_a_screenshot(
    page, page_errors, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(harness, "FAILURES_DIR", tmp_path)
    page.set_content("<script>throw new Error('beside a failure')</script>")

    finish_page(page, page_errors, test_failed=True, name="tests/x.py::test_y[1]")

    assert (tmp_path / "tests-x.py-test_y-1.png").read_bytes().startswith(b"\x89PNG")
    assert "The browser also reported:\n  - page error: Error: beside a failure" in (
        capsys.readouterr().out
    )
    page_errors.expect(PAGE_ERROR, "beside a failure")


def test_the_orm_works_beside_playwright(page, django_user_model):
    # Playwright's event loop runs in this thread; Django would refuse without the conftest's
    # DJANGO_ALLOW_ASYNC_UNSAFE.
    assert os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] == "true"
    django_user_model.objects.create(username="beside-playwright")
    assert django_user_model.objects.filter(username="beside-playwright").exists()
