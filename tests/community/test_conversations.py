"""Private conversations between a friend and the team on a post: only those two sides read
them, each is notified of the other's messages, and it is not a messenger between friends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import UserFactory, assert_error
from fastapi.testclient import TestClient

from canyu.accounts.models import Role, User

Auth = Callable[[User], dict[str, str]]


def new_post(client: TestClient, headers: dict[str, str]) -> int:
    body = {"kind": "bug", "title": "Wi-Fi drops", "body": "Every few minutes."}
    response = client.post("/api/v1/feedback", json=body, headers=headers)
    assert response.status_code == 201, response.text
    post_id: int = response.json()["id"]
    return post_id


def start(client: TestClient, headers: dict[str, str], post_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/feedback/{post_id}/conversation", json=body, headers=headers)


def texts(client: TestClient, headers: dict[str, str]) -> list[str]:
    return [n["text"] for n in client.get("/api/v1/notifications", headers=headers).json()]


def test_team_asks_the_author_and_the_author_answers(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    author, other = make_user(), make_user()
    team, admin = make_user(Role.TEAM), make_user(Role.ADMIN)
    pid = new_post(client, auth(author))
    asked = start(client, auth(team), pid, body="Which router model do you use?")
    assert asked.status_code == 201, asked.text
    thread = asked.json()
    assert thread["friend"]["id"] == author.id
    assert thread["awaiting_team"] is False
    assert texts(client, auth(author)) == [
        f"{team.display_name} of the team wrote to you privately about “Wi-Fi drops”."
    ]
    answer = client.post(
        f"/api/v1/conversations/{thread['id']}/messages",
        json={"body": "TP-Link AX3000, logs attached below:\nwlan0: deauth reason 7"},
        headers=auth(author),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["awaiting_team"] is True
    assert [m["author"]["id"] for m in answer.json()["messages"]] == [team.id, author.id]
    # The team member who asked hears the answer; everyone on the team can read the thread.
    assert texts(client, auth(team))[0] == (
        f"{author.display_name} answered privately about “Wi-Fi drops”."
    )
    for reader in (author, team, admin):
        got = client.get(f"/api/v1/conversations/{thread['id']}", headers=auth(reader))
        assert got.status_code == 200, reader.role
    # Another friend can neither read it nor write in it, nor find it in a list.
    assert_error(
        client.get(f"/api/v1/conversations/{thread['id']}", headers=auth(other)), 404, "not_found"
    )
    assert_error(
        client.post(
            f"/api/v1/conversations/{thread['id']}/messages",
            json={"body": "hi"},
            headers=auth(other),
        ),
        404,
        "not_found",
    )
    assert client.get("/api/v1/conversations", headers=auth(other)).json() == []
    listed = client.get("/api/v1/conversations", headers=auth(admin)).json()
    assert [(c["id"], c["awaiting_team"]) for c in listed] == [(thread["id"], True)]


def test_a_friend_writes_to_the_team_never_to_another_friend(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    author, friend, team = make_user(), make_user(), make_user(Role.TEAM)
    pid = new_post(client, auth(author))
    # A friend other than the author may write to the team about a post they can see.
    first = start(client, auth(friend), pid, body="Same here; my logs: ...")
    assert first.status_code == 201, first.text
    again = start(client, auth(friend), pid, body="One more detail")
    assert again.json()["id"] == first.json()["id"]  # one thread per post and friend
    assert len(again.json()["messages"]) == 2
    assert_error(
        start(client, auth(friend), pid, body="psst", friend_id=author.id), 404, "not_found"
    )
    # The team cannot open a thread with a team member, and messages have bounds.
    assert_error(start(client, auth(team), pid, body="x", friend_id=team.id), 409, "conflict")
    assert_error(start(client, auth(friend), pid, body=" "), 422, "invalid_input")
    assert_error(start(client, auth(friend), 99999, body="x"), 404, "not_found")
    assert_error(start(client, auth(friend), pid, body="x" * 5001), 422, "invalid_input")
