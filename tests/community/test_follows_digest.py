"""Following posts, comment notices, the weekly email digest (a real SMTP exchange) and its
signed unsubscribe link, by role: signed out, a friend, another friend, team, admin, a device."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from conftest import UserFactory, assert_error
from fastapi import FastAPI
from fastapi.testclient import TestClient
from smtp_inbox import MAIL_BASE_URL, Inbox, links_in
from sqlalchemy import select

from canyu.accounts.models import Role, User
from canyu.accounts.tokens import Links
from canyu.community import digest, service
from canyu.community.models import DigestSubscription, Follow
from canyu.db import Database, utcnow
from canyu.releases import service as releases

FEEDBACK = "/api/v1/feedback"
HTML_ACCEPT = {"Accept": "text/html"}
Auth = Callable[[User], dict[str, str]]


@pytest.fixture
def people(make_user: UserFactory) -> dict[str, User]:
    return {
        "friend": make_user(),
        "other": make_user(locale="zh"),
        "team": make_user(Role.TEAM),
        "admin": make_user(Role.ADMIN),
    }


@pytest.fixture
def device_headers(database: Database) -> dict[str, str]:
    with database.session() as s:
        releases.create_product(s, actor=None, key="canyu-1s", name="canyu 1s")
        token = releases.enrol_device(
            s,
            product_key="canyu-1s",
            hardware_id="friends-1",
            country="CN",
            channel="stable",
            owner=None,
        ).token
    return {"Authorization": f"Bearer {token}"}


def _post(database: Database, author: User, title: str = "Battery drains overnight") -> int:
    with database.session() as s:
        return service.create_post(
            s, author=author, kind="bug", title=title, body="From 80 % to 20 % in one night."
        ).id


def _notices(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    response = client.get("/api/v1/notifications", headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()
    return found


def test_follow_and_digest_routes_by_role(
    client: TestClient,
    database: Database,
    people: dict[str, User],
    auth: Auth,
    device_headers: dict[str, str],
) -> None:
    post_id = _post(database, people["friend"])
    follow = f"{FEEDBACK}/{post_id}/follow"
    # Signed out and a device: no account, no following, no digest setting.
    for headers in ({}, device_headers):
        for method, path in (
            ("PUT", follow),
            ("DELETE", follow),
            ("GET", "/api/v1/me/digest"),
            ("PUT", "/api/v1/me/digest"),
        ):
            body = {"enabled": False} if path.endswith("digest") else None
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, response.text)
    # Any friend, the team and admins follow any post, without voting.
    for who in ("other", "team", "admin"):
        response = client.put(follow, headers=auth(people[who]))
        assert response.json() == {"post_id": post_id, "following": True}
        assert client.put(follow, headers=auth(people[who])).status_code == 200  # twice: same
    assert client.get(f"{FEEDBACK}/{post_id}").json()["vote_count"] == 0
    # The author follows their own post from the start, and may stop.
    with database.session() as s:
        followers = set(s.scalars(select(Follow.user_id).where(Follow.post_id == post_id)))
    assert followers == {people[w].id for w in ("friend", "other", "team", "admin")}
    response = client.delete(follow, headers=auth(people["friend"]))
    assert response.json() == {"post_id": post_id, "following": False}
    # Each friend's digest setting is their own.
    h_friend, h_other = auth(people["friend"]), auth(people["other"])
    assert client.get("/api/v1/me/digest", headers=h_friend).json() == {"enabled": True}
    assert client.put("/api/v1/me/digest", json={"enabled": False}, headers=h_friend).json() == {
        "enabled": False
    }
    assert client.get("/api/v1/me/digest", headers=h_friend).json() == {"enabled": False}
    assert client.get("/api/v1/me/digest", headers=h_other).json() == {"enabled": True}
    # Bad input: a clear 4xx.
    assert_error(client.put(f"{FEEDBACK}/424242/follow", headers=h_friend), 404, "not_found")
    assert_error(client.put(f"{FEEDBACK}/0/follow", headers=h_friend), 422, "invalid_input")
    assert_error(
        client.put("/api/v1/me/digest", json={"enabled": "maybe"}, headers=h_friend),
        422,
        "invalid_input",
    )


def test_comments_reach_followers_and_the_author_but_not_the_commenter(
    client: TestClient,
    database: Database,
    people: dict[str, User],
    auth: Auth,
    make_user: UserFactory,
) -> None:
    friend, other, team = people["friend"], people["other"], people["team"]
    voter = make_user()
    post_id = _post(database, friend, "相机打开后闪退")
    client.put(f"{FEEDBACK}/{post_id}/follow", headers=auth(other))
    client.put(f"{FEEDBACK}/{post_id}/vote", headers=auth(voter))  # votes, does not follow
    r = client.post(
        f"{FEEDBACK}/{post_id}/comments", json={"body": "Same here."}, headers=auth(team)
    )
    assert r.status_code == 201
    texts = {
        who: [n["text"] for n in _notices(client, auth(people[who]))]
        for who in ("friend", "other", "team")
    }
    assert texts["friend"] == [f"{team.display_name} commented on “相机打开后闪退”."]
    assert texts["other"] == [f"{team.display_name} 评论了「相机打开后闪退」。"]  # in Chinese
    assert texts["team"] == []  # the commenter is not told of their own comment
    assert _notices(client, auth(voter)) == []  # voting alone is not following
    # The commenter follows from now on; an unfollower hears no more.
    client.delete(f"{FEEDBACK}/{post_id}/follow", headers=auth(other))
    client.post(f"{FEEDBACK}/{post_id}/comments", json={"body": "Fixed?"}, headers=auth(friend))
    assert len(_notices(client, auth(team))) == 1
    assert len(_notices(client, auth(other))) == 1


def test_a_comment_on_a_duplicate_reaches_the_canonical_posts_followers(
    client: TestClient, database: Database, people: dict[str, User], auth: Auth
) -> None:
    friend, other, team = people["friend"], people["other"], people["team"]
    canonical = _post(database, friend, "Camera crashes")
    duplicate = _post(database, other, "Camera app closes at once")
    with database.session() as s:
        actor = s.get(User, team.id)
        assert actor is not None
        service.merge(s, actor=actor, source_id=duplicate, target_id=canonical)
    client.post(f"{FEEDBACK}/{canonical}/comments", json={"body": "Looking."}, headers=auth(team))
    assert [n["post_id"] for n in _notices(client, auth(other)) if n["kind"] == "comment"] == [
        canonical
    ]


# --- the digest ---------------------------------------------------------------------------------


def _verify(database: Database, *users: User) -> None:
    with database.session() as s:
        for user in users:
            row = s.get(User, user.id)
            assert row is not None
            row.email_verified_at = utcnow()


def _send(database: Database, app: FastAPI, *, days_later: float = 0) -> int:
    with database.session() as s:
        return digest.send_digests(
            s,
            links=Links(app.state.secret_key, MAIL_BASE_URL),
            now=utcnow() + timedelta(days=days_later),
        )


def test_the_weekly_digest_mails_confirmed_friends_and_unsubscribes_signed_out(
    mail_app: tuple[FastAPI, TestClient],
    inbox: tuple[Inbox, int],
    database: Database,
    people: dict[str, User],
    auth: Auth,
    make_user: UserFactory,
) -> None:
    app, client = mail_app
    mailbox, _port = inbox
    friend, other, team = people["friend"], people["other"], people["team"]
    unconfirmed = make_user()
    _verify(database, friend, other, team)
    post_id = _post(database, friend, "Battery drains overnight")
    client.put(f"{FEEDBACK}/{post_id}/vote", headers=auth(unconfirmed))
    client.post(f"{FEEDBACK}/{post_id}/comments", json={"body": "Same."}, headers=auth(team))
    client.put("/api/v1/me/digest", json={"enabled": False}, headers=auth(people["admin"]))

    # friend: a comment notice and a popular post; other and team: the popular post.
    assert _send(database, app) == 3
    mailbox.wait_for(3)
    assert mailbox.recipients() == sorted([friend.email, other.email, team.email])
    mine = mailbox.last_to(friend.email)
    assert mine["Subject"] == "canyu: your week of feedback"
    text = mine.get_content()
    assert f"{team.display_name} commented on “Battery drains overnight”." in text
    assert "Battery drains overnight (1 votes)" in text
    assert f"http://testserver/posts/{post_id}" in text
    chinese = mailbox.last_to(other.email)
    assert chinese["Subject"] == "canyu：你的每周反馈摘要"
    assert "本周得票最多的新帖子" in chinese.get_content()
    # Sent once a week: nothing more until the week is up.
    assert _send(database, app) == 0
    assert _send(database, app, days_later=8) == 0  # nothing new to tell: nothing sent

    # The unsubscribe link works signed out: opening it asks, posting it turns the digest off.
    unsubscribe = next(u for u in links_in(mine) if "/digest/unsubscribe" in u)
    assert mine["List-Unsubscribe"] == f"<{unsubscribe}>"
    path = urlsplit(unsubscribe)
    page = client.get(f"{path.path}?{path.query}", headers=HTML_ACCEPT)
    assert page.status_code == 200
    assert friend.email in page.text
    assert client.get("/api/v1/me/digest", headers=auth(friend)).json() == {"enabled": True}
    # A mail app's one-click unsubscribe (RFC 8058): a POST with the link alone.
    done = client.post(
        f"{path.path}?{path.query}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded", **HTML_ACCEPT},
    )
    assert done.status_code == 200, done.text
    assert client.get("/api/v1/me/digest", headers=auth(friend)).json() == {"enabled": False}
    with database.session() as s:
        row = s.get(DigestSubscription, friend.id)
        assert row is not None
        assert not row.enabled


def test_a_forged_or_foreign_unsubscribe_link_is_refused(
    client: TestClient, app: FastAPI, database: Database, people: dict[str, User]
) -> None:
    from canyu.accounts.tokens import Purpose, issue

    reset_token = issue(app.state.secret_key, Purpose.RESET, people["friend"])
    for token in ("", "nonsense", reset_token, "x" * 600):
        response = client.post("/digest/unsubscribe", data={"token": token}, headers=HTML_ACCEPT)
        assert response.status_code == 422, token
        page = client.get("/digest/unsubscribe", params={"token": token}, headers=HTML_ACCEPT)
        assert page.status_code == 422
    forged = issue("another-key", Purpose.UNSUBSCRIBE, people["friend"])
    assert client.post("/digest/unsubscribe", data={"token": forged}).status_code == 422
    with database.session() as s:
        assert s.scalar(select(DigestSubscription)) is None  # nothing written


# --- the pages' forms, by role ----------------------------------------------------------------


def test_follow_and_digest_forms_by_role(
    client: TestClient, database: Database, people: dict[str, User]
) -> None:
    from portal.test_pages import csrf_from, sign_in

    client.headers.update(HTML_ACCEPT)
    post_id = _post(database, people["friend"])
    forms = (f"/posts/{post_id}/follow", f"/posts/{post_id}/unfollow", "/profile/digest")
    # Signed out: sent to sign in, nothing written.
    csrf = csrf_from(client.get("/signin"))
    for path in forms:
        response = client.post(path, data={"csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")
    sign_in(client, people["other"])
    # Without the form's token: refused, nothing written.
    for path in forms:
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 403
    with database.session() as s:
        assert s.scalar(select(DigestSubscription)) is None
        followers = set(s.scalars(select(Follow.user_id).where(Follow.post_id == post_id)))
        assert followers == {people["friend"].id}
    csrf = csrf_from(client.get(f"/posts/{post_id}"))
    followed = client.post(f"/posts/{post_id}/follow", data={"csrf_token": csrf})
    assert followed.status_code == 200
    assert "你已关注这个帖子" in followed.text  # in the friend's language
    assert f'action="/posts/{post_id}/unfollow"' in followed.text
    missing = client.post("/posts/424242/follow", data={"csrf_token": csrf})
    assert missing.status_code == 404
    off = client.post("/profile/digest", data={"csrf_token": csrf})  # the box unchecked
    assert "每周摘要已关闭。" in off.text
    with database.session() as s:
        row = s.get(DigestSubscription, people["other"].id)
        assert row is not None
        assert not row.enabled
        assert s.get(DigestSubscription, people["friend"].id) is None  # only one's own


def test_the_list_is_searched_in_any_language_and_sorted_hot_or_top(
    client: TestClient, database: Database, people: dict[str, User], make_user: UserFactory
) -> None:
    friend = people["friend"]
    camera = _post(database, friend, "相机打开后闪退")
    battery = _post(database, friend, "Longer battery life")
    voters = [make_user(), make_user()]
    with database.session() as s:
        old = service.create_post(
            s,
            author=friend,
            kind="idea",
            title="Dual SIM standby",
            body="Two numbers at once.",
            created_at=utcnow() - timedelta(days=300),
        )
        for voter in voters:
            service.vote(s, user=voter, post_id=old.id)
    page = client.get("/", params={"q": "the camera crashes when opened"}, headers=HTML_ACCEPT)
    assert page.status_code == 200
    assert f'href="/posts/{camera}"' in page.text
    assert f'href="/posts/{battery}"' not in page.text
    # Filters apply to the results; an odd query is no error.
    idea = client.get("/", params={"q": "camera", "kind": "idea"}, headers=HTML_ACCEPT)
    assert f'href="/posts/{camera}"' not in idea.text
    for odd in ("\x00", "x" * 5000, "   ", "%%%"):
        assert client.get("/", params={"q": odd}, headers=HTML_ACCEPT).status_code == 200
    # Top: the old post with two votes first; Hot: its age outweighs them.
    assert client.get(FEEDBACK, params={"sort": "top"}).json()[0]["id"] == old.id
    assert client.get(FEEDBACK, params={"sort": "hot"}).json()[-1]["id"] == old.id
    top = client.get("/", params={"sort": "top"}, headers=HTML_ACCEPT).text
    assert top.index(f'href="/posts/{old.id}"') < top.index(f'href="/posts/{camera}"')
