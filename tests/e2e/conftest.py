"""Fixtures for the end-to-end browser tests: Playwright driving Debian's headless Chromium
against pytest-django's ``live_server``.

Every test here is marked ``e2e`` (``pytest -m "not e2e"`` leaves them out). Fixtures:

- ``browser``: one Chromium for all browser tests (package-scoped, see below).
- ``page``: a new browser context and page per test, 1280x800, whose relative URLs go to the
  live server; it records problems and fails the test at teardown when there are any.
- ``page_errors``: the problems ``page`` recorded (see harness.PageProblems), for
  ``page_errors.expect(kind, pattern)``.
- ``new_page``: opens more pages, each in a context of its own (another user's cookies, or
  JavaScript off), whose problems count as ``page``'s.

Helpers (login, check_accessibility, check_no_horizontal_scroll, screenshot) are in harness.py.
For the catalog pages' tests (test_pages_*.py): ``checkout``, a small catalog, and
``sign_in(page, user)``, a session without the login form; their helpers are in
catalog_pages.py.

Why DJANGO_ALLOW_ASYNC_UNSAFE: Playwright's sync API keeps an asyncio event loop running in
the test's own thread (suspended in a greenlet between calls) from ``sync_playwright().start()``
until ``stop()``. Django's async-safety check sees that running loop and refuses every ORM
call in the test (factories, assertions on the database, the live-server test database flush)
with SynchronousOnlyOperation. Nothing in the test thread runs inside that loop concurrently,
so the check is a false alarm here; we switch it off only while the browser is up and restore
the variable afterwards. That is also why ``browser`` is package-scoped rather than
session-scoped: it stops (and the loop with it) after the last browser test, so the rest of
the suite keeps Django's check.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from catalog.models import User
from tests.e2e import catalog_pages
from tests.e2e.catalog_pages import Checkout, build_checkout
from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PageProblems,
    finish_page,
    require_chromium,
    settle,
)

E2E_DIR = Path(__file__).resolve().parent
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A conftest's hook sees the whole session's items: mark only the ones in this folder.
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Let the page fixture know at teardown whether the test itself failed.
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="package")
def _django_orm_beside_playwright() -> Iterator[None]:
    """Allow the ORM in the test thread while Playwright's loop runs there (module docstring)."""
    key = "DJANGO_ALLOW_ASYNC_UNSAFE"
    previous = os.environ.get(key)
    os.environ[key] = "true"
    yield
    if previous is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = previous


@pytest.fixture(scope="package")
def browser(_django_orm_beside_playwright: None) -> Iterator[Browser]:
    """Headless Debian Chromium, launched once for all browser tests."""
    require_chromium()
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page_errors(live_server) -> PageProblems:
    """Problems the test's pages cause; ``page_errors.expect(kind, pattern)`` allows one."""
    return PageProblems(origin=live_server.url.rstrip("/"))


def _recording_context(
    browser: Browser, base_url: str, page_errors: PageProblems, **options
) -> BrowserContext:
    """A browser context (1280x800 unless ``options`` say otherwise) whose relative URLs go to
    ``base_url``, with other hosts blocked, that records its pages' problems in
    ``page_errors``: console errors and uncaught exceptions of every page, pop-ups too."""
    context = browser.new_context(**{"viewport": VIEWPORT, "base_url": base_url, **options})
    context.set_default_timeout(TIMEOUT_MS)
    # Only other hosts' requests are routed (to be blocked): letting every request of our own
    # through Playwright costs some 50 ms a page.
    context.route(re.compile(rf"^(?!{re.escape(page_errors.origin)}/)"), page_errors.on_route)
    context.on("requestfailed", page_errors.on_request_failed)
    context.on("response", page_errors.on_response)

    def watch(page: Page) -> None:
        page.on("console", page_errors.on_console)
        page.on("pageerror", page_errors.on_page_error)

    context.on("page", watch)
    return context


@pytest.fixture
def browser_context(
    browser: Browser, live_server, page_errors: PageProblems
) -> Iterator[BrowserContext]:
    """The page's browser context: 1280x800, relative URLs on the live server, other hosts
    blocked."""
    context = _recording_context(browser, live_server.url, page_errors)
    yield context
    context.close()


@pytest.fixture
def page(
    request: pytest.FixtureRequest, browser_context: BrowserContext, page_errors: PageProblems
) -> Iterator[Page]:
    """A fresh page on the live server (``page.goto("/admin/")``) that records console errors,
    uncaught exceptions, failed requests for the server's own files and requests to other
    hosts (blocked), and fails the test at teardown if any were not expected."""
    page = browser_context.new_page()
    yield page

    finish_page(
        page,
        page_errors,
        test_failed=request.node.stash.get(_CALL_FAILED, False),
        name=request.node.nodeid,
    )


@pytest.fixture
def new_page(
    page: Page, browser: Browser, live_server, page_errors: PageProblems
) -> Iterator[Callable[..., Page]]:
    """``new_page(**context_options)``: a page beside ``page`` in a browser context of its own
    (its own cookies, so another user can log in there), such as
    ``new_page(java_script_enabled=False)``. Its problems are recorded with ``page``'s and
    fail the test the same way."""
    contexts: list[BrowserContext] = []

    def open_page(**options) -> Page:
        context = _recording_context(browser, live_server.url, page_errors, **options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        settle(context)
        context.close()


# The catalog pages' tests (test_pages_*.py)


@pytest.fixture
def checkout(db) -> Checkout:
    """A category with a published event (two properties), an unpublished one, and an event
    in another integration."""
    return build_checkout()


@pytest.fixture
def sign_in(live_server) -> Callable[[Page, User], None]:
    """``sign_in(page, user)``: ``user`` is logged in in the page's context (no login form)."""
    return lambda page, user: catalog_pages.sign_in(page, user, live_server.url)
