"""What friends expect, in headless Chromium at 1280 px and 390 px, in English and Chinese:
search in any language, Hot and Top, following a post and hearing about its comments,
confirmations after posting, commenting and voting; a password reset and an address confirmed
through the mail the app sent (a real SMTP server); the digest switched off, signed out, from
its mailed link. No page scrolls sideways; screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from browser import ContextFactory, assert_no_sideways_scroll, screenshot, sign_in
from conftest import UserFactory
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from smtp_inbox import Inbox, links_in

from canyu.accounts.models import User
from canyu.accounts.tokens import Links
from canyu.community import digest, service
from canyu.config import Settings
from canyu.db import Database, utcnow
from portal.test_browser import BROWSER_LOCALE, seed

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}
CASES = [
    pytest.param(locale, width, id=f"{locale}-{width}")
    for locale in ("en", "zh")
    for width in WIDTHS
]


@pytest.fixture
def settings(settings: Settings, inbox: tuple[Inbox, int]) -> Settings:
    """The app mails through the test's SMTP server."""
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": inbox[1], "smtp_starttls": False}
    )


@pytest.fixture
def site(app: FastAPI, live_server: str) -> str:
    """The live server, whose mailed links name its own address."""
    app.state.settings = app.state.settings.model_copy(update={"base_url": live_server})
    return live_server


def _open(new_context: ContextFactory, locale: str, width: str) -> Page:
    page = new_context(BROWSER_LOCALE[locale]).new_page()
    page.set_viewport_size({"width": WIDTHS[width], "height": 860})
    return page


def _check(page: Page, name: str) -> None:
    assert_no_sideways_scroll(page)
    screenshot(page, name)


def _flash(page: Page, text: str) -> None:
    expect(page.locator("[data-flash] .flash")).to_contain_text(text)


def _mailed_link(mailbox: Inbox, user_email: str, part: str, count: int = 1) -> str:
    message = mailbox.last_to(user_email, count=count)
    url = next(u for u in links_in(message) if part in u)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_search_sort_follow_and_confirmations(
    new_context: ContextFactory,
    database: Database,
    make_user: UserFactory,
    site: str,
    locale: str,
    width: str,
) -> None:
    zh = locale == "zh"
    world = seed(database, make_user, locale)
    voters = [make_user() for _ in range(4)]
    with database.session() as s:
        old = service.create_post(
            s,
            author=world.team,
            kind="idea",
            title="Longer battery life",
            body="Two days on one charge.",
            created_at=utcnow() - timedelta(days=200),
        )
        for voter in voters:
            service.vote(s, user=voter, post_id=old.id)
    page = _open(new_context, locale, width)
    sign_in(page, world.friend)

    # Search in one language finds the post written in the other.
    query = "相机一打开就闪退" if zh else "The camera app crashes when I open it"
    page.fill("#q", query)
    page.locator("form.search button").click()
    expect(page.locator(".search-summary")).to_contain_text(query)
    results = page.locator(".post-row .post-title")
    expect(results.first).to_have_text("相机打开后闪退")
    assert "Longer battery life" not in results.all_inner_texts()
    _check(page, f"friends-search-{locale}-{width}")

    # Top: most votes of all time; Hot: votes that fade with age.
    page.get_by_role("link", name="最高票" if zh else "Top", exact=True).click()
    expect(results.first).to_have_text("Longer battery life")
    page.get_by_role("link", name="热门" if zh else "Hot", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=hot"))
    assert results.all_inner_texts()[0] != "Longer battery life"
    _check(page, f"friends-hot-{locale}-{width}")

    # Follow a post without voting; its comments reach the notifications.
    page.goto(f"/posts/{world.camera.id}")
    page.locator("form.follow button").click()
    _flash(page, "你已关注这个帖子" if zh else "You follow this post")
    expect(page.locator("form.follow button")).to_have_text("已关注" if zh else "Following")
    _check(page, f"friends-followed-{locale}-{width}")
    with database.session() as s:
        service.add_comment(s, author=world.team, post_id=world.camera.id, body="Looking into it.")
    page.goto("/notifications")
    expect(page.locator(".notice.unread").first).to_contain_text(
        f"{world.team.display_name} 评论了「相机打开后闪退」"
        if zh
        else f"{world.team.display_name} commented on “相机打开后闪退”"
    )
    _check(page, f"friends-comment-notice-{locale}-{width}")

    # Confirmations after voting, commenting and posting.
    page.goto(f"/posts/{world.camera.id}")
    page.locator(".post-head button.vote-button").click()
    _flash(page, "谢谢，你的投票已计入" if zh else "Thanks, your vote counts.")
    page.fill("#comment-body", "Still crashes on 2024.06.2.")
    page.locator(".comment-form button[type=submit]").click()
    _flash(page, "评论已发布" if zh else "Your comment is posted.")
    _check(page, f"friends-commented-{locale}-{width}")
    page.goto("/submit")
    page.fill("#title", "Bigger text in Messages")
    page.fill("#body", "The smallest size is still hard to read.")
    page.locator("button[type=submit][form=submit-form]").click()
    expect(page).to_have_url(re.compile(r"/posts/\d+$"))
    _flash(page, "谢谢！帖子已发布" if zh else "Thanks! Your post is up")
    expect(page.locator("form.follow button")).to_have_text("已关注" if zh else "Following")
    _check(page, f"friends-posted-{locale}-{width}")


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_sign_up_confirm_and_reset_the_password_by_mail(
    new_context: ContextFactory,
    inbox: tuple[Inbox, int],
    site: str,
    locale: str,
    width: str,
) -> None:
    zh = locale == "zh"
    mailbox, _port = inbox
    email = f"lin-{locale}-{width}@example.com"
    page = _open(new_context, locale, width)
    page.goto("/signup")
    page.fill("#email", email)
    page.fill("#password", "a long password")
    page.fill("#display_name", "Lin")
    page.select_option("#locale", locale)
    page.locator("form.auth-card button[type=submit]").click()
    _flash(page, "欢迎来到 canyu，Lin！" if zh else "Welcome to canyu, Lin!")
    _check(page, f"friends-welcome-{locale}-{width}")

    # The welcome mail's link confirms the address.
    page.goto(_mailed_link(mailbox, email, "/verify-email"))
    expect(page).to_have_url(re.compile(r"/profile$"))
    _flash(page, "你的邮箱地址已确认" if zh else "your email address is confirmed")
    expect(page.locator(".badge.verified")).to_be_visible()
    _check(page, f"friends-confirmed-{locale}-{width}")

    # Signed out, the password forgotten: a link by mail, a new password, signed in again.
    page.locator("form[action='/signout'] button").click()
    page.goto("/signin")
    page.get_by_role("link", name="忘记密码？" if zh else "Forgot your password?").click()
    _check(page, f"friends-forgot-{locale}-{width}")
    page.fill("#email", email)
    page.locator("form.auth-card button[type=submit]").click()
    expect(page.locator(".alert.success")).to_contain_text(email)
    _check(page, f"friends-forgot-sent-{locale}-{width}")
    page.goto(_mailed_link(mailbox, email, "/password/reset", count=2))
    _check(page, f"friends-reset-{locale}-{width}")
    page.fill("#password", "another long password")
    page.locator("form.auth-card button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    _flash(page, "密码已修改" if zh else "Your password is changed")
    expect(page.locator(".me-name")).to_have_text("Lin")


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_the_digest_is_switched_on_the_profile_and_off_from_its_mail(
    new_context: ContextFactory,
    database: Database,
    make_user: UserFactory,
    inbox: tuple[Inbox, int],
    app: FastAPI,
    site: str,
    locale: str,
    width: str,
) -> None:
    zh = locale == "zh"
    mailbox, _port = inbox
    world = seed(database, make_user, locale)
    with database.session() as s:
        friend = s.get(User, world.friend.id)
        assert friend is not None
        friend.email_verified_at = utcnow()
    page = _open(new_context, locale, width)
    sign_in(page, world.friend)
    page.goto("/profile")
    box = page.locator("form[action='/profile/digest'] input[name=enabled]")
    expect(box).to_be_checked()
    box.uncheck()
    page.locator("form[action='/profile/digest'] button").click()
    _flash(page, "每周摘要已关闭" if zh else "The weekly digest is off.")
    expect(box).not_to_be_checked()
    box.check()
    page.locator("form[action='/profile/digest'] button").click()
    _flash(page, "每周摘要已开启" if zh else "The weekly digest is on.")
    _check(page, f"friends-profile-digest-{locale}-{width}")

    with database.session() as s:
        sent = digest.send_digests(s, links=Links(app.state.secret_key, site))
    assert sent >= 1
    link = _mailed_link(mailbox, world.friend.email, "/digest/unsubscribe")
    signed_out = _open(new_context, locale, width)
    signed_out.goto(link)
    expect(signed_out.locator("main")).to_contain_text(world.friend.email)
    _check(signed_out, f"friends-unsubscribe-{locale}-{width}")
    signed_out.locator("main form button").click()
    expect(signed_out.locator(".alert.success")).to_contain_text(
        "已停止" if zh else "The weekly digest is off"
    )
    _check(signed_out, f"friends-unsubscribed-{locale}-{width}")
    page.reload()
    expect(box).not_to_be_checked()
