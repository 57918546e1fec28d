"""Real-browser fixtures: Debian's Chromium driven by Playwright's sync API.

Playwright is used directly (no pytest-playwright) with ``executable_path``: the
browser is the system's ``chromium`` (or ``CHROMIUM_PATH``), never a download.
Locally the tests skip when Chromium is absent; with CI=true they fail.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from demo.specs import DEMO_PASSWORD
from tests.conftest import require_service

# The flags this workplace's machines need: no sandbox as root, no GPU, and no
# background connections (the closed network refuses them, many at a time).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_DIR = Path(settings.BASE_DIR) / "test-results" / "e2e"
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(autouse=True)
def chromium() -> str:
    """The Chromium binary; autouse so a missing browser skips before any seeding."""
    path = chromium_path()
    require_service(
        bool(path) and os.access(path, os.X_OK),
        "needs Chromium (apt-get install chromium, or set CHROMIUM_PATH)",
    )
    assert path is not None
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture
def playwright(live_server) -> Iterator[Playwright]:
    """Playwright for one test, started after the test database is set up.

    Playwright's sync API runs an asyncio event loop in this thread (on a
    greenlet) for as long as it is started. Django then believes it is in async
    code: its ORM raises SynchronousOnlyOperation, hence DJANGO_ALLOW_ASYNC_UNSAFE
    while Playwright runs. Also, asgiref hands this thread a *separate* database
    connection while a loop runs, which lacks what the test-database setup stored
    on the usual one (serialized_rollback's snapshot) and would be left open. So
    this fixture is per test and depends on ``live_server`` (hence on the
    transactional database): the database is set up before Playwright starts and
    flushed after it stops. Seed data in fixtures requested *before* ``page``;
    any query made while the browser runs goes through that second connection,
    which is closed before Playwright stops. The live server answers the browser
    from its own thread and is unaffected.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        connections.close_all()  # only the loop-context connections, see above
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    # launch() gives every run a fresh, temporary user-data-dir.
    browser = playwright.chromium.launch(
        executable_path=chromium, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


def csp_violations(page: Page) -> list[str]:
    """Collects, from now on, what Chromium reports refusing under the page's
    Content-Security-Policy (an inline script or style, a CDN, eval): a console
    error for each, whatever the page."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return seen


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies); screenshot kept on failure.

    Every browser test also fails on a Content-Security-Policy violation, on any page
    it visits: what a page needs must come from static files.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations = csp_violations(page)
    try:
        yield page
    finally:
        report = request.node.stash.get(_CALL_REPORT, None)
        if report is not None and report.failed:
            ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
            path = ARTIFACTS_DIR / f"{request.node.name}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failing page: {path}")
        context.close()
    if violations:
        unique = list(dict.fromkeys(violations))
        pytest.fail(f"{len(violations)} Content-Security-Policy violations:\n" + "\n".join(unique))


@pytest.fixture
def demo_logins(live_server) -> dict[str, str]:
    """Seed the demo firm as ./scripts/run does; its logins by role."""
    out = io.StringIO()
    call_command("seed_demo", "--today", timezone.localdate().isoformat(), stdout=out)
    logins: dict[str, str] = {}
    for line in out.getvalue().splitlines():
        words = line.split()
        if len(words) >= 3 and words[-1] == DEMO_PASSWORD:
            logins.setdefault(words[1], words[0])
    assert {"partner", "manager", "associate", "admin"} <= logins.keys(), out.getvalue()
    return logins
