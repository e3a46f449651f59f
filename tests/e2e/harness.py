"""Helpers for the browser tests: problem recording, login, accessibility, layout, screenshots.

The fixtures that use them (``browser``, ``page``, ``page_errors``) live in conftest.py; tests
import the helpers from here::

    from tests.e2e.harness import check_accessibility, login, screenshot
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    Route,
)

E2E_DIR = Path(__file__).resolve().parent
REPO_DIR = E2E_DIR.parent.parent
# Screenshots and other outputs for people to look at; git ignores /test-artifacts/.
ARTIFACTS_DIR = Path(os.environ.get("E2E_ARTIFACTS_DIR") or REPO_DIR / "test-artifacts")
SCREENSHOTS_DIR = ARTIFACTS_DIR / "screenshots"
FAILURES_DIR = ARTIFACTS_DIR / "failures"
AXE_SCRIPT = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    # Root in a container has no user namespaces for Chromium's sandbox.
    "--no-sandbox",
    "--disable-gpu",
    # This machine's closed network refuses Chromium's own background connections (QUIC,
    # component updates, sync, field trials); without these flags they stall or log errors.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
AXE_FAILING_IMPACTS = ("serious", "critical")


def e2e_required() -> bool:
    """True when missing browser-test tools must fail the run (CI sets E2E_REQUIRED=1)."""
    return os.environ.get("E2E_REQUIRED", "") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip the test for a missing tool, or fail it when E2E_REQUIRED=1."""
    if e2e_required():
        pytest.fail(f"{reason} (E2E_REQUIRED=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    """Skip (or fail, with E2E_REQUIRED=1) when Debian's Chromium is not installed."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(
            f"{CHROMIUM} is missing: install Debian's chromium package, "
            "e.g. apt-get install chromium"
        )


# -- problems a page may cause --------------------------------------------------------------

CONSOLE_ERROR = "console error"
PAGE_ERROR = "page error"
FAILED_REQUEST = "failed request"
EXTERNAL_REQUEST = "external request"
KINDS = (CONSOLE_ERROR, PAGE_ERROR, FAILED_REQUEST, EXTERNAL_REQUEST)
CANCELLED = "net::ERR_ABORTED"  # Chromium's failure text for a request the page cancelled

# Resource types whose 4xx/5xx answer from the live server is a broken page (a missing
# stylesheet, script, image or font). Documents and fetch/XHR answers are the test's business:
# a test that opens a 404 page on purpose checks the status itself.
_SUBRESOURCE_TYPES = {"stylesheet", "script", "image", "font", "media", "manifest"}


@dataclass(frozen=True)
class Problem:
    kind: str
    text: str
    url: str = ""
    status: int | None = None  # HTTP status of a failed request that got an answer

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


@dataclass
class _Expectation:
    kind: str
    pattern: re.Pattern[str]
    reason: str
    matched: bool = False


@dataclass
class PageProblems:
    """What went wrong in a test's browser pages; the ``page_errors`` fixture.

    The ``page`` fixture records console errors, uncaught page errors, failed requests for the
    live server's own files, and every request to another host (which it also aborts). At
    teardown the test fails if any problem was recorded that the test did not announce with
    :meth:`expect`, or if an announced problem never happened.
    """

    origin: str
    _problems: list[Problem] = field(default_factory=list)
    _expected: list[_Expectation] = field(default_factory=list)

    # -- recording (wired to Playwright events by the page fixture) --

    def is_own(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return True  # data:, blob:, about:, chrome-error: never leave the browser
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def record(self, kind: str, text: str, url: str = "", status: int | None = None) -> None:
        self._problems.append(Problem(kind, text, url, status))

    def on_route(self, route: Route) -> None:
        request = route.request
        if self.is_own(request.url):
            route.continue_()
        else:
            self.record(EXTERNAL_REQUEST, f"{request.method} {request.url} (blocked)", request.url)
            route.abort("blockedbyclient")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url") or ""
            line = message.location.get("lineNumber")
            at = f" (at {where}:{line})" if where else ""
            self.record(CONSOLE_ERROR, f"{message.text}{at}", where)

    def on_page_error(self, error: Error) -> None:
        self.record(PAGE_ERROR, f"{error.name or 'Error'}: {error.message}")

    def on_request_failed(self, request: Request) -> None:
        # Requests to other hosts were aborted by on_route and are reported as such.
        # net::ERR_ABORTED is the page cancelling a request itself: a navigation that leaves
        # before the favicon arrived, htmx dropping a stale request (hx-sync), an
        # AbortController. Nothing failed on the server; a file that came back as an HTTP
        # error is reported by on_response.
        if request.failure == CANCELLED:
            return
        if self.is_own(request.url) and not request.url.startswith(("data:", "blob:")):
            reason = request.failure or "failed"
            self.record(FAILED_REQUEST, f"{request.method} {request.url}: {reason}", request.url)

    def on_response(self, response: Response) -> None:
        request = response.request
        if (
            response.status >= 400
            and self.is_own(response.url)
            and request.resource_type in _SUBRESOURCE_TYPES
        ):
            self.record(
                FAILED_REQUEST,
                f"{request.method} {response.url}: HTTP {response.status} "
                f"({request.resource_type})",
                response.url,
                response.status,
            )

    # -- what tests use --

    def expect(self, kind: str, pattern: str, reason: str = "") -> None:
        """Announce a problem this test causes on purpose or knows about.

        ``kind`` is one of CONSOLE_ERROR, PAGE_ERROR, FAILED_REQUEST, EXTERNAL_REQUEST;
        ``pattern`` is a regular expression searched in the problem's text (the same text the
        failure message shows). An expectation that matches nothing fails the test too, so a
        known issue that gets fixed is noticed.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")
        self._expected.append(_Expectation(kind, re.compile(pattern), reason))

    @property
    def problems(self) -> list[Problem]:
        """Every recorded problem once: without the browser's echoes of a request already
        reported (its "Failed to load resource" console line, or the net::ERR_ABORTED with
        which Chromium drops a stylesheet or script that came back as an HTTP error)."""
        reported = {p.url for p in self._problems if p.kind != CONSOLE_ERROR and p.url}
        http_errors = {p.url for p in self._problems if p.kind == FAILED_REQUEST and p.status}
        return [
            p
            for p in self._problems
            if not (
                p.kind == CONSOLE_ERROR
                and p.url in reported
                and p.text.startswith("Failed to load resource")
            )
            and not (p.kind == FAILED_REQUEST and not p.status and p.url in http_errors)
        ]

    def of(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def failures(self) -> list[str]:
        """Readable lines for unexpected problems and expectations that were never met."""
        for expectation in self._expected:
            expectation.matched = False
        lines = []
        for problem in self.problems:
            matching = [
                e
                for e in self._expected
                if e.kind == problem.kind and e.pattern.search(problem.text)
            ]
            for expectation in matching:
                expectation.matched = True
            if not matching:
                lines.append(f"  - {problem}")
        for expectation in self._expected:
            if not expectation.matched:
                why = f" ({expectation.reason})" if expectation.reason else ""
                lines.append(
                    f"  - expected {expectation.kind} matching "
                    f"{expectation.pattern.pattern!r}{why} did not happen"
                )
        return lines

    def check(self) -> None:
        """Raise AssertionError listing unexpected problems; the page fixture calls it."""
        if lines := self.failures():
            raise AssertionError(
                "The browser reported problems (use page_errors.expect(kind, pattern) for "
                "intended ones):\n" + "\n".join(lines)
            )


def settle(context: BrowserContext) -> None:
    """Let the browser deliver the events still in flight for the context's pages (a round
    trip to each) before anyone judges them; a closed or crashed page has nothing left to
    say."""
    for open_page in context.pages:
        with contextlib.suppress(Error):
            open_page.evaluate("0")


def finish_page(page: Page, page_errors: PageProblems, *, test_failed: bool, name: str) -> None:
    """What the ``page`` fixture does after the test: collect the browser's last events, then
    fail on unexpected problems; or, when the test itself failed, save a screenshot under
    test-artifacts/failures/ and print the problems beside that failure instead."""
    settle(page.context)
    if not test_failed:
        report = ""
        try:
            page_errors.check()
        except AssertionError as problems:
            report = str(problems)
        if report:
            pytest.fail(report, pytrace=False)  # the list says it all; no traceback
        return
    path = FAILURES_DIR / f"{_file_name(name)}.png"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        print(f"Screenshot of the page at the failure: {path}")
    except Error as error:
        print(f"(no screenshot of the failure: {error})")
    if lines := page_errors.failures():
        print("The browser also reported:\n" + "\n".join(lines))


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"


# -- helpers for tests ------------------------------------------------------------------------


def login(page: Page, username: str, password: str, url: str = "/login/") -> None:
    """Log in through the login form at ``url``: fields labelled "Username" and "Password"
    and a "Log in" button. Fails with the page's message if the login page comes back."""
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if urlsplit(page.url).path == urlsplit(url).path:
        message = page.locator(".errornote, .errorlist, [role=alert]").all_inner_texts()
        raise AssertionError(
            f"login as {username!r} at {url} failed: still on {page.url}"
            + (f" ({' '.join(m.strip() for m in message)})" if message else "")
        )


NODE_BIN = E2E_DIR / "node_modules" / ".bin"


@functools.cache
def _npm_installed(wanted: Path) -> Path:
    """``wanted`` (a file under tests/e2e/node_modules), running ``npm ci`` once (under a file
    lock) when it is missing: also when node_modules predates a package added since."""
    if wanted.exists():
        return wanted
    npm = shutil.which("npm")
    if npm is None:
        raise _ToolMissing(
            f"{wanted.relative_to(E2E_DIR)} is not installed and npm is missing: install "
            "Node.js and npm (e.g. apt-get install npm), or run `npm ci --prefix tests/e2e`"
        )
    with open(E2E_DIR / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not wanted.exists():
            result = subprocess.run(
                [npm, "ci", "--prefix", str(E2E_DIR), "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if result.returncode != 0 or not wanted.exists():
                raise RuntimeError(
                    f"`npm ci --prefix tests/e2e` failed ({result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}"
                )
    return wanted


class _ToolMissing(Exception):
    pass


def npm_file(wanted: Path) -> Path:
    """``wanted`` from tests/e2e/node_modules, installed with npm ci if needed; skips the test
    (or fails it with E2E_REQUIRED=1) when npm is missing."""
    try:
        return _npm_installed(wanted)
    except _ToolMissing as missing:
        skip_or_fail(str(missing))
        raise  # unreachable: skip_or_fail raises


def axe_script() -> Path:
    """axe.min.js from tests/e2e/node_modules (see npm_file)."""
    return npm_file(AXE_SCRIPT)


def node_tool(name: str) -> Path:
    """The command ``name`` from tests/e2e/node_modules/.bin, such as ``tsc`` (see npm_file)."""
    return npm_file(NODE_BIN / name)


def check_accessibility(
    page: Page, *, known: tuple[str, ...] = (), impacts: tuple[str, ...] = AXE_FAILING_IMPACTS
) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is now.

    Fails on violations whose impact is in ``impacts`` (serious and critical), listing each
    rule, its help text and the offending elements. ``known`` names rule ids that are known
    issues to tolerate for now; a known rule that no longer fails makes the check fail too, so
    the exception gets removed. Returns every violation axe reported (all impacts).
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol rather than page.add_script_tag(path=...):
        # an inline <script> is refused by a Content-Security-Policy without 'unsafe-inline'
        # (which our own pages may well send), and the refusal would be a console error.
        page.evaluate(axe_script().read_text(encoding="utf-8"))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(" ")),
            }));
        }""",
        list(AXE_TAGS),
    )
    failing = [v for v in result if v["impact"] in impacts]
    unexpected = [v for v in failing if v["id"] not in known]
    fixed = sorted(set(known) - {v["id"] for v in failing})
    lines = []
    for v in unexpected:
        lines.append(f"  - {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        lines.extend(f"      {target}" for target in v["targets"][:10])
        if len(v["targets"]) > 10:
            lines.append(f"      ... and {len(v['targets']) - 10} more")
    lines.extend(
        f"  - known issue {rule!r} no longer fails: remove it from known" for rule in fixed
    )
    if lines:
        raise AssertionError(
            f"Accessibility check (axe-core, WCAG 2.x A/AA, impact {'/'.join(impacts)}) "
            f"failed on {page.url}:\n" + "\n".join(lines)
        )
    return result


def check_no_horizontal_scroll(page: Page, width: int = 390, height: int = 844) -> None:
    """Fail if the page needs horizontal scrolling at ``width`` CSS pixels (a phone).

    Resizes the viewport for the check and restores it afterwards; names the elements that
    stick out past the right edge.
    """
    previous = page.viewport_size
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        measured = page.evaluate(
            """() => {
                const doc = document.documentElement;
                const wide = [];
                for (const el of document.body ? document.body.querySelectorAll("*") : []) {
                    const right = el.getBoundingClientRect().right + window.scrollX;
                    if (right > window.innerWidth + 0.5) {
                        let name = el.tagName.toLowerCase();
                        if (el.id) name += "#" + el.id;
                        if (typeof el.className === "string" && el.className.trim())
                            name += "." + el.className.trim().split(/\\s+/).join(".");
                        wide.push(`${name} (right edge at ${Math.round(right)}px)`);
                    }
                }
                return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, wide};
            }"""
        )
    finally:
        if previous:
            page.set_viewport_size(previous)
    if measured["scrollWidth"] > measured["innerWidth"]:
        wide = measured["wide"]
        listed = "\n".join(f"  - {w}" for w in wide[:15])
        more = f"\n  ... and {len(wide) - 15} more" if len(wide) > 15 else ""
        raise AssertionError(
            f"{page.url} scrolls horizontally at {width}px: the document is "
            f"{measured['scrollWidth']}px wide. Elements past the right edge:\n{listed}{more}"
        )


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as test-artifacts/screenshots/<name>.png; returns its path."""
    path = SCREENSHOTS_DIR / f"{_file_name(name)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
