"""Browser fixtures: the app served for real by uvicorn, and headless Debian Chromium.

A pytest plugin (registered in tests/conftest.py) so that every test module shares one
Playwright session; importing these fixtures into modules would start one per module.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from conftest import PASSWORD, REPO, require_service
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from starlette.types import ASGIApp

from canyu.accounts.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app on a free local port, served by uvicorn in a background thread."""
    with serving(app) as url:
        yield url


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """An ASGI app on a free local port, served by uvicorn in a background thread."""
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="canyu-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive():
            pytest.fail("uvicorn stopped before it started serving")
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 30 s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# Module scope: Playwright's sync API keeps an event loop running in the main thread, which
# would break asyncio.run() in any later test of the session.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    require_service(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, live_server: str) -> Iterator[ContextFactory]:
    """Fresh browser profiles (cookies, language) against the live server; closed afterwards.

    Any script error on any page fails the test.
    """
    opened: list[BrowserContext] = []
    script_errors: list[str] = []

    def make(locale: str = "en-US") -> BrowserContext:
        context = browser.new_context(
            base_url=live_server,
            locale=locale,
            viewport={"width": 1280, "height": 860},
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on(
            "page", lambda page: page.on("pageerror", lambda e: script_errors.append(str(e)))
        )
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()
    assert not script_errors, f"script errors on the pages: {script_errors}"


def sign_in(page: Page, user: User) -> None:
    """Sign in through the form, as a friend would."""
    page.goto("/signin")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("form.auth-card button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot under test-artifacts/screenshots/ (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_sideways_scroll(page: Page) -> None:
    """The page is no wider than the viewport (naming the first elements that stick out)."""
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.'"
        " + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px: {wide}"
