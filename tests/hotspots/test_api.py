"""The hotspots API: bounds, roles and ownership (signed out, friend, another friend, team,
admin), claims end to end with a fake page fetcher."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import assert_error
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.accounts.models import Role, User
from canyu.db import Database
from canyu.hotspots import importers, service
from hotspots.conftest import FriendFactory

Auth = Callable[[User], dict[str, str]]


@pytest.fixture
def hotspot_id(database: Database) -> int:
    with database.session() as s:
        rows = [
            importers.Candidate("a", 40.7580, -73.9855, "Cafe Lotus", "Lotus", "open", True),
            importers.Candidate("b", 40.7590, -73.9845, "GuestWiFi", "Park", "captive", True),
        ]
        service.import_rows(s, rows=rows, source="test", licence="CC0")
        return service.near(s, lat=40.7580, lon=-73.9855, limit=1)[0][1].id


def test_near_answers_nearest_first_and_checks_bounds(client: TestClient, hotspot_id: int) -> None:
    r = client.get("/api/v1/hotspots/near", params={"lat": 40.758, "lon": -73.9855})
    assert r.status_code == 200
    found = r.json()["hotspots"]
    assert next(h["id"] for h in found) == hotspot_id
    assert len(found) == 2
    assert found[0]["distance_m"] <= found[1]["distance_m"]
    assert found[0]["success_class"] == "unknown"
    assert 0 < found[0]["freshness"] <= 0.5
    no_login = client.get(
        "/api/v1/hotspots/near", params={"lat": 40.758, "lon": -73.9855, "no_login": "true"}
    )
    assert [h["ssid"] for h in no_login.json()["hotspots"]] == ["Cafe Lotus"]
    bad: tuple[dict[str, float | str], ...] = (
        {"lat": 91, "lon": 0},
        {"lat": 0, "lon": 181},
        {"lat": "x", "lon": 0},
        {"lat": 0, "lon": 0, "radius_m": 0},
        {"lat": 0, "lon": 0, "radius_m": 60_000},
        {"lat": 0, "lon": 0, "limit": 500},
        {"lon": 0},
    )
    for params in bad:
        assert_error(client.get("/api/v1/hotspots/near", params=params), 422, "invalid_input")
    assert_error(client.get("/api/v1/hotspots/99999999999"), 422, "invalid_input")
    assert_error(client.get("/api/v1/hotspots/999999"), 404, "not_found")


def test_roles_on_every_route(
    client: TestClient,
    app: FastAPI,
    hotspot_id: int,
    friend: FriendFactory,
    auth: Auth,
) -> None:
    owner, other = friend(60), friend(60)
    team, admin = friend(60, Role.TEAM), friend(60, Role.ADMIN)
    h_owner, h_other, h_team, h_admin = (auth(u) for u in (owner, other, team, admin))
    base = f"/api/v1/hotspots/{hotspot_id}"
    # Signed out: reading is public, everything else needs an account.
    assert client.get(base).status_code == 200
    for method, path, body in (
        ("GET", f"{base}/connect", None),
        ("POST", f"{base}/confirmations", {"outcome": "worked"}),
        ("POST", f"{base}/claims", {"url": "https://lotus.example/"}),
        ("PUT", f"{base}/credentials", {"password": "12345678"}),
        ("POST", "/api/v1/hotspots/suggestions", {"lat": 1, "lon": 1, "ssid": "x"}),
        ("GET", "/api/v1/hotspots/suggestions", None),
        ("POST", f"{base}/review", {"accept": True}),
        ("POST", "/api/v1/hotspots/claims/1/verify", None),
    ):
        assert client.request(method, path, json=body).status_code == 401, path
    # Friends connect and confirm; only the team reviews.
    assert client.get(f"{base}/connect", headers=h_other).json()["artefact"]["type"] == "open"
    r = client.post(f"{base}/confirmations", json={"outcome": "worked"}, headers=h_other)
    assert r.status_code == 201
    assert r.json()["hotspot"]["confirmations"] == 1
    assert_error(
        client.post(f"{base}/confirmations", json={"outcome": "worked"}, headers=h_other),
        429,
        "rate_limited",
    )
    assert_error(
        client.post(f"{base}/confirmations", json={"outcome": "maybe"}, headers=h_team),
        422,
        "invalid_input",
    )
    s = client.post(
        "/api/v1/hotspots/suggestions",
        json={"lat": 40.77, "lon": -73.98, "ssid": "Noodle Bar", "password": "x"},
        headers=h_other,
    )
    assert s.status_code == 201
    assert s.json()["status"] == "suggested"
    sid = s.json()["id"]
    assert client.get("/api/v1/hotspots/suggestions", headers=h_other).status_code == 403
    assert [x["id"] for x in client.get("/api/v1/hotspots/suggestions", headers=h_team).json()] == [
        sid
    ]
    assert (
        client.post(
            f"/api/v1/hotspots/{sid}/review", json={"accept": True}, headers=h_other
        ).status_code
        == 403
    )
    r = client.post(f"/api/v1/hotspots/{sid}/review", json={"accept": True}, headers=h_admin)
    assert r.json()["status"] == "active"
    # Claims: the owner's page shows the code; nobody else may publish a password.
    claim = client.post(f"{base}/claims", json={"url": "https://lotus.example/"}, headers=h_owner)
    assert claim.status_code == 201
    body = claim.json()
    assert_error(
        client.post(f"{base}/claims", json={"url": "https://lotus.example/"}, headers=h_owner),
        409,
        "conflict",
    )
    assert_error(
        client.post(f"{base}/claims", json={"url": "ftp://x"}, headers=h_other),
        422,
        "invalid_input",
    )
    app.state.hotspots_fetcher = lambda url: "nothing yet"
    verify = f"/api/v1/hotspots/claims/{body['id']}/verify"
    assert_error(client.post(verify, headers=h_owner), 422, "invalid_input")
    assert (
        client.get(f"/api/v1/hotspots/claims/{body['id']}", headers=h_owner).json()["last_error"]
        == "the code is not on the page yet"
    )
    assert client.get(f"/api/v1/hotspots/claims/{body['id']}", headers=h_other).status_code == 404
    app.state.hotspots_fetcher = lambda url: f"<html>{body['code']}</html>"
    assert client.post(verify, headers=h_other).status_code == 404
    assert client.post(verify, headers=h_owner).json()["status"] == "verified"
    for headers in (h_other, h_team):
        r = client.put(f"{base}/credentials", json={"password": "guess-1234"}, headers=headers)
        assert_error(r, 403, "forbidden")
    r = client.put(f"{base}/credentials", json={"password": "lotus-2024!"}, headers=h_owner)
    assert r.status_code == 200
    assert r.json()["kind"] == "password"
    assert r.json()["owned"]
    art = client.get(f"{base}/connect", headers=h_other).json()["artefact"]
    assert art["wifi_qr"] == "WIFI:T:WPA;S:Cafe Lotus;P:lotus-2024!;;"
    assert art["android_suggestion"]["wpa2Passphrase"] == "lotus-2024!"
    # The public page of the hotspot never shows the password.
    assert "lotus-2024!" not in client.get(base).text


def test_the_near_fast_lane_answers_exactly_as_the_route(
    client: TestClient, hotspot_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lane serves anonymous, valid queries; with a cookie the route does. Same body."""
    from canyu.hotspots import api
    from canyu.hotspots.schemas import NearOut

    laned: list[object] = []
    real = api.NearReads.answer

    async def spy(self: api.NearReads, q: api.NearQuery) -> bytes:
        laned.append(q)
        return await real(self, q)

    monkeypatch.setattr(api.NearReads, "answer", spy)
    params = {"lat": 40.758, "lon": -73.9855, "radius_m": 800, "limit": 5, "min_rate": 0.1}
    lane = client.get("/api/v1/hotspots/near", params=params)
    assert len(laned) == 1
    client.cookies.set("canyu_unrelated", "1")
    routed = client.get("/api/v1/hotspots/near", params=params)
    client.cookies.clear()
    assert len(laned) == 1  # the route answered that one
    assert lane.status_code == routed.status_code == 200
    assert lane.json() == routed.json()
    # Serialised without the model, yet exactly what the model would serialise.
    assert NearOut.model_validate_json(lane.content).model_dump_json().encode() == lane.content
    assert lane.json()["hotspots"][0]["id"] == hotspot_id


def test_the_near_lanes_held_connections_see_every_later_commit(
    client: TestClient, hotspot_id: int, database: Database
) -> None:
    """The lane keeps its connections between requests, in autocommit: a hotspot listed after
    the lane's first answer shows in the next one (no snapshot is held between requests)."""
    params = {"lat": 40.758, "lon": -73.9855, "radius_m": 500}
    ids = [[h["id"] for h in client.get("/api/v1/hotspots/near", params=params).json()["hotspots"]]]
    with database.session() as s:
        row = importers.Candidate("c", 40.7581, -73.9856, "Later Cafe", "", "open", True)
        service.import_rows(s, rows=[row], source="test", licence="CC0")
    # Twice the lane's threads, so that every held connection answers once more.
    for _ in range(4):
        ids.append(
            [h["id"] for h in client.get("/api/v1/hotspots/near", params=params).json()["hotspots"]]
        )
    assert len(ids[0]) == 2
    assert hotspot_id in ids[0]
    assert all(len(later) == 3 for later in ids[1:])
