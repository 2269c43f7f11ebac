"""Moderation, screenshots and conversations with the team in a real browser (headless Debian
Chromium), in English at 1280 px and in Chinese at 390 px, with no sideways scroll: the crop
and black-out editor is driven with the mouse and the stored image is checked."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from browser import ContextFactory, screenshot, sign_in
from conftest import PASSWORD, UserFactory
from PIL import Image
from playwright.sync_api import FilePayload, Page, ViewportSize, expect
from sqlalchemy import select

from canyu.accounts.models import Role, User
from canyu.community import service
from canyu.community.team_models import Attachment
from canyu.db import Database

PHONE: ViewportSize = {"width": 390, "height": 844}
RED = (220, 0, 0)


def first_visit(page: Page) -> None:
    """The server's first answer may wait for its start-up work (the similar-posts index
    loads its model) on a busy machine: give it longer than later pages get."""
    page.goto("/signin", timeout=90_000)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px window"


def private_screenshot() -> bytes:
    """600 x 400, white, with a red block where a name and number would be."""
    image = Image.new("RGB", (600, 400), "white")
    image.paste(RED, (200, 150, 400, 250))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def photo_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 2.0), 3: "E", 4: (121.0, 28.0, 5.0)}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 90, 200)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def drag(page: Page, canvas_selector: str, start: tuple[int, int], end: tuple[int, int]) -> None:
    """Drag on the editor's canvas between two points given in the image's pixels."""
    canvas = page.locator(canvas_selector)
    box = canvas.bounding_box()
    assert box is not None
    natural = page.eval_on_selector(canvas_selector, "c => [c.width, c.height]")
    sx, sy = box["width"] / natural[0], box["height"] / natural[1]
    page.mouse.move(box["x"] + start[0] * sx, box["y"] + start[1] * sy)
    page.mouse.down()
    page.mouse.move(
        box["x"] + (start[0] + end[0]) / 2 * sx, box["y"] + (start[1] + end[1]) / 2 * sy
    )
    page.mouse.move(box["x"] + end[0] * sx, box["y"] + end[1] * sy)
    page.mouse.up()


def crop_and_black_out(page: Page, field: str, name: str, edited_label: str) -> None:
    """Open the editor on the first chosen file, crop it to 480 x 320 and black out the red."""
    page.locator(f"{field} [data-edit-shot='0']").click()
    canvas = f"{field} [data-shot-canvas]"
    expect(page.locator(f"{field} [data-shot-editor]")).to_be_visible()
    page.locator(f"{field} [data-mode=crop]").click()
    drag(page, canvas, (60, 40), (540, 360))
    page.locator(f"{field} [data-mode=redact]").click()
    expect(page.locator(f"{field} [data-mode=redact]")).to_have_attribute("aria-pressed", "true")
    drag(page, canvas, (190, 140), (410, 260))
    screenshot(page, name)
    page.locator(f"{field} [data-apply]").click()
    expect(page.locator(f"{field} [data-shot-editor]")).to_be_hidden()
    expect(page.locator(f"{field} .shot-name").first).to_contain_text("private.png")
    expect(page.locator(f"{field} .shot-name").first).to_contain_text(edited_label)


def check_stored(database: Database, post_id: int, *, comment: bool) -> None:
    with database.session() as s:
        rows = s.scalars(
            select(Attachment).where(Attachment.post_id == post_id).order_by(Attachment.id)
        ).all()
        rows = [r for r in rows if (r.comment_id is not None) == comment]
        edited, photo = rows
        image = Image.open(io.BytesIO(edited.data)).convert("RGB")
        assert image.size == (480, 320)  # cropped in the browser
        pixels = np.asarray(image)
        reds = int(((pixels[..., 0] > 150) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)).sum())
        assert reds == 0, "the blacked-out part left red pixels"
        assert image.getpixel((240, 160)) == (0, 0, 0)
        assert image.getpixel((5, 5)) == (255, 255, 255)
        stored = Image.open(io.BytesIO(photo.data))
        assert photo.content_type == "image/jpeg"
        assert not stored.getexif()
        assert b"PhoneMaker" not in photo.data


@pytest.mark.browser
def test_screenshots_cropped_and_blacked_out_in_both_languages(
    new_context: ContextFactory, make_user: UserFactory, database: Database
) -> None:
    friend = make_user()
    files: list[FilePayload] = [
        {"name": "private.png", "mimeType": "image/png", "buffer": private_screenshot()},
        {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo_with_location()},
    ]
    page = new_context().new_page()
    first_visit(page)
    sign_in(page, friend)
    page.goto("/submit")
    page.fill("#title", "Settings shows my number in the lock screen")
    page.fill("#body", "See the screenshots: the number should be hidden.")
    page.set_input_files("#screenshots", files=files)
    expect(page.locator("#submit-form .shot-item")).to_have_count(2)
    crop_and_black_out(page, "#submit-form", "screenshot-editor-1280", "edited")
    page.click("button[type=submit][form=submit-form]")
    page.wait_for_url(re.compile(r".*/posts/\d+$"))
    post_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator(".post-content > .shots img")).to_have_count(2)
    # A function, not an expression: Playwright would eval() an expression in the page while
    # polling, which the pages' CSP (no 'unsafe-eval') refuses.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.shots img')]"
        ".every(i => i.complete && i.naturalWidth)"
    )
    no_sideways_scroll(page)
    screenshot(page, "screenshots-post-1280")
    check_stored(database, post_id, comment=False)

    # In Chinese on a phone: a comment with screenshots, edited the same way.
    zh = new_context(locale="zh-CN").new_page()
    zh.set_viewport_size(PHONE)
    sign_in(zh, make_user(locale="zh"))
    zh.goto(f"/posts/{post_id}")
    expect(zh.locator("label[for=comment-screenshots]")).to_contain_text("截图")
    zh.fill("#comment-body", "我这里也一样，截图见下。")
    zh.set_input_files("#comment-screenshots", files=files)
    expect(zh.locator(".comment-form [data-edit-shot='0']")).to_have_text("裁剪或涂黑")
    crop_and_black_out(zh, ".comment-form", "screenshot-editor-zh-390", "已编辑")
    no_sideways_scroll(zh)
    zh.click(".comment-form button[type=submit]")
    zh.wait_for_url(re.compile(r".*/posts/\d+#comment-\d+$"))
    expect(zh.locator(".comment .shots img")).to_have_count(2)
    no_sideways_scroll(zh)
    screenshot(zh, "screenshots-comment-zh-390")
    check_stored(database, post_id, comment=True)

    # What is not an image is refused with the reason, in Chinese, and nothing is posted.
    zh.goto("/submit")
    zh.fill("#title", "不是图片")
    zh.fill("#body", "测试")
    zh.set_input_files(
        "#screenshots",
        files=FilePayload(name="x.png", mimeType="image/png", buffer=b"<html>not</html>"),
    )
    zh.click("button[type=submit][form=submit-form]")
    expect(zh.locator(".shots-field .field-error")).to_have_text("这不是 PNG、JPEG 或 WebP 图片。")
    no_sideways_scroll(zh)


@pytest.mark.browser
def test_moderation_report_hide_and_ban_in_both_languages(
    new_context: ContextFactory, make_user: UserFactory, database: Database
) -> None:
    author = make_user(locale="zh")
    spammer, reporter = make_user(), make_user()
    team = make_user(Role.TEAM)
    with database.session() as s:
        mine = service.create_post(
            s,
            author=s.get(User, author.id) or author,
            kind="bug",
            title="相机打不开",
            body="我的电话是 138 0000 0000",
        )
        spam = service.create_post(
            s,
            author=s.get(User, spammer.id) or spammer,
            kind="idea",
            title="Cheap phones",
            body="http://a.example http://b.example http://c.example",
        )
        mine_id, spam_id = mine.id, spam.id

    # A friend reports the post with a phone number in it.
    friend_page = new_context().new_page()
    first_visit(friend_page)
    sign_in(friend_page, reporter)
    friend_page.goto(f"/posts/{mine_id}")
    friend_page.fill("#report-reason", "It shows a phone number")
    friend_page.click("text=Report as spam")
    expect(friend_page.locator(".alert.success")).to_have_text(
        "Thank you; the team will review it."
    )
    no_sideways_scroll(friend_page)

    # The team reviews the queue: the report and the spam rule's catch.
    team_page = new_context().new_page()
    sign_in(team_page, team)
    team_page.goto("/console/moderation")
    items = team_page.locator(".mod-item")
    expect(items).to_have_count(2)
    expect(items.filter(has_text="相机打不开")).to_contain_text("It shows a phone number")
    expect(items.filter(has_text="Cheap phones")).to_contain_text("Spam rule")
    expect(items.filter(has_text="Cheap phones")).to_contain_text("Three or more links.")
    no_sideways_scroll(team_page)
    screenshot(team_page, "moderation-queue-1280")
    first = items.filter(has_text="相机打不开")
    first.locator("input[name=reason]").fill("Your phone number was visible; hidden to protect you")
    first.locator("button[value=hide]").click()
    expect(team_page.locator(".alert.success")).to_have_text("Reviewed; the reports are closed.")
    # Ban the spammer from their post's page.
    team_page.goto(f"/posts/{spam_id}")
    team_page.fill("#ban-reason", "Advertising links")
    team_page.click("text=Ban account")
    expect(team_page.locator(".mod-ban")).to_contain_text("Advertising links")
    team_page.set_viewport_size(PHONE)
    no_sideways_scroll(team_page)
    screenshot(team_page, "moderation-console-390")

    # The author, in Chinese on a phone: a notice, and the post says what happened.
    zh = new_context(locale="zh-CN").new_page()
    zh.set_viewport_size(PHONE)
    sign_in(zh, author)
    zh.goto("/notifications")
    expect(zh.locator(".notice-main a").first).to_have_text(
        "团队隐藏了你的反馈“相机打不开”。原因：Your phone number was visible; hidden to protect you"
    )
    zh.locator(".notice-main a").first.click()
    expect(zh.locator(".banner.moderated")).to_contain_text("已被团队隐藏")
    expect(zh.locator(".banner.moderated")).to_contain_text("Your phone number was visible")
    no_sideways_scroll(zh)
    screenshot(zh, "moderation-author-zh-390")
    # Others no longer find it.
    friend_page.goto(f"/posts/{mine_id}")
    expect(friend_page.locator(".error-status")).to_have_text("404")

    # The banned spammer is told why when signing in, in English and in Chinese.
    for locale, expected in (
        ("en-US", "This account was banned by the team."),
        ("zh-CN", "这个账号已被团队封禁。"),
    ):
        page = new_context(locale=locale).new_page()
        page.goto("/signin")
        page.fill("#email", spammer.email)
        page.fill("#password", PASSWORD)
        page.click("form.auth-card button[type=submit]")
        expect(page.locator(".alert.error").first).to_contain_text(expected)
        expect(page.locator(".alert.error").first).to_contain_text("Advertising links")


@pytest.mark.browser
def test_a_private_conversation_with_the_team_in_both_languages(
    new_context: ContextFactory, make_user: UserFactory, database: Database
) -> None:
    author = make_user(locale="zh")
    other, team = make_user(), make_user(Role.TEAM)
    with database.session() as s:
        post_id = service.create_post(
            s,
            author=s.get(User, author.id) or author,
            kind="bug",
            title="Wi-Fi 经常断开",
            body="每隔几分钟断一次。",
        ).id

    team_page = new_context().new_page()
    first_visit(team_page)
    sign_in(team_page, team)
    team_page.goto(f"/posts/{post_id}")
    expect(team_page.locator("#talk-title")).to_have_text("Private conversations")
    team_page.fill("#talk-body", "Which router do you use? Please send the Wi-Fi log.")
    team_page.click("text=Send privately")
    team_page.wait_for_url(re.compile(r".*/conversations/\d+#latest$"))
    thread_url = team_page.url.split("#")[0]
    expect(team_page.locator(".talk-message")).to_have_count(1)
    no_sideways_scroll(team_page)
    screenshot(team_page, "conversation-team-1280")

    zh = new_context(locale="zh-CN").new_page()
    zh.set_viewport_size(PHONE)
    sign_in(zh, author)
    zh.goto("/notifications")
    link = zh.locator(".notice-main a").first
    expect(link).to_have_text(f"团队的 {team.display_name} 就“Wi-Fi 经常断开”私下给你留言。")
    link.click()
    expect(zh.locator("h1")).to_have_text("私密对话")
    zh.fill("#reply-body", "小米路由器 AX3000，日志：wlan0 deauth reason 7")
    zh.click(".talk-form button[type=submit]")
    expect(zh.locator(".talk-message")).to_have_count(2)
    no_sideways_scroll(zh)
    screenshot(zh, "conversation-friend-zh-390")

    # The team member hears the answer; the inbox shows it awaiting an answer.
    team_page.goto("/conversations")
    expect(team_page.locator(".badge.awaiting")).to_have_count(1)
    team_page.goto("/notifications")
    expect(team_page.locator(".notice-main a").first).to_contain_text("answered privately")
    team_page.set_viewport_size(PHONE)
    team_page.goto(thread_url)
    no_sideways_scroll(team_page)

    # Another friend cannot open it.
    stranger = new_context().new_page()
    sign_in(stranger, other)
    stranger.goto(thread_url)
    expect(stranger.locator(".error-status")).to_have_text("404")
