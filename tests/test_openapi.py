"""The OpenAPI document, the error body every route shares, and a bounded schemathesis run that
must find no server error anywhere in the API."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from conftest import UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from canyu import __version__
from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.community import service as community
from canyu.db import Database

EXAMPLES = 15
API_ROUTES = {
    ("post", "/api/v1/accounts/signup"),
    ("post", "/api/v1/accounts/tokens"),
    ("get", "/api/v1/accounts/tokens"),
    ("delete", "/api/v1/accounts/tokens/{token_id}"),
    ("get", "/api/v1/me"),
    ("patch", "/api/v1/me"),
    ("get", "/api/v1/feedback"),
    ("post", "/api/v1/feedback"),
    ("get", "/api/v1/feedback/similar"),
    ("get", "/api/v1/feedback/{post_id}"),
    ("put", "/api/v1/feedback/{post_id}/vote"),
    ("delete", "/api/v1/feedback/{post_id}/vote"),
    ("get", "/api/v1/feedback/{post_id}/comments"),
    ("post", "/api/v1/feedback/{post_id}/comments"),
    ("get", "/api/v1/feedback/{post_id}/history"),
    ("post", "/api/v1/feedback/{post_id}/status"),
    ("post", "/api/v1/feedback/bulk-status"),
    ("post", "/api/v1/feedback/{post_id}/merge"),
    ("delete", "/api/v1/feedback/{post_id}/merge"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/read"),
    ("get", "/api/v1/credits/honour-roll"),
    ("put", "/api/v1/feedback/{post_id}/follow"),
    ("delete", "/api/v1/feedback/{post_id}/follow"),
    ("get", "/api/v1/me/digest"),
    ("put", "/api/v1/me/digest"),
}


def test_the_openapi_document_lists_the_api(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "canyu"
    assert document["info"]["version"] == __version__
    listed = {
        (method, path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    assert listed >= API_ROUTES, API_ROUTES - listed
    post_in = document["components"]["schemas"]["PostIn"]
    assert post_in["properties"]["title"]["maxLength"] == community.MAX_TITLE


def test_docs_are_served_as_html(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not_found"),
        ("GET", "/no-such-page.json", 404, "not_found"),
        ("DELETE", "/api/v1/feedback", 405, "method_not_allowed"),
        ("GET", "/api/v1/feedback/not-a-number", 422, "invalid_input"),
    ],
)
def test_errors_share_one_json_body(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    response = client.request(method, path, headers={"accept": "application/json"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


# --- schemathesis -----------------------------------------------------------------------------


@pytest.fixture
def seeded_app(app: FastAPI, database: Database, make_user: UserFactory) -> FastAPI:
    """An app over a database with a team member, friends, posts, votes, comments and a merge."""
    team, friend, other = make_user(Role.TEAM), make_user(), make_user(locale="zh")
    with database.session() as s:
        actor, author, voter = (s.get(User, u.id) or u for u in (team, friend, other))
        posts = [
            community.create_post(s, author=author, kind="bug", title=t, body=b, device_model=d)
            for t, b, d in [
                ("Battery drains fast", "Lost 40% overnight.", "Canyu 1"),
                ("电池耗电太快", "手机晚上掉电很快。", "Canyu 2"),
                ("Camera crashes", "The camera closes on launch.", None),
                ("Add a dark mode", "Too bright at night.", "Canyu 1"),
            ]
        ]
        for post in posts[:3]:
            community.vote(s, user=voter, post_id=post.id)
            community.add_comment(s, author=voter, post_id=post.id, body="Same here.")
        community.change_status(s, actor=actor, post_id=posts[2].id, status="accepted")
        community.merge(s, actor=actor, source_id=posts[1].id, target_id=posts[0].id)
        accounts.create_api_token(s, user=author, name="spare")
    app.state.schemathesis_user = team
    return app


@pytest.fixture
def bearer(seeded_app: FastAPI, auth: Any) -> dict[str, str]:
    """A team member's token, so that authenticated and team-only routes are exercised too."""
    headers: dict[str, str] = auth(seeded_app.state.schemathesis_user)
    return headers


# Operations that take no input at all: there is no invalid input to generate for them.
NO_INPUT = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/accounts/tokens"),
    ("get", "/healthz"),
    ("get", "/api/v1/me/digest"),
}
FUZZED = sorted(
    [(method, path, GenerationMode.POSITIVE) for method, path in API_ROUTES | NO_INPUT]
    + [(method, path, GenerationMode.NEGATIVE) for method, path in API_ROUTES - NO_INPUT]
)


def test_every_accounts_and_feedback_route_is_fuzzed(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    listed = {
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/api/") and {"accounts", "feedback"} & set(operation.get("tags", []))
    }
    assert listed == API_ROUTES, "add new accounts and feedback routes to API_ROUTES"


@pytest.mark.parametrize(("method", "path", "mode"), FUZZED)
def test_no_server_errors(
    seeded_app: FastAPI, bearer: dict[str, str], method: str, path: str, mode: GenerationMode
) -> None:
    """Valid and invalid input alike gets an answer below 500, signed in as a team member."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", seeded_app)
    operation = schema[path][method.upper()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call(headers=bearer)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: "
            f"{response.text[:300]}\n{case.as_curl_command()}"
        )

    check()
