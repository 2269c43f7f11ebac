"""Every page, on the demo world, as each role sees it, in English and Chinese, on a phone
(390 px) and a laptop (1280 px): none is wider than the screen, and all its text meets WCAG AA
contrast (tests/pagecheck.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest
from browser import serving
from pagecheck import contrast_failures, overflow
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from canyu.app import create_app
from canyu.calls.models import Number
from canyu.config import Settings
from canyu.db import Database
from canyu.demo import fill_demo
from canyu.demo.world import DEMO_PASSWORD
from canyu.hotspots.models import Hotspot
from canyu.migrate import upgrade
from canyu.releases import service as releases
from canyu.releases.settings import get_release_settings
from canyu.store.models import Product, Sale
from canyu.web.templating import LOCALE_COOKIE

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)


@dataclass
class DemoSite:
    url: str
    pages: dict[str, list[str]]  # role -> the pages that role visits


def _pages(database: Database) -> dict[str, list[str]]:
    with database.session() as s:
        post_id = 1
        rollout = next(r for r in releases.list_rollouts(s) if r.status == "active")
        sale = s.scalars(select(Sale).order_by(Sale.id)).first()
        product = s.scalars(select(Product).order_by(Product.id)).first()
        number = s.scalars(select(Number).where(Number.label.is_not(None))).first()
        hotspot = s.scalars(select(Hotspot).order_by(Hotspot.id)).first()
    assert sale is not None
    assert product is not None
    assert number is not None
    assert hotspot is not None
    public = [
        "/",
        "/?sort=new",
        f"/posts/{post_id}",
        "/posts/abc",
        "/honour",
        "/releases",
        f"/releases/builds/{rollout.build_id}",
        f"/releases/rollouts/{rollout.id}",
        "/store",
        f"/store/sales/{sale.id}",
        f"/store/products/{product.slug}",
        "/calls",
        f"/calls/numbers/{quote(number.e164, safe='')}",
        "/greetings",
        "/hotspots",
        f"/hotspots/{hotspot.id}",
        "/signin",
        "/signup",
    ]
    friend = [
        "/submit",
        "/notifications",
        "/profile",
        "/store/orders",
        "/accounts/tokens",
        f"/calls/numbers/{quote(number.e164, safe='')}/appeal",
    ]
    team = [
        "/console",
        "/console/releases",
        "/console/store",
        f"/console/store/sales/{sale.id}",
        "/calls/appeals",
        "/markets",
        "/markets/countries/CN",
        "/greetings/queue",
    ]
    return {"visitor": public, "friend": public + friend, "team": public + friend + team}


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo world (as ``canyu demo`` fills it) in its own database, served for real."""
    base = tmp_path_factory.mktemp("demo-site")
    url = f"sqlite:///{base / 'demo.db'}"
    upgrade(url)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CANYU_RELEASE_TUF_DIR", str(base / "tuf"))
        env.setenv("CANYU_RELEASE_KEYS_DIR", str(base / "keys" / "online"))
        env.setenv("CANYU_RELEASE_ROOT_KEYS_DIR", str(base / "keys" / "root"))
        get_release_settings.cache_clear()
        database = Database(url)
        try:
            with database.session() as session:
                fill_demo(session, progress=lambda _stage, _done, _total: None)
                session.commit()
            app = create_app(Settings(database_url=url, secret_key="every-page"), database)
            with serving(app) as served:
                # The first page waits for the similar-posts model and index: once, here.
                urlopen(f"{served}/", timeout=300).close()  # noqa: S310 - our local server
                yield DemoSite(served, _pages(database))
        finally:
            database.dispose()
            get_release_settings.cache_clear()


EMAILS = {"friend": "friend@example.com", "team": "team.ananya@example.com"}


def _sign_in(page: Page, email: str) -> None:
    page.goto("/signin")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form.auth-card button[type=submit]")
    page.wait_for_url(lambda u: not u.endswith("/signin"))


@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize("role", ["visitor", "friend", "team"])
def test_no_page_is_wider_than_the_screen_or_hard_to_read(
    browser: Browser, demo_site: DemoSite, role: str, locale: str
) -> None:
    context = browser.new_context(
        base_url=demo_site.url, viewport={"width": WIDTHS[0], "height": 800}
    )
    context.add_cookies(
        [{"name": LOCALE_COOKIE, "value": locale, "url": demo_site.url}]
    )  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if role in EMAILS:
        _sign_in(page, EMAILS[role])
    wide: dict[str, object] = {}
    faint: dict[str, object] = {}
    try:
        for path in demo_site.pages[role]:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                if width == WIDTHS[0]:
                    page.goto(path)
                    assert page.locator("html").get_attribute("lang", timeout=5000) == (
                        "zh-CN" if locale == "zh" else "en"
                    ), path
                if sticking_out := overflow(page):
                    wide[f"{path} @{width}"] = sticking_out
                if unreadable := contrast_failures(page):
                    faint[f"{path} @{width}"] = unreadable[:5]
    finally:
        context.close()
    # Both lists in one message: (pages wider than the screen, text below AA contrast).
    assert (wide, faint) == ({}, {})
    assert not errors, errors


def test_the_checks_catch_what_they_look_for(browser: Browser, tmp_path: Path) -> None:
    """The checks themselves: a too-wide block and grey-on-white text are found."""
    page = browser.new_page(viewport={"width": 390, "height": 600})
    page.set_content(
        "<body style='margin:0'><p style='color:#aaa'>faint</p>"
        "<p style='color:#111'>fine</p><div style='width:600px'>wide</div></body>"
    )
    assert overflow(page)[0] == {"page": 600, "viewport": 390}
    [failure] = contrast_failures(page)
    assert failure["text"] == "faint"
    assert failure["ratio"] == pytest.approx(2.32, abs=0.01)
    page.close()
