"""The markets pages in headless Chromium: English and Chinese, 1280 px and 390 px, no sideways
scroll, the map, the S-curve, opening a market (screenshots in test-artifacts/screenshots/)."""

from __future__ import annotations

import pytest
from browser import ContextFactory, assert_no_sideways_scroll, screenshot, sign_in
from conftest import UserFactory
from playwright.sync_api import expect

from canyu.accounts.models import Role
from canyu.db import Database
from canyu.markets import service

from .conftest import MARKETS_DATA, Loader

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_markets_pages(
    new_context: ContextFactory,
    database: Database,
    load_world: Loader,
    make_user: UserFactory,
    locale: str,
) -> None:
    if (MARKETS_DATA / "xiaomi_2014_plan.csv").exists():
        with database.session() as session:
            service.import_dir(session, MARKETS_DATA)
    else:
        load_world()
    team = make_user(Role.TEAM, locale=locale)
    page = new_context("zh-CN" if locale == "zh" else "en-US").new_page()
    sign_in(page, team)
    page.goto("/markets?asof=2014")
    expect(page.locator("h1")).to_have_text(
        "下一步去哪里" if locale == "zh" else "Where to go next"
    )
    rows = page.locator("[data-ranking] tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 10
    assert page.locator(".mk-map path").count() > 100
    assert page.locator(".mk-map path[data-rank='1']").count() == 1
    expect(page.locator("[data-backtest]").first).to_be_visible()
    assert_no_sideways_scroll(page)
    screenshot(page, f"markets-{locale}")

    first = rows.first.get_attribute("data-iso3")
    page.click(f"[data-iso3='{first}'] .mk-country a")
    expect(page.locator(".mk-plot")).to_be_visible()
    assert page.locator(".mk-plot .mk-point").count() >= 5
    assert page.locator(".mk-spark").count() >= 4
    assert_no_sideways_scroll(page)
    screenshot(page, f"markets-country-{locale}")

    page.fill("#mk-note", "Announced with the Mi 3")
    page.click("[data-open]")
    expect(page.locator(".alert.success")).to_be_visible()
    expect(page.locator("[data-opened]")).to_contain_text("Announced with the Mi 3")
    with database.session() as session:
        assert [o.iso3 for o in service.opened_markets(session)] == [first]

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/markets?asof=2014")
    expect(page.locator("[data-ranking]")).to_be_visible()
    assert_no_sideways_scroll(page)
    screenshot(page, f"markets-phone-{locale}")
    page.goto(f"/markets/countries/{first}?asof=2014")
    assert_no_sideways_scroll(page)
    screenshot(page, f"markets-country-phone-{locale}")
