"""The greetings pages in a real browser (headless Debian Chromium): English and Chinese, at
1280 px and 390 px, no sideways scroll; a friend writes, the team approves, another votes."""

from __future__ import annotations

import pytest
from browser import ContextFactory, screenshot, sign_in
from conftest import UserFactory
from playwright.sync_api import Page, expect

from canyu.accounts.models import Role
from canyu.db import Database
from canyu.greetings import calendar, service


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"page is {width}px wide in a {viewport}px window"


@pytest.mark.browser
def test_write_approve_vote_in_both_languages_and_widths(
    new_context: ContextFactory, make_user: UserFactory, database: Database
) -> None:
    friend = make_user(country="CN")
    voter = make_user(locale="zh", country="CN")
    team = make_user(Role.TEAM, country="CN")
    festival = service.upcoming("CN", today=calendar.local_today("CN"), days=60)[0]

    page = new_context().new_page()
    sign_in(page, friend)
    page.goto("/greetings")
    expect(page.locator("h1")).to_have_text("Festival greetings")
    expect(page.locator(f"#festival-{festival.key} h2")).to_have_text(festival.en)
    page.select_option("#festival", festival.key)
    page.select_option("#language", "zh")
    page.fill("#text", "<b>bold</b>")
    page.click(".gr-write button[type=submit]")
    expect(page.locator(".alert.error")).to_contain_text("plain text")
    page.fill("#text", "{name}，节日快乐，万事如意！")
    page.click(".gr-write button[type=submit]")
    expect(page.locator(".alert.success")).to_contain_text("waits for the team")
    screenshot(page, "greetings-friend-1280")
    no_sideways_scroll(page)

    team_page = new_context().new_page()
    sign_in(team_page, team)
    team_page.goto("/greetings/queue")
    expect(team_page.locator(".gr-text")).to_have_text("{name}，节日快乐，万事如意！")
    screenshot(team_page, "greetings-queue-1280")
    team_page.click("button[value=approve]")
    expect(team_page.locator(".alert.success")).to_have_text("Greeting approved.")

    zh = new_context(locale="zh-CN").new_page()
    zh.set_viewport_size({"width": 390, "height": 844})
    sign_in(zh, voter)
    zh.goto("/greetings")
    expect(zh.locator("h1")).to_have_text("节日祝福")
    card = zh.locator(f"#festival-{festival.key}")
    expect(card.locator("h2")).to_have_text(festival.zh)
    expect(card.locator(".gr-text")).to_have_text("{name}，节日快乐，万事如意！")
    card.locator(".gr-vote button").click()
    expect(zh.locator(".alert.success")).to_have_text("投票成功。")
    expect(zh.locator(f"#festival-{festival.key} .gr-votes")).to_have_text("1")
    expect(zh.locator(f"#festival-{festival.key} .gr-vote button")).to_have_count(0)
    no_sideways_scroll(zh)
    screenshot(zh, "greetings-zh-390")

    team_page.set_viewport_size({"width": 390, "height": 844})
    team_page.goto("/greetings/queue")
    no_sideways_scroll(team_page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/greetings")
    no_sideways_scroll(page)
    screenshot(page, "greetings-friend-390")
