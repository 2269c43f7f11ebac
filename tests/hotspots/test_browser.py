"""The map, a hotspot and the claim flow in Chromium, English and Chinese, 1280 and 390 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import ContextFactory, screenshot, sign_in
from fastapi import FastAPI
from playwright.sync_api import Page

from canyu.db import Database
from canyu.hotspots import importers, service
from hotspots.conftest import NYC_FILE, FriendFactory


def seed(database: Database) -> int:
    with database.session() as s:
        if NYC_FILE.exists():
            rows = importers.read_file(Path(NYC_FILE))
        else:
            rows = [
                importers.Candidate(str(i), 40.70 + i * 0.001, -73.99, f"Net {i}", "", "open", True)
                for i in range(50)
            ]
        service.import_rows(s, rows=rows, source="nyc-open-data", licence="NYC Open Data terms")
        return service.near(s, lat=40.7580, lon=-73.9855, limit=1)[0][1].id


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.browser
def test_hotspot_pages_in_both_languages_and_widths(
    app: FastAPI, database: Database, new_context: ContextFactory, friend: FriendFactory
) -> None:
    hid = seed(database)
    me = friend(60)
    for locale, tag in (("en-US", "en"), ("zh-CN", "zh")):
        context = new_context(locale)
        page = context.new_page()
        sign_in(page, me)
        if tag == "zh":
            page.goto("/hotspots")
            page.click("button.lang")
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 860})
            page.goto("/hotspots")
            assert page.locator("svg.hs-map polygon").count() > 10
            assert page.locator("svg.hs-map circle").count() > 100
            assert page.locator("h1").inner_text() == (
                "Free Wi-Fi" if tag == "en" else "免费 Wi-Fi"
            )
            no_sideways_scroll(page)
            screenshot(page, f"hotspots-map-{tag}-{width}")
            page.goto(f"/hotspots/{hid}")
            assert page.locator(".hs-qr svg").count() == 1
            no_sideways_scroll(page)
            screenshot(page, f"hotspots-hotspot-{tag}-{width}")
            page.goto(f"/hotspots/{hid}/claim")
            no_sideways_scroll(page)
            screenshot(page, f"hotspots-claim-{tag}-{width}")
    page = new_context("en-US").new_page()
    sign_in(page, friend(60))
    page.goto(f"/hotspots/{hid}")
    page.click("button:has-text('It worked')")
    assert "Thanks" in page.locator(".alert.success").inner_text()
    page.goto("/hotspots?no_login=true&min_rate=0.5")
    assert page.locator("select[name=min_rate]").input_value() == "0.5"
