"""The server-rendered pages through TestClient: rendering in both languages, forms, CSRF, roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po
from conftest import PASSWORD, UserFactory
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canyu.accounts import pages as accounts_pages
from canyu.accounts.deps import SESSION_COOKIE
from canyu.accounts.models import ApiToken, Role, User, WebSession
from canyu.community import pages as community_pages
from canyu.community import service
from canyu.community.credits import FORMULA
from canyu.community.models import Comment, Notification, Post, Status, Vote
from canyu.db import Base, Database
from canyu.errors import Unavailable
from canyu.i18n import LOCALE_DIR
from canyu.web.csrf import CSRF_COOKIE
from canyu.web.templating import LOCALE_COOKIE, TEMPLATE_DIR

SRC = Path(community_pages.__file__).resolve().parents[1]
HTML = {"Accept": "text/html"}
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Page(Protocol):
    @property
    def text(self) -> str: ...


def csrf_from(response: Page) -> str:
    found = _CSRF_RE.search(response.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def token(client: TestClient, path: str = "/signin") -> str:
    return csrf_from(client.get(path, headers=HTML))


def sign_in(client: TestClient, user: User) -> None:
    response = client.post(
        "/signin",
        data={"csrf_token": token(client), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert SESSION_COOKIE in response.cookies


def count(database: Database, model: type[Base]) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@dataclass
class World:
    friend: User
    team: User
    canonical: Post
    duplicate: Post
    accepted: Post
    fresh: Post


@pytest.fixture
def world(database: Database, make_user: UserFactory, request: pytest.FixtureRequest) -> World:
    """A friend's posts at every stage: votes, comments, a status change with reason, a merge."""
    locale = getattr(request, "param", "en")
    friend = make_user(locale=locale)
    team = make_user(Role.TEAM, locale=locale)
    with database.session() as s:
        canonical = service.create_post(
            s,
            author=friend,
            kind="bug",
            title="相机打开后闪退",
            body="每次打开相机都会闪退。",
            device_model="canyu 1",
            software_build="2024.06.1",
        )
        duplicate = service.create_post(
            s, author=team, kind="bug", title="Camera crashes on open", body="Crashes at once."
        )
        accepted = service.create_post(
            s, author=friend, kind="idea", title="Dark mode in Settings", body="Please."
        )
        fresh = service.create_post(
            s, author=team, kind="idea", title="Bigger clock on the lock screen", body="Yes."
        )
        service.vote(s, user=team, post_id=accepted.id)
        service.add_comment(s, author=team, post_id=duplicate.id, body="Same on my phone.")
        service.add_comment(s, author=friend, post_id=canonical.id, body="Still happens.")
        service.change_status(
            s, actor=team, post_id=accepted.id, status="accepted", reason="Coming in June."
        )
        service.merge(s, actor=team, source_id=duplicate.id, target_id=canonical.id)
    return World(friend, team, canonical, duplicate, accepted, fresh)


@pytest.fixture
def browser_client(client: TestClient) -> TestClient:
    client.headers.update(HTML)
    return client


# --- every page, in English and in Chinese ------------------------------------------------------

PAGES_FOR_FRIEND = [
    "/",
    "/?sort=new",
    "/?sort=trending&kind=bug&status=new&language=zh&device=canyu+1&page=1",
    "/?sort=top",
    "/?q=camera+crash&kind=bug",
    "/posts/{canonical}",
    "/posts/{duplicate}",
    "/posts/{accepted}",
    "/submit",
    "/notifications",
    "/honour",
    "/profile",
]
PAGES_FOR_TEAM = ["/console", "/console?status=all", "/console?status=duplicate&sort=new"]
PAGES_FOR_ANYONE = [
    "/",
    "/signin",
    "/signup",
    "/honour",
    "/posts/{canonical}",
    "/password/forgot",
]


@pytest.mark.parametrize(
    ("world", "accept", "marker", "lang"),
    [("en", "en-GB,en;q=0.8", "Honour roll", "en"), ("zh", "zh-CN,zh;q=0.9", "荣誉榜", "zh-CN")],
    indirect=["world"],
)
def test_every_page_renders_in_english_and_chinese(
    browser_client: TestClient, world: World, accept: str, marker: str, lang: str
) -> None:
    client = browser_client
    client.headers["Accept-Language"] = accept
    ids = {
        "canonical": world.canonical.id,
        "duplicate": world.duplicate.id,
        "accepted": world.accepted.id,
    }

    def check(path: str) -> str:
        response = client.get(path.format(**ids))
        assert response.status_code == 200, (path, response.text[:500])
        assert f'<html lang="{lang}">' in response.text, path
        assert marker in response.text, path
        return response.text

    for path in PAGES_FOR_ANYONE:
        check(path)
    sign_in(client, world.friend)
    pages = {path: check(path) for path in PAGES_FOR_FRIEND}
    sign_in(client, world.team)
    for path in PAGES_FOR_TEAM:
        check(path)

    canonical = pages["/posts/{canonical}"]
    duplicate = pages["/posts/{duplicate}"]
    # Comments of merged posts are shown with their origin; the duplicate links to its target.
    assert "Same on my phone." in canonical
    assert "Still happens." in canonical
    assert f'href="/posts/{world.duplicate.id}"' in canonical
    assert f'href="/posts/{world.canonical.id}"' in duplicate
    assert "Coming in June." in pages["/posts/{accepted}"]
    if lang == "zh-CN":
        assert "已合并到" in duplicate
        assert "已采纳" in pages["/posts/{accepted}"]
        assert "反馈处理控制台" in client.get("/console").text


def test_times_are_machine_readable_for_the_local_time_script(
    browser_client: TestClient, world: World
) -> None:
    text = browser_client.get("/").text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+\+00:00" data-relative>', text)


def test_the_nav_shows_the_unread_count(browser_client: TestClient, world: World) -> None:
    sign_in(browser_client, world.friend)
    text = browser_client.get("/honour").text
    # The team accepted the friend's idea: one notice.
    assert re.search(r'<span class="count"[^>]*>1</span>', text)
    assert 'href="/console"' not in text
    sign_in(browser_client, world.team)
    assert 'href="/console"' in browser_client.get("/honour").text


def test_honour_roll_explains_the_public_formula(browser_client: TestClient, world: World) -> None:
    text = browser_client.get("/honour").text
    assert FORMULA in text
    assert "Nothing ever takes points away" in text
    assert world.friend.display_name in text


def test_the_chinese_catalogue_covers_every_string(tmp_path: Path) -> None:
    """Every _()/gettext() in templates, pages and notices, and every page message table."""
    # Every domain's catalogue in the folder counts: the app merges them all.
    catalogue = Catalog(locale="zh")
    for po_path in sorted((LOCALE_DIR / "zh").glob("*.po")):
        with po_path.open("rb") as handle:
            for entry in read_po(handle, locale="zh"):
                if entry.id:
                    catalogue[entry.id] = entry
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    wanted: set[str] = set()
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}}
    method_map = [("**.html", "jinja2.ext:babel_extract")]
    for _name, _line, message, _comments, _context in extract_from_dir(
        str(TEMPLATE_DIR), method_map=method_map, options_map=options, keywords=keywords
    ):
        wanted.add(message[0] if isinstance(message, tuple) else message)
    for module in (
        "community/notices.py",
        "community/service.py",
        "community/pages.py",
        "community/digest.py",
        "accounts/emails.py",
    ):
        for _line, message, _comments, _context in extract_from_file(
            "python", str(SRC / module), keywords=keywords
        ):
            wanted.add(message[0] if isinstance(message, tuple) else message)
    wanted |= set(community_pages.FIELD_MESSAGES.values())
    wanted |= set(community_pages.DONE_MESSAGES.values())
    wanted |= set(accounts_pages.FIELD_MESSAGES.values())
    wanted |= set(community_pages.FLASH_MESSAGES.values())
    wanted |= set(accounts_pages.FLASH_MESSAGES.values())
    assert len(wanted) > 150, "the extraction found too little to be trusted"
    wanted |= {
        "Only team members can do this.",
        "Wrong email or password.",
        "This link is not valid or was already used; ask for a new one.",
        "This link has expired; ask for a new one.",
        "Too many password reset attempts; try again later.",
        "Too many email link attempts; try again later.",
        Unavailable.database().message,
    }
    translated: set[str] = set()
    for entry in catalogue:
        msgid = entry.id if isinstance(entry.id, str) else entry.id[0]
        if msgid and entry.string and any(entry.string):
            translated.add(msgid)
    missing = sorted(m for m in wanted if m not in translated)
    assert not missing, f"untranslated: {missing}"


# --- roles and CSRF ------------------------------------------------------------------------------


def test_a_friend_gets_403_on_the_console(
    browser_client: TestClient, world: World, database: Database
) -> None:
    sign_in(browser_client, world.friend)
    assert browser_client.get("/console").status_code == 403
    response = browser_client.post(
        "/console/status",
        data={
            "csrf_token": token(browser_client, "/"),
            "post_id": str(world.fresh.id),
            "status": "accepted",
        },
    )
    assert response.status_code == 403
    with database.session() as s:
        assert service.get_post(s, post_id=world.fresh.id).status == Status.NEW


def test_signed_out_visitors_are_sent_to_sign_in(browser_client: TestClient) -> None:
    for path in ("/submit", "/notifications", "/profile", "/console"):
        response = browser_client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/signin?next="), path


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/submit", {"kind": "bug", "title": "A title", "body": "A body"}),
        ("/posts/{id}/vote", {}),
        ("/posts/{id}/unvote", {}),
        ("/posts/{id}/comments", {"body": "hello"}),
        ("/notifications/read", {}),
        ("/profile", {"display_name": "Changed", "locale": "zh", "country": "IN"}),
        ("/profile/tokens", {"name": "phone"}),
        ("/console/status", {"post_id": "{id}", "status": "accepted"}),
        ("/console/bulk", {"post_ids": "{id}", "status": "accepted"}),
        ("/console/merge", {"source_id": "{id}", "target_id": "{other}"}),
        ("/signout", {}),
    ],
)
def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(
    browser_client: TestClient, world: World, database: Database, path: str, fields: dict[str, str]
) -> None:
    sign_in(browser_client, world.team)
    ids = {"id": str(world.fresh.id), "other": str(world.accepted.id)}
    data = {k: v.format(**ids) for k, v in fields.items()}
    tables = (Post, Vote, Comment, Notification, ApiToken, WebSession)
    before = [count(database, t) for t in tables]
    for attempt in ({}, {"csrf_token": "forged"}):
        response = browser_client.post(path.format(**ids), data=data | attempt)
        assert response.status_code == 403, (path, attempt)
    assert [count(database, t) for t in tables] == before
    with database.session() as s:
        post = service.get_post(s, post_id=world.fresh.id)
        assert post.status == Status.NEW
        assert post.vote_count == 0
        team = s.get(User, world.team.id)
        assert team is not None
        assert team.display_name == world.team.display_name


def test_sign_up_then_sign_out_then_sign_in(browser_client: TestClient, database: Database) -> None:
    client = browser_client
    page = client.get("/signup")
    assert page.status_code == 200
    assert 'name="country"' in page.text
    response = client.post(
        "/signup",
        data={
            "csrf_token": csrf_from(page),
            "email": "Mei@Example.com",
            "password": "long enough",
            "display_name": "Mei",
            "country": "CN",
            "locale": "zh",
            "next": "/submit",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/submit"
    assert response.cookies.get(LOCALE_COOKIE) == "zh"
    set_cookie = ";".join(response.headers.get_list("set-cookie")).lower()
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    profile = client.get("/profile")
    assert profile.status_code == 200
    assert "mei@example.com" in profile.text
    assert "个人资料" in profile.text  # the chosen language

    out = client.post("/signout", data={"csrf_token": csrf_from(profile)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/profile", follow_redirects=False).status_code == 303
    assert count(database, WebSession) == 0

    response = client.post(
        "/signin",
        data={"csrf_token": token(client), "email": "mei@example.com", "password": "long enough"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/profile").status_code == 200
    assert count(database, User) == 1


def test_sign_in_never_redirects_to_another_site(
    browser_client: TestClient, make_user: UserFactory
) -> None:
    user = make_user()
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = browser_client.post(
            "/signin",
            data={
                "csrf_token": token(browser_client),
                "email": user.email,
                "password": PASSWORD,
                "next": evil,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/", evil


# --- bad input is shown on the form, with a 4xx, and writes nothing -----------------------------


def test_a_wrong_password_is_shown_on_the_form(
    browser_client: TestClient, make_user: UserFactory, database: Database
) -> None:
    user = make_user()
    response = browser_client.post(
        "/signin",
        data={"csrf_token": token(browser_client), "email": user.email, "password": "nope"},
    )
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert f'value="{user.email}"' in response.text
    assert SESSION_COOKIE not in response.cookies
    assert count(database, WebSession) == 0


def test_sign_up_errors_are_shown_next_to_the_fields(
    browser_client: TestClient, make_user: UserFactory, database: Database
) -> None:
    existing = make_user()
    page = browser_client.get("/signup")
    bad = browser_client.post(
        "/signup",
        data={
            "csrf_token": csrf_from(page),
            "email": "not-an-email",
            "password": "short",
            "display_name": "Mei",
            "country": "CN",
            "locale": "en",
        },
    )
    assert bad.status_code == 422
    assert "Enter a valid email address." in bad.text
    assert "A password has 8 to 1024 characters." in bad.text
    assert 'value="Mei"' in bad.text
    taken = browser_client.post(
        "/signup",
        data={
            "csrf_token": csrf_from(page),
            "email": existing.email,
            "password": "long enough",
            "display_name": "Again",
            "country": "CN",
            "locale": "en",
        },
    )
    assert taken.status_code == 409
    assert "An account with this email already exists." in taken.text
    assert count(database, User) == 1
    assert count(database, WebSession) == 0


def test_sign_up_is_rate_limited_on_the_form(browser_client: TestClient) -> None:
    csrf = token(browser_client, "/signup")
    statuses = [
        browser_client.post("/signup", data={"csrf_token": csrf, "email": "x"}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [422] * 5
    assert statuses[5] == 429


@pytest.mark.parametrize("world", ["zh"], indirect=True)
def test_an_empty_title_is_shown_on_the_submit_form(
    browser_client: TestClient, world: World, database: Database
) -> None:
    sign_in(browser_client, world.friend)
    before = count(database, Post)
    response = browser_client.post(
        "/submit",
        data={
            "csrf_token": token(browser_client, "/submit"),
            "kind": "bug",
            "title": "   ",
            "body": "The body I wrote stays.",
        },
    )
    assert response.status_code == 422
    assert "请给帖子写个标题" in response.text  # in the friend's language
    assert "The body I wrote stays." in response.text
    assert count(database, Post) == before


def test_submitting_a_post_redirects_to_it(
    browser_client: TestClient, make_user: UserFactory, database: Database
) -> None:
    sign_in(browser_client, make_user())
    response = browser_client.post(
        "/submit",
        data={
            "csrf_token": token(browser_client, "/submit"),
            "kind": "idea",
            "title": "Battery percentage in the status bar",
            "body": "Show it as a number.",
            "device_model": "canyu 1",
            "software_build": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = browser_client.get(response.headers["location"])
    assert "Battery percentage in the status bar" in page.text
    assert "canyu 1" in page.text
    with database.session() as s:
        post = s.scalars(select(Post)).one()
        assert post.software_build is None
        assert post.kind == "idea"


def test_an_empty_comment_is_shown_on_the_post_page(
    browser_client: TestClient, world: World, database: Database
) -> None:
    sign_in(browser_client, world.friend)
    before = count(database, Comment)
    path = f"/posts/{world.fresh.id}"
    bad = browser_client.post(
        f"{path}/comments", data={"csrf_token": token(browser_client, path), "body": " "}
    )
    assert bad.status_code == 422
    assert "Write a comment" in bad.text
    assert count(database, Comment) == before
    good = browser_client.post(
        f"{path}/comments", data={"csrf_token": token(browser_client, path), "body": "+1"}
    )
    assert good.status_code == 200
    assert "+1" in good.text
    assert count(database, Comment) == before + 1


def test_bad_query_strings_never_break_a_page(browser_client: TestClient, world: World) -> None:
    assert browser_client.get("/?sort=x&kind=y&status=z&language=q&page=abc").status_code == 200
    assert browser_client.get("/?page=-4&device=" + "x" * 500).status_code == 200
    assert browser_client.get("/posts/999999").status_code == 404
    # A page address that names nothing is not found, as a person reads it (no validation text).
    missing = browser_client.get("/posts/abc")
    assert missing.status_code == 404
    assert "We could not find that" in missing.text
    assert "Invalid" not in missing.text
    sign_in(browser_client, world.team)
    assert browser_client.get("/console?status=nope&page=zz&language=xx").status_code == 200


# --- votes, notifications, profile, language ------------------------------------------------------


def test_vote_and_unvote_through_the_forms(
    browser_client: TestClient, world: World, database: Database
) -> None:
    sign_in(browser_client, world.friend)
    path = f"/posts/{world.fresh.id}"
    csrf = token(browser_client, path)
    response = browser_client.post(
        f"{path}/vote", data={"csrf_token": csrf, "next": "/?sort=new"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/?sort=new"
    page = browser_client.get(path).text
    assert f'action="{path}/unvote"' in page
    with database.session() as s:
        assert service.get_post(s, post_id=world.fresh.id).vote_count == 1
    browser_client.post(f"{path}/unvote", data={"csrf_token": csrf})
    with database.session() as s:
        assert service.get_post(s, post_id=world.fresh.id).vote_count == 0


def test_notifications_list_and_mark_read(browser_client: TestClient, world: World) -> None:
    sign_in(browser_client, world.friend)
    page = browser_client.get("/notifications")
    assert "“Dark mode in Settings” is now Accepted. Reason: Coming in June." in page.text
    assert page.text.count('class="notice unread"') == 1
    browser_client.post("/notifications/read", data={"csrf_token": csrf_from(page)})
    after = browser_client.get("/notifications").text
    assert 'class="notice unread"' not in after
    assert 'class="count"' not in after


def test_profile_update_and_api_tokens(
    browser_client: TestClient, make_user: UserFactory, database: Database
) -> None:
    user = make_user()
    sign_in(browser_client, user)
    csrf = token(browser_client, "/profile")
    bad = browser_client.post(
        "/profile",
        data={"csrf_token": csrf, "display_name": "", "locale": "en", "country": "CN"},
    )
    assert bad.status_code == 422
    assert "A display name has 1 to 80 characters." in bad.text
    saved = browser_client.post(
        "/profile",
        data={"csrf_token": csrf, "display_name": "Ravi", "locale": "zh", "country": "IN"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.cookies.get(LOCALE_COOKIE) == "zh"
    with database.session() as s:
        stored = s.get(User, user.id)
        assert stored is not None
        assert (stored.display_name, stored.country) == ("Ravi", "IN")

    created = browser_client.post("/profile/tokens", data={"csrf_token": csrf, "name": "phone"})
    raw = re.search(r'<code id="new-token">(cy_[A-Za-z0-9_-]{43})</code>', created.text)
    assert created.status_code == 200
    assert raw
    api = TestClient(browser_client.app)
    bearer = {"Authorization": f"Bearer {raw.group(1)}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    assert raw.group(1) not in browser_client.get("/profile").text  # shown once
    with database.session() as s:
        token_id = s.scalars(select(ApiToken.id)).one()
    browser_client.post(f"/profile/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


def test_language_switch_sets_the_cookie_and_goes_back(browser_client: TestClient) -> None:
    csrf = token(browser_client, "/honour")
    response = browser_client.post(
        "/locale",
        data={"csrf_token": csrf, "locale": "zh", "next": "/honour"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/honour"
    assert response.cookies.get(LOCALE_COOKIE) == "zh"
    assert "荣誉榜" in browser_client.get("/honour").text
    evil = browser_client.post(
        "/locale",
        data={"csrf_token": csrf, "locale": "en", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/"
    assert CSRF_COOKIE in browser_client.cookies


# --- the console ---------------------------------------------------------------------------------


def test_console_triage_notifies_the_author(
    browser_client: TestClient, world: World, database: Database
) -> None:
    sign_in(browser_client, world.team)
    page = browser_client.get("/console")
    assert f'id="post-{world.fresh.id}"' in page.text
    csrf = csrf_from(page)
    response = browser_client.post(
        "/console/status",
        data={
            "csrf_token": csrf,
            "post_id": str(world.canonical.id),
            "status": "planned",
            "reason": "In the July build.",
            "back": "/console?status=new",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console?status=new&done=status"
    assert (
        "the author and voters were notified"
        in browser_client.get(response.headers["location"]).text
    )
    with database.session() as s:
        assert service.get_post(s, post_id=world.canonical.id).status == Status.PLANNED
        notices = service.list_notifications(s, user=world.friend)
        assert notices[0].payload["reason"] == "In the July build."


def test_console_shows_why_a_status_change_was_refused(
    browser_client: TestClient, world: World, database: Database
) -> None:
    sign_in(browser_client, world.team)
    csrf = token(browser_client, "/console")
    response = browser_client.post(
        "/console/status",
        data={"csrf_token": csrf, "post_id": str(world.fresh.id), "status": "declined"},
    )
    assert response.status_code == 422
    assert "needs a reason friends can read" in response.text
    assert f'id="post-{world.fresh.id}"' in response.text  # the queue is still there
    with database.session() as s:
        assert service.get_post(s, post_id=world.fresh.id).status == Status.NEW


def test_bulk_change_is_all_or_nothing_and_names_the_culprits(
    browser_client: TestClient, world: World, database: Database
) -> None:
    sign_in(browser_client, world.team)
    csrf = token(browser_client, "/console")
    before = count(database, Notification)
    refused = browser_client.post(
        "/console/bulk",
        data={
            "csrf_token": csrf,
            "post_ids": [str(world.fresh.id), str(world.accepted.id)],
            "status": "accepted",
        },
    )
    assert refused.status_code == 409
    assert "nothing changed" in refused.text
    assert f"#{world.accepted.id}" in refused.text
    assert "already accepted" in refused.text
    assert count(database, Notification) == before
    done = browser_client.post(
        "/console/bulk",
        data={
            "csrf_token": csrf,
            "post_ids": [str(world.fresh.id), str(world.canonical.id)],
            "status": "accepted",
            "back": "/console?status=all",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    with database.session() as s:
        for post_id in (world.fresh.id, world.canonical.id):
            assert service.get_post(s, post_id=post_id).status == Status.ACCEPTED
    assert (
        browser_client.post(
            "/console/bulk", data={"csrf_token": csrf, "post_ids": ["x"], "status": "new"}
        ).status_code
        == 422
    )


def test_console_merge_and_undo(
    browser_client: TestClient, world: World, database: Database
) -> None:
    with database.session() as s:
        again = service.create_post(
            s, author=world.friend, kind="bug", title="Camera crashes on open", body="Again."
        )
    sign_in(browser_client, world.team)
    page = browser_client.get("/console")
    # A post like one already merged into the camera post is offered that post as a target.
    suggestion = re.search(
        rf'name="source_id" value="{again.id}">\s*<input type="hidden" name="target_id" '
        rf'value="(\d+)">',
        page.text,
    )
    assert suggestion
    assert int(suggestion.group(1)) == world.canonical.id
    csrf = csrf_from(page)
    merged = browser_client.post(
        "/console/merge",
        data={"csrf_token": csrf, "source_id": str(world.fresh.id), "target_id": "#abc"},
    )
    assert merged.status_code == 422
    assert "post by its number" in merged.text
    self_merge = browser_client.post(
        "/console/merge",
        data={
            "csrf_token": csrf,
            "source_id": str(world.fresh.id),
            "target_id": str(world.fresh.id),
        },
    )
    assert self_merge.status_code == 422
    ok = browser_client.post(
        "/console/merge",
        data={
            "csrf_token": csrf,
            "source_id": str(world.fresh.id),
            "target_id": f"#{world.accepted.id}",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    with database.session() as s:
        assert service.get_post(s, post_id=world.fresh.id).duplicate_of_id == world.accepted.id
    undo = browser_client.post(
        "/console/unmerge",
        data={
            "csrf_token": csrf,
            "source_id": str(world.fresh.id),
            "back": f"/posts/{world.fresh.id}",
        },
        follow_redirects=False,
    )
    assert undo.status_code == 303
    assert undo.headers["location"] == f"/posts/{world.fresh.id}"
    with database.session() as s:
        assert service.get_post(s, post_id=world.fresh.id).status == Status.NEW


def test_no_two_domains_translate_one_string_differently() -> None:
    """The app merges every domain's catalogue into one: a string two domains translate
    differently would show one domain's word on the other's pages (a store order "Paid" read as
    a hotspot's fee). A word that means two things gets two msgids."""
    translations: dict[str, dict[str, str]] = {}
    for po_path in sorted((LOCALE_DIR / "zh").glob("*.po")):
        with po_path.open("rb") as handle:
            for entry in read_po(handle, locale="zh"):
                if entry.id and entry.string:
                    translations.setdefault(str(entry.id), {})[po_path.name] = str(entry.string)
    clashes = {
        msgid: by_file for msgid, by_file in translations.items() if len(set(by_file.values())) > 1
    }
    assert not clashes
