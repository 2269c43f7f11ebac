"""The rollout page in headless Chromium: the team pauses and resumes from the browser."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from browser import ContextFactory, screenshot, sign_in
from playwright.sync_api import expect

from canyu.db import Database

from .fixtures import Shop, UserMaker
from .world import seed

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_pause_and_resume_from_the_rollout_page(
    release_app: object,
    shop: Shop,
    database: Database,
    make_user: UserMaker,
    new_context: ContextFactory,
    locale: str,
) -> None:
    world = seed(shop, database, make_user, locale=locale)
    page = new_context({"en": "en-US", "zh": "zh-CN"}[locale]).new_page()
    sign_in(page, world.team)
    page.goto(f"/releases/rollouts/{world.rollout.id}")
    if locale == "zh":  # the team member reads English; switch the page to Chinese
        page.click("button.lang[value=zh]")
        page.wait_for_url(f"**/releases/rollouts/{world.rollout.id}")
    status = page.locator("#rollout-status")
    expect(status).to_have_text({"en": "active", "zh": "进行中"}[locale])
    expect(page.locator("svg.health-chart polyline")).to_have_count(2)  # two rates
    expect(page.locator("svg.health-chart line.limit")).to_have_count(2)  # with their limits
    # The chart's time axis reads in the viewer's zone (the browser's is Asia/Shanghai), like
    # the history below it, not in UTC.
    label = page.locator("svg.health-chart text[data-datetime]").last
    at = datetime.fromisoformat(label.get_attribute("data-datetime") or "")
    seen = at.astimezone(ZoneInfo("Asia/Shanghai"))
    expect(label).not_to_contain_text("UTC")
    # The hour as the locale writes it: 24- or 12-hour, with or without a leading zero (zh-CN
    # writes midnight as 00).
    hour = rf"0?({seen.hour}|{seen.hour % 12 or 12})"
    expect(label).to_have_text(re.compile(rf"\b{hour}:{seen:%M}\b"))
    screenshot(page, f"rollout-active-{locale}")

    page.click("button[data-action=pause]")
    expect(status).to_have_text({"en": "paused", "zh": "已暂停"}[locale])
    expect(page.locator("button[data-action=resume]")).to_be_visible()
    expect(page.locator("button[data-action=pause]")).to_have_count(0)
    screenshot(page, f"rollout-paused-{locale}")

    page.click("button[data-action=resume]")
    expect(status).to_have_text({"en": "active", "zh": "进行中"}[locale])
    expect(page.locator("button[data-action=pause]")).to_be_visible()
    with database.session() as s:
        from canyu.releases import service as releases

        kinds = [e.kind for e in releases.rollout_events(s, rollout_id=world.rollout.id)]
    assert kinds[-2:] == ["paused", "resumed"]


def test_the_calendar_and_the_build_page(
    release_app: object,
    shop: Shop,
    database: Database,
    make_user: UserMaker,
    new_context: ContextFactory,
) -> None:
    world = seed(shop, database, make_user)
    page = new_context("zh-CN").new_page()
    page.goto("/releases")
    expect(page.locator("h1")).to_have_text("发布日历")
    expect(page.get_by_role("link", name="canyu 1S 4.11.22").first).to_be_visible()
    screenshot(page, "releases-calendar-zh")
    page.goto(f"/releases/builds/{world.build_id}")
    expect(page.get_by_text(world.post_title)).to_be_visible()
    expect(page.locator("td.rel-hash").first).to_contain_text("stable/4.11.22/update.zip")
    screenshot(page, "releases-build-zh")
