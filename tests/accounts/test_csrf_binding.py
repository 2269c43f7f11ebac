"""CSRF tokens are tied to the session (issue 22): A's session with B's token is refused."""

from __future__ import annotations

from conftest import UserFactory
from fastapi.testclient import TestClient

from canyu.accounts import service as accounts
from canyu.accounts.deps import SESSION_COOKIE
from canyu.accounts.models import User
from canyu.db import Database
from canyu.web.csrf import CSRF_COOKIE, CSRF_HEADER, issue_token

ME = "/api/v1/me"


def _session(database: Database, user: User) -> str:
    with database.session() as s:
        return accounts.start_web_session(s, user=s.get(User, user.id) or user, days=1)


def _patch(client: TestClient, session: str, token: str, name: str) -> int:
    client.cookies.set(SESSION_COOKIE, session)
    client.cookies.set(CSRF_COOKIE, token)
    response = client.patch(ME, json={"display_name": name}, headers={CSRF_HEADER: token})
    return response.status_code


def test_a_token_works_only_with_the_session_it_was_issued_for(
    client: TestClient, make_user: UserFactory, database: Database
) -> None:
    key = client.app.state.secret_key  # type: ignore[attr-defined]
    a, b = make_user(), make_user()
    a_session, b_session = _session(database, a), _session(database, b)
    b_token = issue_token(key, b_session)
    assert _patch(client, a_session, b_token, "Forged") == 403
    signed_out = issue_token(key, None)  # a token from before signing in
    assert _patch(client, a_session, signed_out, "Forged") == 403
    assert _patch(client, a_session, issue_token(key, a_session), "Mine") == 200
    assert _patch(client, b_session, b_token, "Bee") == 200


def test_pages_issue_a_new_token_when_the_session_changes(
    client: TestClient, make_user: UserFactory, database: Database
) -> None:
    client.get("/")
    before = client.cookies.get(CSRF_COOKIE)
    assert before
    client.cookies.set(SESSION_COOKIE, _session(database, make_user()))
    client.get("/")
    after = client.cookies.get(CSRF_COOKIE)
    assert after
    assert after != before
