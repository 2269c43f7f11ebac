"""The greetings pages through TestClient: both languages, forms with CSRF, errors, roles."""

from __future__ import annotations

import re

from conftest import PASSWORD, UserFactory
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canyu.accounts.models import Role, User
from canyu.db import Database
from canyu.greetings import calendar, service
from canyu.greetings.models import Greeting
from canyu.web.templating import LOCALE_COOKIE

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str) -> str:
    found = _CSRF.search(client.get(path, headers=HTML).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: TestClient, user: User) -> None:
    response = client.post(
        "/signin",
        data={"csrf_token": csrf(client, "/signin"), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def next_festival(country: str = "CN") -> str:
    return service.upcoming(country, today=calendar.local_today(country), days=60)[0].key


def greetings_count(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(Greeting)) or 0)


def test_signed_out_sees_festivals_in_english_and_chinese(client: TestClient) -> None:
    page = client.get("/greetings?country=CN", headers=HTML)
    assert page.status_code == 200
    assert "Festival greetings" in page.text
    festival = service.upcoming("CN", today=calendar.local_today("CN"), days=60)[0]
    assert festival.en in page.text
    assert "/signin?next=/greetings" in page.text
    client.cookies.set(LOCALE_COOKIE, "zh")
    zh = client.get("/greetings?country=CN", headers=HTML)
    assert "节日祝福" in zh.text
    assert festival.zh in zh.text
    bad = client.get("/greetings?country=XX", headers=HTML)
    assert bad.status_code == 422
    assert "Unknown country" in bad.text


def test_a_friend_writes_the_team_approves_another_votes_once(
    client: TestClient, make_user: UserFactory, database: Database
) -> None:
    author, voter, team = make_user(), make_user(), make_user(Role.TEAM)
    key = next_festival()
    sign_in(client, author)
    token = csrf(client, "/greetings")
    form = {"csrf_token": token, "country": "CN", "festival": key, "language": "en"}
    refused = client.post("/greetings/write", data={**form, "text": "<script>x</script>"})
    assert refused.status_code == 422
    assert "plain text" in refused.text
    assert "&lt;script&gt;" in refused.text  # the friend's text comes back, escaped
    assert greetings_count(database) == 0
    no_csrf = client.post("/greetings/write", data={**form, "csrf_token": "x", "text": "Hi all"})
    assert no_csrf.status_code == 403
    done = client.post("/greetings/write", data={**form, "text": "Warm wishes, {name}!"})
    assert done.status_code == 200
    assert "waits for the team" in done.text
    assert "awaiting review" in done.text
    # A friend cannot open the queue; the team can and approves.
    assert client.get("/greetings/queue", headers=HTML).status_code == 403
    client.cookies.clear()
    sign_in(client, team)
    queue = client.get("/greetings/queue", headers=HTML)
    assert "Warm wishes, {name}!" in queue.text
    with database.session() as s:
        gid = s.scalars(select(Greeting.id)).one()
    approved = client.post(
        f"/greetings/{gid}/decision",
        data={"csrf_token": csrf(client, "/greetings/queue"), "decision": "approve"},
    )
    assert approved.status_code == 200
    assert "Greeting approved." in approved.text
    client.cookies.clear()
    sign_in(client, voter)
    token = csrf(client, "/greetings")
    voted = client.post(f"/greetings/{gid}/vote", data={"csrf_token": token, "country": "CN"})
    assert voted.status_code == 200
    assert "Your vote counts." in voted.text
    again = client.post(f"/greetings/{gid}/vote", data={"csrf_token": token, "country": "CN"})
    assert again.status_code == 409
    assert "already voted" in again.text
    with database.session() as s:
        assert s.get(Greeting, gid).votes == 1  # type: ignore[union-attr]


def test_signed_out_forms_go_to_sign_in(client: TestClient) -> None:
    token = csrf(client, "/greetings")
    response = client.post(
        "/greetings/write",
        data={
            "csrf_token": token,
            "country": "CN",
            "festival": "x",
            "language": "en",
            "text": "hi",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")
    queue = client.get("/greetings/queue", headers=HTML, follow_redirects=False)
    assert queue.status_code == 303


def test_bad_decisions_and_ids_are_refused(client: TestClient, make_user: UserFactory) -> None:
    sign_in(client, make_user(Role.TEAM))
    token = csrf(client, "/greetings/queue")
    maybe = client.post("/greetings/1/decision", data={"csrf_token": token, "decision": "maybe"})
    assert maybe.status_code == 422
    missing = client.post(
        "/greetings/1/decision", data={"csrf_token": token, "decision": "approve"}
    )
    assert missing.status_code == 404
    huge = client.post("/greetings/99999999999/vote", data={"csrf_token": token, "country": "CN"})
    assert huge.status_code == 422
