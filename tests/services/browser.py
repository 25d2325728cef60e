"""Session-wide headless Chromium for browser tests (Debian's /usr/bin/chromium driven by
Playwright's sync API; Playwright's own browser download is never used).

Fixtures:
- `browser`: one Chromium for the whole session.
- `page_factory(**context_options)`: a fresh, isolated page (its own context, so its own
  cookies); every page it makes is guarded: a console error, an uncaught page error or a
  request to any host other than 127.0.0.1 fails the test, and a screenshot of each page is
  saved under test-artifacts/ when the test ends.
- `page`: one such page.

Use them with pytest-django's `live_server` and mark the tests `browser`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls
# from the test body as "async unsafe". The tests do not share connections across threads.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# pytest-django's live_server listens on "localhost" unless told otherwise: keep it (and so
# every page a test opens) on 127.0.0.1, the only host the pages may talk to.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = os.environ.get("SSOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ALLOWED_HOSTS = {"127.0.0.1"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Chromium asks for /favicon.ico on its own; a missing icon is not an error of the page. A
# refused sign-in answers its callback with a 4xx/5xx page on purpose (Chromium logs the status).
IGNORED_CONSOLE = re.compile(r"/favicon\.ico$|/oidc/callback/\?")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class GuardedPages:
    """Makes pages that record what must fail the test."""

    def __init__(self, browser, name: str):
        self.browser = browser
        self.name = name
        self.contexts: list = []
        self.pages: list = []
        self.problems: list[str] = []

    def _guard_requests(self, route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ALLOWED_HOSTS:
            route.continue_()
        else:
            self.problems.append(f"request to a non-local host: {route.request.url}")
            route.abort()

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if not IGNORED_CONSOLE.search(where):
            self.problems.append(f"console error: {message.text} ({where})")

    def new_page(self, **context_options):
        context_options.setdefault("viewport", {"width": 1280, "height": 900})
        context = self.browser.new_context(**context_options)
        context.set_default_timeout(10_000)
        context.route("**/*", self._guard_requests)
        page = context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.contexts.append(context)
        self.pages.append(page)
        return page

    def close(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, page in enumerate(self.pages):
            suffix = f"-{index + 1}" if len(self.pages) > 1 else ""
            try:
                page.screenshot(path=str(ARTIFACTS / f"{self.name}{suffix}.png"), full_page=True)
            except Exception as exc:  # a closed page must not hide the test's own result
                self.problems.append(f"screenshot failed: {exc}")
        for context in self.contexts:
            context.close()


@pytest.fixture
def page_factory(browser, request):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])[:150]
    pages = GuardedPages(browser, name)
    yield pages.new_page
    pages.close()
    if pages.problems:
        pytest.fail("browser problems:\n" + "\n".join(pages.problems), pytrace=False)


@pytest.fixture
def page(page_factory):
    return page_factory()
