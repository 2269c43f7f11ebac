"""The team's week and the pages friends open, in headless Chromium at a laptop's and a phone's
width, in English and Chinese: each journey as a person takes it, and no page wider than the
screen on the way."""

from __future__ import annotations

import hashlib
import re

import pytest
from browser import ContextFactory, screenshot, sign_in
from pagecheck import overflow
from playwright.sync_api import Page, expect

from canyu.accounts.models import User
from canyu.community import service as community
from canyu.db import Database

from .fixtures import Shop, UserMaker, payload_bytes

pytestmark = pytest.mark.browser

LOCALES = {"en": "en-US", "zh": "zh-CN"}
TEXT = {
    "on_train": {"en": "On the next train of canyu 1S.", "zh": "已在 canyu 1S 的下一班列车上。"},
    "cut": {"en": "The build is cut", "zh": "版本已切出"},
    "uploaded": {"en": "The payload is uploaded and signed.", "zh": "安装包已上传并签名。"},
    "started": {"en": "The rollout has started.", "zh": "推送已开始。"},
    "moved": {"en": "From 5% to 20%.", "zh": "从 5% 到 20%。"},
    "halted": {"en": "halted", "zh": "已终止"},
}


def shot(page: Page, name: str) -> None:
    """A full-page screenshot from the top (docs/console.md shows some of them)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def fits(page: Page) -> None:
    assert overflow(page) == [], f"{page.url} is wider than the screen: {overflow(page)}"


def open_as(new_context: ContextFactory, user: User, locale: str, width: int) -> Page:
    page = new_context(LOCALES[locale]).new_page()
    # The first page waits for the similar-posts model, which a busy machine loads slowly.
    page.set_default_timeout(60_000)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, user)
    switch = page.locator(f"button.lang[value={locale}]")
    if switch.count():  # the page follows the chosen language, whatever the profile says
        switch.click()
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if locale == "zh" else "en")
    return page


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_teams_week_in_the_browser(
    release_app: object,
    shop: Shop,
    database: Database,
    make_user: UserMaker,
    new_context: ContextFactory,
    locale: str,
    width: int,
) -> None:
    shop.product()
    friend = make_user()
    with database.session() as s:
        post = community.create_post(
            s, author=friend, kind="bug", title="Camera freezes at night", body="Since 5.0."
        )
        community.change_status(s, actor=shop.team, post_id=post.id, status="accepted")
    page = open_as(new_context, shop.team, locale, width)
    name = f"{locale}-{width}"

    # From the post: put it on the next train (an accepted post is planned by boarding).
    page.goto(f"/posts/{post.id}")
    page.locator("#post-train button[data-board]").click()
    expect(page.locator("#post-train")).to_contain_text(TEXT["on_train"][locale])
    expect(page.locator(".badge.status-planned").first).to_be_visible()  # planned by boarding
    fits(page)

    # The week's page: the train's contents, then the cut.
    page.goto("/console/releases")
    train = page.locator("#train-canyu-1s")
    expect(train.locator(".rel-train-list")).to_contain_text("Camera freezes at night")
    fits(page)
    shot(page, f"console-week-train-{name}")
    train.locator("input[name=version]").fill("5.1.0")
    train.locator("button[data-cut]").click()
    expect(page.locator(".alert.success")).to_contain_text(TEXT["cut"][locale])
    expect(page.locator(".changelog")).to_contain_text("Camera freezes at night")
    fits(page)
    shot(page, f"console-week-cut-{name}")

    # A payload: the page fills its SHA-256 in from the chosen file.
    content = payload_bytes("5.1.0")
    page.set_input_files(
        "#payload-file", {"name": "update.zip", "mimeType": "application/zip", "buffer": content}
    )
    expect(page.locator("#payload-sha256")).to_have_value(hashlib.sha256(content).hexdigest())
    page.locator("form[data-payload-form] button[type=submit]").click()
    expect(page.locator(".alert.success")).to_have_text(TEXT["uploaded"][locale])
    expect(page.locator(".rel-table")).to_contain_text("update.zip")

    # The rollout: channels, countries, stages.
    page.fill("#rollout-stages", "5, 20, 100")
    page.fill("#rollout-countries", "CN")
    page.check("input[name=channels][value=beta]")
    shot(page, f"console-week-rollout-start-{name}")
    page.locator("button[data-start-rollout]").click()
    expect(page.locator(".alert.success")).to_have_text(TEXT["started"][locale])
    expect(page.locator(".stage.current")).to_contain_text("5%")
    fits(page)

    # The next stage, by hand: the history records the move.
    page.locator("button[data-action=advance]").click()
    expect(page.locator(".stage.current")).to_contain_text("20%")
    expect(page.locator(".rel-history li[data-kind=advanced]")).to_contain_text(
        TEXT["moved"][locale]
    )
    fits(page)
    shot(page, f"console-week-rollout-{name}")

    # Halting asks for a reason and a confirmation before it does anything.
    halt = page.locator("details[data-weighty=halt]")
    halt.locator("summary").click()
    halt.locator("button[data-action=halt]").click()  # the browser asks for the reason first
    expect(page.locator("#rollout-status")).not_to_have_text(TEXT["halted"][locale])
    halt.locator("textarea[name=reason]").fill("Night shots look wrong")
    halt.locator("button[data-action=halt]").click()  # and then for the ticked box
    expect(page.locator("#rollout-status")).not_to_have_text(TEXT["halted"][locale])
    halt.locator("input[name=confirm]").check()
    halt.locator("button[data-action=halt]").click()
    expect(page.locator("#rollout-status")).to_have_text(TEXT["halted"][locale])
    expect(page.locator("#rollout-reason")).to_contain_text("Night shots look wrong")
    fits(page)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_what_friends_open_reads_well_on_a_phone(
    release_app: object,
    live_server: str,
    database: Database,
    make_user: UserMaker,
    new_context: ContextFactory,
    locale: str,
    width: int,
) -> None:
    friend = make_user(locale=locale)
    with database.session() as s:
        community.create_post(
            s, author=friend, kind="bug", title="Battery drains overnight", body="Since Monday."
        )
        community.tell_user(
            s, user_id=friend.id, event="appeal", link="/calls/numbers/%2B8613800138000",
            number="+8613800138000", upheld=True, note="",
        )  # fmt: skip
    page = open_as(new_context, friend, locale, width)

    # The home page says what canyu is before the list.
    page.goto("/")
    intro = page.locator("section.intro")
    expect(intro).to_contain_text(
        {"en": "friends building a phone together", "zh": "朋友们一起打造一部手机"}[locale]
    )
    intro_box, list_box = intro.bounding_box(), page.locator(".post-list").bounding_box()
    assert intro_box
    assert list_box
    assert intro_box["y"] < list_box["y"]
    # Every section of the navigation in sight, none behind a sideways scroll.
    nav = page.locator("nav.nav")
    assert nav.evaluate("n => n.scrollWidth <= n.clientWidth")
    for link in nav.locator("a").all():
        box = link.bounding_box()
        assert box is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= width, link.inner_text()
    fits(page)
    screenshot(page, f"home-{locale}-{width}")

    # Similar posts come before the button that posts.
    page.goto("/submit")
    page.fill("#title", "Battery drains overnight")
    expect(page.locator("[data-similar-list] li").first).to_be_visible()
    similar = page.locator("#similar").bounding_box()
    button = page.locator("button[form=submit-form]").bounding_box()
    assert similar
    assert button
    if width < 860:
        assert similar["y"] + similar["height"] <= button["y"]
    else:
        assert similar["x"] > button["x"]
    fits(page)

    # The appeal's decision reaches the friend who appealed, and links to the number.
    page.goto("/notifications")
    notice = page.locator(".notice").first
    expect(notice).to_contain_text(
        {
            "en": "Your appeal for +8613800138000 was upheld",
            "zh": "你对 +8613800138000 的申诉已通过",
        }[locale]
    )
    expect(notice.locator("a")).to_have_attribute("href", "/calls/numbers/%2B8613800138000")

    # A page address that names nothing is a friendly "not found".
    response = page.goto("/posts/abc")
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_have_text(
        {"en": "We could not find that", "zh": "找不到这个页面"}[locale]
    )
    expect(page.locator("body")).not_to_contain_text("Invalid")

    # The referral link is this site's own address.
    page.goto("/store/orders")
    referral = page.locator("[data-referral]").inner_text()
    assert re.fullmatch(re.escape(live_server) + r"/store/r/\S+", referral.strip()), referral
    fits(page)
