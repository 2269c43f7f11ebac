"""The calls pages in headless Chromium, in English and Chinese, with screenshots to look at
(test-artifacts/screenshots/calls-*.png)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from browser import ContextFactory, screenshot, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from calls.conftest import FriendFactory
from canyu.accounts.models import Role, User
from canyu.calls import feeds, service
from canyu.calls.sender import LoggingSender
from canyu.calls.settings import CallsSettings
from canyu.db import Database

pytestmark = pytest.mark.browser
Auth = Callable[[User], dict[str, str]]


def _world(app: FastAPI, friend: FriendFactory, auth: Auth) -> User:
    """Labelled numbers of several kinds, and a friend with marks of their own."""
    with TestClient(app) as api:
        for number, category, count in (
            ("+8613800138000", "fraud", 9),
            ("+8613900001111", "delivery", 7),
            ("+861065529988", "telemarketing", 8),
        ):
            for _ in range(count):
                api.post(
                    "/api/v1/calls/marks",
                    json={"number": number, "category": category},
                    headers=auth(friend()),
                )
        for _ in range(2):
            api.post(
                "/api/v1/calls/marks",
                json={"number": "+8613800138000", "category": "harassment"},
                headers=auth(friend()),
            )
        me = friend()
        for number, category in (
            ("+8613800138000", "fraud"),
            ("+8613700001111", "telemarketing"),
            ("+862162881234", "harassment"),
        ):
            api.post(
                "/api/v1/calls/marks",
                json={"number": number, "category": category},
                headers=auth(me),
            )
    return me


def test_calls_pages_in_both_languages(
    calls_app: FastAPI,
    live_server: str,
    new_context: ContextFactory,
    friend: FriendFactory,
    auth: Auth,
    sender: LoggingSender,
) -> None:
    me = _world(calls_app, friend, auth)
    page = new_context("en-US").new_page()
    sign_in(page, me)
    page.goto("/calls")
    assert page.locator("h1").inner_text() == "Spam calls"
    assert page.locator("table.calls-table tbody tr").count() == 3
    screenshot(page, "calls-marks-en")

    page.goto("/calls/numbers/%2B8613800138000")
    assert "marked by 10 friends" in page.locator(".calls-verdict").inner_text()
    assert page.locator(".calls-bars li").count() == 2
    screenshot(page, "calls-number-en")

    page.click("text=This is my number — appeal")
    page.click("button:has-text('Send the code')")
    page.fill("#code", sender.sent[-1][1])
    page.click("button:has-text('Check the code')")
    page.fill("#business_name", "Ruyi Telecom Services")
    page.fill(
        "#reason", "This is our customer-service line; we only call people who ordered from us."
    )
    screenshot(page, "calls-appeal-en")
    page.click("button:has-text('Send the appeal')")
    assert page.locator(".alert.success").is_visible()

    zh = new_context("zh-CN").new_page()
    sign_in(zh, me)
    zh.goto("/calls/numbers/%2B8613800138000")
    zh.click("button.lang")  # the header's language switch (the profile says English)
    assert "位朋友标记" in zh.locator(".calls-verdict").inner_text()
    screenshot(zh, "calls-number-zh")
    zh.goto("/calls")
    assert zh.locator("h1").inner_text() == "骚扰电话"
    screenshot(zh, "calls-marks-zh")

    team = friend(role=Role.TEAM)
    console = new_context("en-US").new_page()
    sign_in(console, team)
    console.goto("/calls/appeals")
    assert console.locator(".calls-appeal").count() == 1
    screenshot(console, "calls-appeals-en")
    zh_console = new_context("zh-CN").new_page()
    sign_in(zh_console, team)
    zh_console.goto("/calls/appeals")
    zh_console.click("button.lang")
    screenshot(zh_console, "calls-appeals-zh")
    console.click("button:has-text('Uphold')")
    assert "protected" in console.locator(".alert.success").inner_text()
    console.goto("/calls/numbers/%2B8613800138000")
    assert "Verified business" in console.locator(".calls-verdict").inner_text()
    screenshot(console, "calls-number-verified-en")


def test_a_numbers_page_with_a_complaint_feed_at_both_widths(
    calls_app: FastAPI, live_server: str, new_context: ContextFactory, database: Database
) -> None:
    rows = feeds.read_feed(
        json.dumps(["2092705358"] * 12 + ["4694216272"]).encode(),
        "ftc-json",
        region="US",
        day=date(2021, 4, 14),
    )
    with database.session() as s:
        service.import_feed(
            s,
            rows=rows,
            options=service.FeedOptions("FTC", "ftc-json", provenance="US FTC Do-Not-Call"),
            as_of=date(2021, 4, 14),
            file_name="2021-04-14.json",
            settings=CallsSettings(default_region="US"),
        )
    for locale, text in (("en-US", "Reported to FTC 12 times"), ("zh-CN", "收到投诉 12 次")):
        page = new_context(locale).new_page()
        # Signed out, in the browser's language. The first page of a fresh server compiles its
        # templates, which on a loaded 2-core machine can take longer than the default 10 s.
        page.goto("/calls/numbers/%2B12092705358", timeout=60_000)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 860})
            assert text in page.locator(".calls-feed").inner_text()
            sideways = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            assert not sideways
            screenshot(page, f"calls-number-feed-{locale[:2]}-{width}")
        page.goto("/calls/numbers/%2B14694216272")
        assert page.locator('.calls-verdict[data-label="suspicious"]').is_visible()
        screenshot(page, f"calls-number-suspicious-{locale[:2]}")
