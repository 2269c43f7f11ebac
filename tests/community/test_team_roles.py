"""Every route of moderation, screenshots and conversations, as each role meets it: signed out,
a friend (the author), another friend, the team, an admin, and a device (whose token is not a
person's: it gets 401 on every person's route)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from conftest import PASSWORD, UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from canyu.accounts.models import Role, User

Auth = Callable[[User], dict[str, str]]
DEVICE = {"Authorization": "Bearer cyd_" + "A" * 43}
HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, format="PNG")
    return out.getvalue()


class World:
    """An author's post with a comment by another friend, a screenshot on each, a spam report,
    and a conversation between the author and the team."""

    def __init__(self, client: TestClient, make_user: UserFactory, auth: Auth) -> None:
        self.client = client
        self.author, self.other = make_user(), make_user()
        self.team, self.admin = make_user(Role.TEAM), make_user(Role.ADMIN)
        self.headers: dict[str, dict[str, str]] = {
            "out": {},
            "friend": auth(self.author),
            "other": auth(self.other),
            "team": auth(self.team),
            "admin": auth(self.admin),
            "device": DEVICE,
        }
        self.post_id = self.post()
        self.comment_id = self.comment(self.post_id, "other")
        self.shot = self.upload(f"/api/v1/feedback/{self.post_id}/screenshots", "friend")
        started = client.post(
            f"/api/v1/feedback/{self.post_id}/conversation",
            json={"body": "Logs, please?"},
            headers=self.headers["team"],
        )
        assert started.status_code == 201, started.text
        self.conversation_id: int = started.json()["id"]

    def post(self, who: str = "friend") -> int:
        body = {"kind": "bug", "title": "Radio silent", "body": "No FM sound."}
        response = self.client.post("/api/v1/feedback", json=body, headers=self.headers[who])
        assert response.status_code == 201, response.text
        post_id: int = response.json()["id"]
        return post_id

    def comment(self, post_id: int, who: str) -> int:
        response = self.client.post(
            f"/api/v1/feedback/{post_id}/comments",
            json={"body": "Me too"},
            headers=self.headers[who],
        )
        assert response.status_code == 201, response.text
        comment_id: int = response.json()["id"]
        return comment_id

    def upload(self, url: str, who: str) -> str:
        response = self.client.post(
            url, files=[("files", ("s.png", png(), "image/png"))], headers=self.headers[who]
        )
        assert response.status_code == 201, response.text
        shot_url: str = response.json()[0]["url"]
        return shot_url

    def check(self, expected: dict[str, int], call: Callable[[dict[str, str]], Any]) -> None:
        got = {role: call(self.headers[role]).status_code for role in expected}
        assert got == expected


def test_moderation_api_roles(client: TestClient, make_user: UserFactory, auth: Auth) -> None:
    w = World(client, make_user, auth)
    team_only = {"out": 401, "friend": 403, "other": 403, "team": 200, "admin": 200, "device": 401}

    def hide_fresh(h: dict[str, str]) -> Any:
        return client.post(
            f"/api/v1/moderation/posts/{w.post()}",
            json={"action": "hide", "reason": "r"},
            headers=h,
        )

    w.check(team_only, hide_fresh)

    def hide_comment(h: dict[str, str]) -> Any:
        return client.post(
            f"/api/v1/moderation/comments/{w.comment(w.post_id, 'other')}",
            json={"action": "delete", "reason": "r"},
            headers=h,
        )

    w.check(team_only, hide_comment)

    def ban_and_unban(h: dict[str, str]) -> Any:
        target = make_user()
        banned = client.post(
            f"/api/v1/moderation/users/{target.id}/ban", json={"reason": "r"}, headers=h
        )
        if banned.status_code != 200:
            return banned
        return client.post(
            f"/api/v1/moderation/users/{target.id}/unban", json={"reason": "r"}, headers=h
        )

    w.check(team_only, ban_and_unban)
    w.check(team_only, lambda h: client.get("/api/v1/moderation/queue", headers=h))
    w.check(team_only, lambda h: client.get("/api/v1/moderation/log", headers=h))

    def review(h: dict[str, str]) -> Any:
        post_id = w.post()
        client.post(f"/api/v1/feedback/{post_id}/report", json={}, headers=w.headers["other"])
        return client.post(
            f"/api/v1/moderation/queue/post/{post_id}",
            json={"decision": "dismiss", "reason": "fine"},
            headers=h,
        )

    w.check(team_only, review)
    # Reports: anyone signed in but the author.
    w.check(
        {"out": 401, "friend": 409, "other": 201, "team": 201, "admin": 201, "device": 401},
        lambda h: client.post(f"/api/v1/feedback/{w.post_id}/report", json={}, headers=h),
    )
    w.check(
        {"out": 401, "friend": 201, "other": 409, "team": 201, "admin": 201, "device": 401},
        lambda h: client.post(f"/api/v1/comments/{w.comment_id}/report", json={}, headers=h),
    )


def test_screenshot_and_conversation_api_roles(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    w = World(client, make_user, auth)
    everyone = {"out": 200, "friend": 200, "other": 200, "team": 200, "admin": 200}
    w.check(everyone | {"device": 401}, lambda h: client.get(w.shot, headers=h))
    w.check(
        everyone | {"device": 401},
        lambda h: client.get(f"/api/v1/feedback/{w.post_id}/screenshots", headers=h),
    )

    def add(url: str) -> Callable[[dict[str, str]], Any]:
        return lambda h: client.post(
            url, files=[("files", ("s.png", png(), "image/png"))], headers=h
        )

    # The post's author (friend) or the team may add to a post; the comment's author (other)
    # or the team to a comment.
    w.check(
        {"out": 401, "friend": 201, "other": 403, "team": 201, "device": 401},
        add(f"/api/v1/feedback/{w.post_id}/screenshots"),
    )
    w.check(
        {"out": 401, "friend": 403, "other": 201, "admin": 201, "device": 401},
        add(f"/api/v1/comments/{w.comment_id}/screenshots"),
    )
    cid = w.conversation_id
    signed_in = {"out": 401, "friend": 200, "other": 200, "team": 200, "admin": 200, "device": 401}
    w.check(signed_in, lambda h: client.get("/api/v1/conversations", headers=h))
    w.check(
        {"out": 401, "friend": 200, "other": 404, "team": 200, "admin": 200, "device": 401},
        lambda h: client.get(f"/api/v1/conversations/{cid}", headers=h),
    )
    w.check(
        {"out": 401, "friend": 201, "other": 404, "team": 201, "admin": 201, "device": 401},
        lambda h: client.post(
            f"/api/v1/conversations/{cid}/messages", json={"body": "ok"}, headers=h
        ),
    )
    w.check(
        {"out": 401, "friend": 201, "other": 201, "team": 201, "admin": 201, "device": 401},
        lambda h: client.post(
            f"/api/v1/feedback/{w.post_id}/conversation", json={"body": "hello"}, headers=h
        ),
    )


def _browser(app: FastAPI, user: User | None) -> tuple[TestClient, str]:
    """A TestClient signed in through the form (or not), and its CSRF token."""
    browser = TestClient(app)
    token = _CSRF.search(browser.get("/signin", headers=HTML).text)
    assert token
    if user is not None:
        browser.post(
            "/signin",
            data={"csrf_token": token.group(1), "email": user.email, "password": PASSWORD},
            follow_redirects=False,
        )
        token = _CSRF.search(browser.get("/", headers=HTML).text)
        assert token
    return browser, token.group(1)


def test_page_routes_roles(
    app: FastAPI, client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    w = World(client, make_user, auth)
    people = {"out": None, "friend": w.author, "other": w.other, "team": w.team, "admin": w.admin}
    browsers = {role: _browser(app, user) for role, user in people.items()}

    def status(role: str, method: str, url: str, data: dict[str, str] | None = None) -> int:
        if role == "device":
            return client.request(method, url, headers=DEVICE | HTML).status_code
        browser, token = browsers[role]
        if method == "GET":
            return browser.get(url, headers=HTML, follow_redirects=False).status_code
        form = {"csrf_token": token, **(data or {})}
        response = browser.post(url, data=form, headers=HTML, follow_redirects=False)
        return response.status_code

    def check(expected: dict[str, int], method: str, url: Callable[[], str], **data: str) -> None:
        got = {role: status(role, method, url(), data) for role in expected}
        assert got == expected, url()

    signin = {"out": 303, "device": 401}
    team_post = signin | {"friend": 403, "other": 403, "team": 303, "admin": 303}
    check(
        signin | {"friend": 403, "other": 403, "team": 200, "admin": 200},
        "GET",
        lambda: "/console/moderation",
    )
    check(team_post, "POST", lambda: f"/posts/{w.post()}/moderate", action="hide", reason="r")
    check(
        team_post,
        "POST",
        lambda: f"/comments/{w.comment(w.post_id, 'other')}/moderate",
        action="hide",
        reason="r",
    )
    for role, code in team_post.items():
        form = {"user_id": str(make_user().id), "reason": "r"}
        assert status(role, "POST", "/console/moderation/ban", form) == code, role
    banned = make_user()
    client.post(
        f"/api/v1/moderation/users/{banned.id}/ban",
        json={"reason": "r"},
        headers=w.headers["team"],
    )
    check(
        signin | {"friend": 403, "other": 403, "team": 303},
        "POST",
        lambda: "/console/moderation/unban",
        user_id=str(banned.id),
        reason="r",
    )

    def reported_post() -> str:
        post_id = w.post()
        client.post(f"/api/v1/feedback/{post_id}/report", json={}, headers=w.headers["other"])
        return str(post_id)

    for role, code in (signin | {"friend": 403, "other": 403, "team": 303, "admin": 303}).items():
        form = {"kind": "post", "target_id": reported_post(), "decision": "dismiss", "reason": "r"}
        assert status(role, "POST", "/console/moderation/review", form) == code, role
    check(
        signin | {"friend": 409, "other": 303, "team": 303, "admin": 303},
        "POST",
        lambda: f"/posts/{w.post_id}/report",
    )
    check(
        signin | {"friend": 303, "other": 409, "team": 303, "admin": 303},
        "POST",
        lambda: f"/comments/{w.comment_id}/report",
    )
    cid = w.conversation_id
    check(
        signin | {"friend": 200, "other": 200, "team": 200, "admin": 200},
        "GET",
        lambda: "/conversations",
    )
    check(
        signin | {"friend": 200, "other": 404, "team": 200, "admin": 200},
        "GET",
        lambda: f"/conversations/{cid}",
    )
    check(
        signin | {"friend": 303, "other": 404, "team": 303, "admin": 303},
        "POST",
        lambda: f"/conversations/{cid}/messages",
        body="thanks",
    )
    check(
        signin | {"friend": 303, "other": 303, "team": 303, "admin": 303},
        "POST",
        lambda: f"/posts/{w.post_id}/conversation",
        body="hello",
    )
    check(
        {"out": 200, "friend": 200, "other": 200, "team": 200, "admin": 200, "device": 401},
        "GET",
        lambda: w.shot,
    )
