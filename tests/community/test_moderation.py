"""Moderation through the API: edit, hide, delete, restore with a reason; bans; the spam queue
(friends' reports and the rule's); the author is told; every step is recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import PASSWORD, UserFactory, assert_error
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canyu.accounts.models import Role, User
from canyu.community import moderation
from canyu.community.team_models import Flag, ModerationAction
from canyu.db import Database
from canyu.mail import take_outbox

Auth = Callable[[User], dict[str, str]]


def new_post(client: TestClient, headers: dict[str, str], **extra: str) -> dict[str, Any]:
    body = {"kind": "bug", "title": "Camera freezes", "body": "It freezes on open.", **extra}
    response = client.post("/api/v1/feedback", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def new_comment(client: TestClient, headers: dict[str, str], post_id: int, text: str) -> int:
    response = client.post(
        f"/api/v1/feedback/{post_id}/comments", json={"body": text}, headers=headers
    )
    assert response.status_code == 201, response.text
    comment_id: int = response.json()["id"]
    return comment_id


def moderate(
    client: TestClient, headers: dict[str, str], what: str, target: int, **body: str
) -> Any:
    return client.post(f"/api/v1/moderation/{what}/{target}", json=body, headers=headers)


def test_hidden_post_is_seen_by_its_author_and_the_team_only(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    author, other, team = make_user(), make_user(), make_user(Role.TEAM)
    post = new_post(client, auth(author))
    pid = post["id"]
    hidden = moderate(client, auth(team), "posts", pid, action="hide", reason="Off topic")
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["moderation"] == "hidden"
    # Gone from the list and for others; still there for the author and the team.
    assert client.get("/api/v1/feedback").json() == []
    assert_error(client.get(f"/api/v1/feedback/{pid}"), 404, "not_found")
    assert_error(client.get(f"/api/v1/feedback/{pid}", headers=auth(other)), 404, "not_found")
    assert client.get(f"/api/v1/feedback/{pid}", headers=auth(author)).status_code == 200
    assert client.get(f"/api/v1/feedback/{pid}", headers=auth(team)).status_code == 200
    # No votes or comments while hidden.
    assert_error(client.put(f"/api/v1/feedback/{pid}/vote", headers=auth(other)), 409, "conflict")
    # The author is told, with the reason, in their language.
    notes = client.get("/api/v1/notifications", headers=auth(author)).json()
    assert notes[0]["kind"] == "moderation"
    assert notes[0]["text"] == "The team hid your post “Camera freezes”. Reason: Off topic"
    # Restored: back for everyone; both steps are in the record with who and why.
    restored = moderate(client, auth(team), "posts", pid, action="restore", reason="Relevant")
    assert restored.json()["moderation"] is None
    assert client.get(f"/api/v1/feedback/{pid}").status_code == 200
    log = client.get("/api/v1/moderation/log", headers=auth(team)).json()
    assert [(e["action"], e["reason"], e["actor"]["id"]) for e in log] == [
        ("restore", "Relevant", team.id),
        ("hide", "Off topic", team.id),
    ]


def test_edit_keeps_the_old_text_in_the_record(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    author, team = make_user(), make_user(Role.TEAM)
    pid = new_post(client, auth(author), body="Call me at +86 138 0000 0000")["id"]
    edited = moderate(
        client,
        auth(team),
        "posts",
        pid,
        action="edit",
        reason="Removed a phone number",
        body="Call me (number removed by the team)",
    )
    assert edited.status_code == 200, edited.text
    assert client.get(f"/api/v1/feedback/{pid}").json()["body"] == (
        "Call me (number removed by the team)"
    )
    log = client.get("/api/v1/moderation/log", headers=auth(team)).json()
    assert log[0]["before"]["body"] == "Call me at +86 138 0000 0000"
    assert_error(
        moderate(client, auth(team), "posts", pid, action="edit", reason="x", body=" "),
        422,
        "invalid_input",
    )


def test_comments_hidden_and_deleted_leave_the_count_and_others_view(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    author, commenter, other, team = make_user(), make_user(), make_user(), make_user(Role.TEAM)
    pid = new_post(client, auth(author))["id"]
    cid = new_comment(client, auth(commenter), pid, "Buy cheap followers now")
    keep = new_comment(client, auth(other), pid, "Same here on build 2024.06.1")
    hidden = moderate(client, auth(team), "comments", cid, action="delete", reason="Advert")
    assert hidden.status_code == 200, hidden.text
    seen = client.get(f"/api/v1/feedback/{pid}/comments", headers=auth(other)).json()
    assert [c["id"] for c in seen] == [keep]
    mine = client.get(f"/api/v1/feedback/{pid}/comments", headers=auth(commenter)).json()
    assert [c["id"] for c in mine] == [cid, keep]
    assert client.get(f"/api/v1/feedback/{pid}").json()["comment_count"] == 1
    assert_error(
        moderate(client, auth(team), "comments", cid, action="hide", reason="again"),
        409,
        "conflict",
    )
    text = client.get("/api/v1/notifications", headers=auth(commenter)).json()[0]["text"]
    assert text == "The team deleted your comment on “Camera freezes”. Reason: Advert"


def test_a_reason_is_required_and_bad_actions_are_refused(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    author, team = make_user(), make_user(Role.TEAM)
    pid = new_post(client, auth(author))["id"]
    assert_error(
        moderate(client, auth(team), "posts", pid, action="hide", reason="   "),
        422,
        "invalid_input",
    )
    assert_error(
        moderate(client, auth(team), "posts", pid, action="burn", reason="x"),
        422,
        "invalid_input",
    )
    assert_error(
        moderate(client, auth(team), "posts", pid, action="restore", reason="x"),
        409,
        "conflict",
    )
    assert_error(
        moderate(client, auth(team), "posts", 99999, action="hide", reason="x"), 404, "not_found"
    )
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ModerationAction)) == 0


def test_a_banned_friend_cannot_sign_in_or_post_and_is_told_why(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    friend, team, admin = make_user(), make_user(Role.TEAM), make_user(Role.ADMIN)
    headers = auth(friend)
    banned = client.post(
        f"/api/v1/moderation/users/{friend.id}/ban",
        json={"reason": "Spam links"},
        headers=auth(team),
    )
    assert banned.status_code == 200, banned.text
    assert banned.json()["ban_reason"] == "Spam links"
    error = assert_error(
        client.post(
            "/api/v1/feedback",
            json={"kind": "bug", "title": "t", "body": "b"},
            headers=headers,
        ),
        403,
        "forbidden",
    )
    assert error["details"]["ban_reason"] == "Spam links"
    signin = client.post(
        "/api/v1/accounts/tokens", json={"email": friend.email, "password": PASSWORD}
    )
    assert_error(signin, 403, "forbidden")
    # A wrong password does not reveal the ban.
    wrong = client.post(
        "/api/v1/accounts/tokens", json={"email": friend.email, "password": "wrong password"}
    )
    assert_error(wrong, 401, "unauthorized")
    # Team members cannot be banned, nor can one ban oneself; a ban is not repeated.
    for target in (team, admin):
        assert_error(
            client.post(
                f"/api/v1/moderation/users/{target.id}/ban",
                json={"reason": "x"},
                headers=auth(admin if target is team else team),
            ),
            409,
            "conflict",
        )
    assert_error(
        client.post(
            f"/api/v1/moderation/users/{friend.id}/ban", json={"reason": "x"}, headers=auth(team)
        ),
        409,
        "conflict",
    )
    unbanned = client.post(
        f"/api/v1/moderation/users/{friend.id}/unban",
        json={"reason": "Appeal accepted"},
        headers=auth(admin),
    )
    assert unbanned.status_code == 200, unbanned.text
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_spam_queue_from_friends_and_the_rule(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    author, reporter, other, team = make_user(), make_user(), make_user(), make_user(Role.TEAM)
    spam = new_post(
        client,
        auth(author),
        title="Deals",
        body="http://a.example http://b.example www.c.example cheap phones",
    )
    plain = new_post(client, auth(other), title="Battery", body="Drains overnight.")
    # The rule put the post with many links in the queue by itself.
    queue = client.get("/api/v1/moderation/queue", headers=auth(team)).json()
    assert [(q["kind"], q["target_id"]) for q in queue] == [("post", spam["id"])]
    assert queue[0]["reports"][0]["reason"] == "Three or more links."
    # Friends report; twice by one friend is one report; one's own post cannot be reported.
    for _ in range(2):
        response = client.post(
            f"/api/v1/feedback/{plain['id']}/report",
            json={"reason": "Looks fake"},
            headers=auth(reporter),
        )
        assert response.status_code == 201, response.text
    assert_error(
        client.post(f"/api/v1/feedback/{plain['id']}/report", json={}, headers=auth(other)),
        409,
        "conflict",
    )
    client.post(f"/api/v1/feedback/{spam['id']}/report", json={}, headers=auth(reporter))
    queue = client.get("/api/v1/moderation/queue", headers=auth(team)).json()
    assert [(q["target_id"], len(q["reports"])) for q in queue] == [
        (spam["id"], 2),
        (plain["id"], 1),
    ]
    # The same comment twice within a day joins the queue too.
    new_comment(client, auth(author), plain["id"], "Visit my shop")
    repeat = new_comment(client, auth(author), plain["id"], "Visit my shop")
    queue = client.get("/api/v1/moderation/queue", headers=auth(team)).json()
    assert ("comment", repeat) in [(q["kind"], q["target_id"]) for q in queue]
    # Decisions close every report on the item.
    review = client.post(
        f"/api/v1/moderation/queue/post/{spam['id']}",
        json={"decision": "hide", "reason": "Spam"},
        headers=auth(team),
    )
    assert review.json() == {"closed": 2}
    review = client.post(
        f"/api/v1/moderation/queue/post/{plain['id']}",
        json={"decision": "dismiss", "reason": "A real report"},
        headers=auth(team),
    )
    assert review.json() == {"closed": 1}
    assert client.get(f"/api/v1/feedback/{plain['id']}").status_code == 200
    assert_error(
        client.post(
            f"/api/v1/moderation/queue/post/{plain['id']}",
            json={"decision": "dismiss", "reason": "again"},
            headers=auth(team),
        ),
        404,
        "not_found",
    )
    with database.session() as s:
        still_open = s.scalars(select(Flag).where(Flag.resolved_at.is_(None))).all()
        assert [(f.target_kind, f.target_id) for f in still_open] == [("comment", repeat)]


def test_the_ban_email_tells_why_in_the_friends_language(
    make_user: UserFactory, database: Database
) -> None:
    friend, team = make_user(locale="zh"), make_user(Role.TEAM)
    with database.session() as s:
        actor = s.get(User, team.id)
        assert actor is not None
        moderation.ban_account(s, actor=actor, user_id=friend.id, reason="广告链接")
        [mail] = take_outbox(s)
    assert mail.to == friend.email
    assert "广告链接" in mail.body
    assert mail.subject == "canyu：你的账号已被封禁"


def test_the_console_shows_what_waits_for_the_team(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    author, reporter, team = make_user(), make_user(), make_user(Role.TEAM)
    pid = new_post(client, auth(author))["id"]
    client.post(f"/api/v1/feedback/{pid}/report", json={}, headers=auth(reporter))
    client.post(
        f"/api/v1/feedback/{pid}/conversation", json={"body": "My logs"}, headers=auth(author)
    )
    page = client.get("/console", headers=auth(team) | {"Accept": "text/html"}).text
    assert '/console/moderation">Moderation</a> <span class="count">1</span>' in page
    assert 'Conversations with friends</a> <span class="count">1</span>' in page
