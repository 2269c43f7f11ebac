"""Greetings through the HTTP API: festivals, writing, voting once, the team's queue, roles."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import UserFactory, assert_error
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canyu.accounts.models import Role, User
from canyu.db import Database
from canyu.greetings.models import Greeting, GreetingVote

Auth = Callable[[User], dict[str, str]]


def write(
    client: TestClient, headers: dict[str, str], text: str = "新春快乐，{name}！", **extra: str
) -> dict[str, object]:
    body = {"festival": "spring_festival", "language": "zh", "text": text, **extra}
    response = client.post("/api/v1/greetings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def approve(client: TestClient, team: dict[str, str], greeting_id: object) -> None:
    response = client.post(
        f"/api/v1/greetings/{greeting_id}/decision", json={"approve": True}, headers=team
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"


def count(database: Database, model: type[Greeting] | type[GreetingVote]) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_festivals_in_the_issue_shape(client: TestClient) -> None:
    response = client.get("/api/v1/greetings/festivals", params={"country": "CN", "year": 2027})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"country", "year", "festivals"}
    assert body["country"] == "CN"
    assert body["year"] == 2027
    spring = next(f for f in body["festivals"] if f["key"] == "spring_festival")
    assert spring == {
        "date": "2027-02-06",
        "key": "spring_festival",
        "names": {"en": "Spring Festival", "zh": "春节"},
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"country": "XX", "year": 2027}, "country"),
        ({"country": "China", "year": 2027}, "country"),
        ({"country": "CN", "year": 1900}, "year"),
        ({"country": "CN", "year": 2101}, "year"),
        ({"country": "CN", "year": "soon"}, None),
        ({"country": "CN"}, None),
    ],
)
def test_bad_festival_queries_get_a_clear_4xx(
    client: TestClient, params: dict[str, str | int], field: str | None
) -> None:
    response = client.get("/api/v1/greetings/festivals", params=params)
    error = assert_error(response, 422, "invalid_input")
    if field:
        assert error["details"]["field"] == field


def test_write_approve_vote_once_and_the_top_ship(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    author, voter = make_user(), make_user()
    team = auth(make_user(Role.TEAM))
    greeting = write(client, auth(author))
    assert greeting["status"] == "pending"
    assert greeting["votes"] == 0
    # Pending: the author and the team see it, nobody else does.
    assert client.get(f"/api/v1/greetings/{greeting['id']}").status_code == 404
    assert (
        client.get(f"/api/v1/greetings/{greeting['id']}", headers=auth(author)).status_code == 200
    )
    assert [g["id"] for g in client.get("/api/v1/greetings/queue", headers=team).json()] == [
        greeting["id"]
    ]
    # No votes before approval (other friends do not even see it yet).
    assert_error(
        client.post(f"/api/v1/greetings/{greeting['id']}/vote", headers=auth(voter)),
        404,
        "not_found",
    )
    approve(client, team, greeting["id"])
    assert client.get("/api/v1/greetings/queue", headers=team).json() == []
    # Deciding again is refused.
    assert_error(
        client.post(
            f"/api/v1/greetings/{greeting['id']}/decision", json={"approve": False}, headers=team
        ),
        409,
        "conflict",
    )
    voted = client.post(f"/api/v1/greetings/{greeting['id']}/vote", headers=auth(voter))
    assert voted.status_code == 201
    assert voted.json()["votes"] == 1
    # A second vote: a clear 409, and the count stays.
    again = client.post(f"/api/v1/greetings/{greeting['id']}/vote", headers=auth(voter))
    assert "already voted" in assert_error(again, 409, "conflict")["message"]
    own = client.post(f"/api/v1/greetings/{greeting['id']}/vote", headers=auth(author))
    assert_error(own, 409, "conflict")
    assert count(database, GreetingVote) == 1
    listed = client.get(
        "/api/v1/greetings", params={"festival": "spring_festival", "language": "zh"}
    ).json()
    assert [(g["id"], g["votes"]) for g in listed] == [(greeting["id"], 1)]
    roll = client.get("/api/v1/greetings/honour-roll").json()
    assert roll[0]["user_id"] == author.id
    assert roll[0]["shipped"] == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"text": "x" * 141}, "characters"),
        ({"text": " "}, "characters"),
        ({"text": "<b>Happy</b> new year"}, "markup"),
        ({"text": "Happy new year [here](http://spam.example)"}, "markup"),
        ({"text": "see https://spam.example"}, "markup"),
        ({"text": "**Happy** new year"}, "markup"),
        ({"text": "Happy {year}"}, "markup"),
        ({"text": "Happy\u0000year"}, "control"),
        ({"text": "Happy\u202eyear"}, "control"),  # right-to-left override
        ({"text": "a\nb\nc\nd"}, "lines"),
        ({"festival": "no_such_festival"}, "Unknown festival"),
        ({"festival": "../x"}, "Unknown festival"),
        ({"language": "klingon"}, "Unknown language"),
        ({"language": "xx"}, "Unknown language"),
    ],
)
def test_bad_greetings_are_refused_and_nothing_is_written(
    client: TestClient,
    make_user: UserFactory,
    auth: Auth,
    database: Database,
    body: dict[str, str],
    reason: str,
) -> None:
    full = {"festival": "spring_festival", "language": "en", "text": "Happy new year!", **body}
    response = client.post("/api/v1/greetings", json=full, headers=auth(make_user()))
    assert reason in assert_error(response, 422, "invalid_input")["message"]
    assert count(database, Greeting) == 0


def test_same_greeting_twice_is_a_conflict(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    write(client, auth(make_user()), "Happy new year, {name}!", language="en")
    response = client.post(
        "/api/v1/greetings",
        json={"festival": "spring_festival", "language": "en", "text": "Happy new year, {name}!"},
        headers=auth(make_user()),
    )
    assert_error(response, 409, "conflict")
    assert count(database, Greeting) == 1


def test_writing_is_rate_limited_like_posts(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    me = auth(make_user())
    for n in range(5):
        write(client, me, f"Happy new year number {n}", language="en")
    response = client.post(
        "/api/v1/greetings",
        json={"festival": "spring_festival", "language": "en", "text": "one too many"},
        headers=me,
    )
    assert_error(response, 429, "rate_limited")
    assert count(database, Greeting) == 5


def test_roles(client: TestClient, make_user: UserFactory, auth: Auth) -> None:
    """Signed out, a friend, another friend, team, admin on every route."""
    friend, other = make_user(), make_user()
    team, admin = make_user(Role.TEAM), make_user(Role.ADMIN)
    greeting = write(client, auth(friend))
    gid = greeting["id"]
    body = {"festival": "spring_festival", "language": "zh", "text": "新年好"}
    # Signed out: read the public parts only.
    assert client.get("/api/v1/greetings").status_code == 200
    assert client.get("/api/v1/greetings/honour-roll").status_code == 200
    assert_error(client.post("/api/v1/greetings", json=body), 401, "unauthorized")
    assert_error(client.post(f"/api/v1/greetings/{gid}/vote"), 401, "unauthorized")
    assert_error(client.get("/api/v1/greetings/queue"), 401, "unauthorized")
    assert_error(
        client.post(f"/api/v1/greetings/{gid}/decision", json={"approve": True}),
        401,
        "unauthorized",
    )
    assert_error(client.post("/api/v1/greetings/packs/CN/zh"), 401, "unauthorized")
    # Friends: no queue, no decisions, no packs; another friend cannot see a pending greeting.
    for user in (friend, other):
        assert_error(client.get("/api/v1/greetings/queue", headers=auth(user)), 403, "forbidden")
        assert_error(
            client.post(
                f"/api/v1/greetings/{gid}/decision", json={"approve": True}, headers=auth(user)
            ),
            403,
            "forbidden",
        )
        assert_error(
            client.post("/api/v1/greetings/packs/CN/zh", headers=auth(user)), 403, "forbidden"
        )
    assert_error(client.get(f"/api/v1/greetings/{gid}", headers=auth(other)), 404, "not_found")
    # Team and admin: the queue, decisions, packs.
    for user in (team, admin):
        assert client.get("/api/v1/greetings/queue", headers=auth(user)).status_code == 200
        assert client.get(f"/api/v1/greetings/{gid}", headers=auth(user)).status_code == 200
    approve(client, auth(admin), gid)
    built = client.post("/api/v1/greetings/packs/CN/zh", headers=auth(team))
    assert built.status_code == 201, built.text
    assert built.json()["greetings"] == 1
    # Ids are bounded.
    assert_error(client.get("/api/v1/greetings/99999999999"), 422, "invalid_input")
    assert_error(client.get("/api/v1/greetings/99999"), 404, "not_found")
    assert_error(
        client.post("/api/v1/greetings/packs/XX/zh", headers=auth(team)), 422, "invalid_input"
    )


def test_emoji_and_hearts_are_plain_text(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    write(
        client, auth(make_user()), f"Happy new year to the whole {family}, I <3 you!", language="en"
    )
