"""The pages in headless Chromium against a real uvicorn server, in English and in Chinese.

Screenshots of every main page land in test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from browser import ContextFactory, screenshot, sign_in
from conftest import UserFactory
from playwright.sync_api import expect

from canyu.accounts.models import Role, User
from canyu.community import service
from canyu.community.models import Post
from canyu.db import Database, utcnow

pytestmark = pytest.mark.browser

LOCALES = [pytest.param("en", id="en"), pytest.param("zh", id="zh")]
BROWSER_LOCALE = {"en": "en-US", "zh": "zh-CN"}


@dataclass
class Seeded:
    friend: User
    team: User
    camera: Post
    duplicate: Post
    ideas: list[Post]


def seed(database: Database, make_user: UserFactory, locale: str) -> Seeded:
    """A small, realistic portal: bugs and ideas at several stages, votes and comments."""
    friend = make_user(locale=locale)
    team = make_user(Role.TEAM, locale=locale)
    others = [make_user(locale=loc) for loc in ("zh", "en", "zh")]
    now = utcnow()
    with database.session() as s:
        camera = service.create_post(
            s,
            author=others[0],
            kind="bug",
            title="相机打开后闪退",
            body="更新到最新版本后，每次打开相机应用都会立即闪退，重启手机也没有用。",
            device_model="canyu 1",
            software_build="2024.06.1",
            created_at=now - timedelta(days=2),
        )
        ideas = [
            service.create_post(
                s,
                author=author,
                kind=kind,
                title=title,
                body=body,
                device_model=model,
                created_at=now - timedelta(hours=hours),
            )
            for author, kind, title, body, model, hours in [
                (
                    others[1],
                    "idea",
                    "Dark mode for the Settings app",
                    "Settings is the only app that stays white at night.",
                    "canyu 1",
                    30,
                ),
                (
                    others[2],
                    "idea",
                    "锁屏时钟可以再大一点",
                    "希望锁屏界面的时钟字体可以调大，老人看得更清楚。",
                    "canyu 1 Pro",
                    20,
                ),
                (
                    friend,
                    "bug",
                    "Wi-Fi drops every few minutes on 5 GHz networks",
                    "Since the last update my phone loses Wi-Fi on 5 GHz every few minutes; "
                    "2.4 GHz is fine.",
                    "canyu 1 Pro",
                    5,
                ),
            ]
        ]
        duplicate = service.create_post(
            s,
            author=others[2],
            kind="bug",
            title="打开相机就闪退了",
            body="拍照前一打开相机就退出。",
            created_at=now - timedelta(days=1),
        )
        service.add_comment(s, author=others[2], post_id=duplicate.id, body="我的手机也这样。")
        service.merge(s, actor=team, source_id=duplicate.id, target_id=camera.id)
        for voter in others:
            service.vote(s, user=voter, post_id=ideas[0].id)
        service.vote(s, user=others[1], post_id=camera.id)
        service.add_comment(s, author=others[1], post_id=camera.id, body="Same here, canyu 1.")
        service.change_status(
            s, actor=team, post_id=ideas[0].id, status="planned", reason="Planned for July."
        )
    return Seeded(friend, team, camera, duplicate, ideas)


def test_sign_up_through_the_form(
    new_context: ContextFactory, database: Database, make_user: UserFactory
) -> None:
    taken = make_user()
    page = new_context().new_page()
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.fill("#email", taken.email)
    page.fill("#password", "a long password")
    page.fill("#display_name", "Lin")
    page.select_option("#country", "SG")
    page.select_option("#locale", "en")
    page.get_by_role("button", name="Create account").click()
    # The server's refusal shows on the form, and what was typed is kept.
    expect(page.locator(".alert.error")).to_have_text("An account with this email already exists.")
    expect(page.locator("#display_name")).to_have_value("Lin")
    screenshot(page, "signup-error-en")
    page.fill("#email", "lin@example.com")
    page.fill("#password", "a long password")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".me-name")).to_have_text("Lin")
    page.goto("/profile")
    expect(page.locator("#country")).to_have_value("SG")


@pytest.mark.parametrize("locale", LOCALES)
def test_submit_suggests_similar_posts_while_typing(
    new_context: ContextFactory, database: Database, make_user: UserFactory, locale: str
) -> None:
    world = seed(database, make_user, locale)
    page = new_context(BROWSER_LOCALE[locale]).new_page()
    sign_in(page, world.friend)
    page.goto("/submit")
    page.fill("#body", "It closes right away, every time, since the June update.")
    # An English title finds the Chinese post about the same crash (and the other way round).
    title = "The camera app crashes when I open it" if locale == "en" else "相机一打开就闪退"
    page.locator("#title").press_sequentially(title, delay=5)
    suggestions = page.locator("[data-similar-list] li")
    expect(suggestions.first).to_contain_text("相机打开后闪退")
    expect(suggestions.first.locator(".score")).to_have_text(re.compile(r"\d+%"))
    screenshot(page, f"submit-{locale}")

    # Voting from the suggestions counts for the existing post.
    vote = suggestions.first.locator("button.vote-button")
    vote.click()
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(vote.locator(".vote-count")).to_have_text("2")
    with database.session() as s:
        assert service.get_post(s, post_id=world.camera.id).vote_count == 2

    page.get_by_role("button", name="Post it" if locale == "en" else "发布").click()
    expect(page).to_have_url(re.compile(r"/posts/\d+$"))
    expect(page.locator("h1")).to_contain_text(title)


@pytest.mark.parametrize("locale", LOCALES)
def test_vote_flips_the_button_and_counts(
    new_context: ContextFactory, database: Database, make_user: UserFactory, locale: str
) -> None:
    world = seed(database, make_user, locale)
    page = new_context(BROWSER_LOCALE[locale]).new_page()
    sign_in(page, world.friend)
    row = page.locator(".post-row", has=page.locator(f'a[href="/posts/{world.camera.id}"]'))
    button = row.locator("button.vote-button")
    expect(button.locator(".vote-count")).to_have_text("1")
    button.click()
    expect(button.locator(".vote-count")).to_have_text("2")
    expect(button.locator(".vote-label")).to_have_text("Unvote" if locale == "en" else "取消投票")
    # Times were rewritten by the script into the viewer's zone, with the exact time on hover.
    expect(row.locator("time")).to_have_attribute("title", re.compile(r"\d"))
    screenshot(page, f"portal-{locale}")

    page.reload()  # the vote is stored, not just drawn
    expect(button.locator(".vote-count")).to_have_text("2")
    expect(button).to_have_attribute("aria-pressed", "true")

    page.goto(f"/posts/{world.camera.id}")
    # Comments of the merged duplicate are shown here, labelled with the post they came from.
    expect(page.locator(".comment", has_text="Same here, canyu 1.")).to_be_visible()
    expect(page.locator(".comment .origin")).to_contain_text(f"#{world.duplicate.id}")
    expect(page.locator(".post-head .vote-label")).to_have_text(
        "Unvote" if locale == "en" else "取消投票"
    )
    screenshot(page, f"post-{locale}")

    page.goto(f"/posts/{world.duplicate.id}")
    expect(page.locator(".banner.merged a")).to_have_attribute("href", f"/posts/{world.camera.id}")
    screenshot(page, f"post-duplicate-{locale}")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    screenshot(page, f"portal-phone-{locale}")


@pytest.mark.parametrize("locale", LOCALES)
def test_team_triage_reaches_the_friend(
    new_context: ContextFactory, database: Database, make_user: UserFactory, locale: str
) -> None:
    world = seed(database, make_user, locale)
    wifi = world.ideas[2]
    team_page = new_context(BROWSER_LOCALE[locale]).new_page()
    sign_in(team_page, world.team)
    with database.session() as s:
        repeat = service.create_post(
            s,
            author=world.friend,
            kind="bug",
            title="Wi-Fi drops every few minutes on 5 GHz",
            body="The phone loses 5 GHz Wi-Fi again and again.",
        ).id
    team_page.goto("/console")
    row = team_page.locator(f"#post-{wifi.id}")
    expect(row).to_be_visible()
    # An open post lists the posts likely to be the same problem as one-click merge targets;
    # unrelated posts are not offered.
    expect(row.locator(".merge-suggestions")).to_contain_text(f"#{repeat}")
    clock = team_page.locator(f"#post-{world.ideas[1].id}")
    expect(clock.locator(".merge-suggestions")).to_have_count(0)
    screenshot(team_page, f"console-{locale}")

    row.locator("select[name=status]").select_option("accepted")
    row.locator("input[name=reason]").fill("Reproduced on 5 GHz; a fix is in the next build.")
    row.locator(".status-form button").click()
    expect(team_page.locator(".alert.success")).to_be_visible()
    expect(team_page.locator(f"#post-{wifi.id}")).to_have_count(0)  # it left the "new" queue

    friend_page = new_context(BROWSER_LOCALE[locale]).new_page()
    sign_in(friend_page, world.friend)
    expect(friend_page.locator(".nav .count")).to_have_text("1")
    friend_page.locator(".nav a[href='/notifications']").click()
    notice = friend_page.locator(".notice.unread").first
    expect(notice).to_contain_text("Wi-Fi drops every few minutes")
    expect(notice).to_contain_text("Accepted" if locale == "en" else "已采纳")
    expect(notice).to_contain_text("Reproduced on 5 GHz")
    screenshot(friend_page, f"notifications-{locale}")

    friend_page.goto("/honour")
    screenshot(friend_page, f"honour-{locale}")
