"""The fleet inventory, a device's page and the profile's devices in Chromium, English and
Chinese, 1280 and 390 px, with no sideways scroll."""

from __future__ import annotations

import httpx
import pytest
from browser import ContextFactory, screenshot, sign_in
from conftest import UserFactory
from fastapi import FastAPI
from playwright.sync_api import Page

from canyu.accounts.models import Role
from canyu.db import Database
from canyu.iot.runtime import configure

from .conftest import settings_for
from .seed import seed


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.browser
def test_fleet_device_and_profile_pages(
    app: FastAPI,
    products: None,
    database: Database,
    new_context: ContextFactory,
    make_user: UserFactory,
    live_server: str,
) -> None:
    configure(app, settings_for(None))
    # The server's first answers can take long on a busy machine (its start-up work runs in
    # the background); wait for them here rather than inside the browser's 10 s timeout.
    httpx.get(f"{live_server}/static/canyu.css", timeout=120)
    owner, team = make_user(), make_user(Role.TEAM)
    world = seed(database, owner)
    for locale, tag in (("en-US", "en"), ("zh-CN", "zh")):
        for who, name in ((team, "team"), (owner, "owner")):
            page = new_context(locale).new_page()
            sign_in(page, who)
            if tag == "zh":
                page.goto("/profile")
                page.click("button.lang")
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 860})
                if name == "team":
                    page.goto("/fleet")
                    assert page.locator(".fleet-count").count() == 5
                    assert page.locator(".fleet-table tbody tr").count() == 5
                    assert page.locator("h1").inner_text() == ("Fleet" if tag == "en" else "设备群")
                    no_sideways_scroll(page)
                    screenshot(page, f"iot-fleet-{tag}-{width}")
                    page.goto("/fleet?kind=iot&country=ES")
                    assert page.locator(".fleet-table tbody tr").count() == 1
                else:
                    page.goto("/profile")
                    assert page.locator(".device-row").count() == 2
                    no_sideways_scroll(page)
                    screenshot(page, f"iot-profile-{tag}-{width}")
                page.goto(f"/fleet/devices/{world.purifier}")
                assert "pm25" in page.locator(".lede").inner_text()
                no_sideways_scroll(page)
                screenshot(page, f"iot-device-{name}-{tag}-{width}")
    # The owner turns the purifier off from its page.
    page = new_context("en-US").new_page()
    sign_in(page, owner)
    page.goto(f"/fleet/devices/{world.purifier}")
    page.click("button[name=value][value=off]")
    assert "Command sent." in page.locator(".alert.success").inner_text()
    page.goto("/profile")
    page.click("text=Pair a small device")
    code = page.locator("#pairing-code").inner_text()
    assert len(code) == 9
    no_sideways_scroll(page)
    screenshot(page, "iot-pairing-code-en-1280")
