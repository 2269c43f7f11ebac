"""Each ASGI fast path answers like the route it stands in front of: the same body, status and
headers for the same request, and the same 503 when the database cannot be reached. The
check-in's answers on a live fleet are compared in tests/devices/test_edge.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Response, app_over, assert_error, unreachable_database_url
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.hotspots.api import NEAR_PATH
from canyu.releases.checkin import PATH as CHECKIN_PATH
from canyu.releases.edge import CheckinEdge
from canyu.store.api import PurchaseFastLane
from canyu.store.runtime import store_runtime


def without_fast_lane(app: FastAPI) -> FastAPI:
    """The same app answering purchases through its route (before its first request)."""
    lane: object = PurchaseFastLane
    app.user_middleware = [m for m in app.user_middleware if m.cls is not lane]
    return app


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[FastAPI]:
    with app_over(unreachable_database_url(tmp_path / "gone")) as app:
        yield app


def purchase(client: TestClient, sale_pass: str, sale_id: int = 7) -> Response:
    headers = {"X-Sale-Pass": sale_pass, "Idempotency-Key": uuid.uuid4().hex}
    return client.post(f"/api/v1/sales/{sale_id}/purchases", json={"quantity": 1}, headers=headers)


def test_a_forged_sale_pass_gets_the_routes_401_from_the_fast_lane(tmp_path: Path) -> None:
    with (
        app_over(f"sqlite:///{tmp_path / 'a.db'}") as fast_app,
        app_over(f"sqlite:///{tmp_path / 'b.db'}") as route_app,
    ):
        fast = purchase(TestClient(fast_app), "forged")
        route = purchase(TestClient(without_fast_lane(route_app)), "forged")
    for answer in (fast, route):
        error = assert_error(answer, 401, "unauthorized")
        assert error["message"]
        assert answer.headers["www-authenticate"] == "Bearer"
    assert fast.json() == route.json()


def test_an_unreachable_database_is_a_503_through_the_fast_lane_and_the_route(
    tmp_path: Path,
) -> None:
    answers: list[Response] = []
    for n, strip in enumerate((False, True)):
        with app_over(unreachable_database_url(tmp_path / f"gone-{n}")) as app:
            if strip:
                without_fast_lane(app)
            # A genuine pass, so that the purchase gets as far as the ledger (the database).
            sale_pass = store_runtime(app).passes.issue(sale_id=7, buyer_id=1)
            answers.append(purchase(TestClient(app), sale_pass))
    for answer in answers:
        error = assert_error(answer, 503, "unavailable")
        assert "try again" in error["message"]
        assert answer.headers["retry-after"] == "5"


def test_a_check_in_without_a_token_gets_the_routes_401_from_the_edge(
    unreachable: FastAPI,
) -> None:
    """Refused before the database is asked: the same body and the same challenge."""
    route = TestClient(unreachable).post(CHECKIN_PATH, json={})
    fast = TestClient(CheckinEdge(unreachable)).post(CHECKIN_PATH, json={})
    for answer in (route, fast):
        assert_error(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == "Bearer"
    assert fast.json() == route.json()


def test_an_oversized_check_in_is_refused_alike(unreachable: FastAPI) -> None:
    body = b'{"version": "' + b"1" * 5000 + b'"}'
    headers = {"Authorization": "Bearer cyd_" + "A" * 43, "Content-Type": "application/json"}
    route = TestClient(unreachable).post(CHECKIN_PATH, content=body, headers=headers)
    fast = TestClient(CheckinEdge(unreachable)).post(CHECKIN_PATH, content=body, headers=headers)
    for answer in (route, fast):
        assert_error(answer, 422, "invalid_input")
    assert fast.json() == route.json()


def test_the_near_lane_and_its_route_answer_an_outage_alike(unreachable: FastAPI) -> None:
    """The lane (anonymous) and the route (a request with a cookie goes to it) give the same
    503, and the lane's held connection is opened again on the next request."""
    client = TestClient(unreachable)
    params = {"lat": 40.758, "lon": -73.9855}
    answers = [client.get(NEAR_PATH, params=params) for _ in range(2)]
    client.cookies.set("canyu_unrelated", "1")
    answers.append(client.get(NEAR_PATH, params=params))
    for answer in answers:
        assert_error(answer, 503, "unavailable")
        assert answer.headers["retry-after"] == "5"
    assert answers[0].json() == answers[2].json()
