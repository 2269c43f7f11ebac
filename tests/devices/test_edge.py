"""The check-in fast path answers exactly like the documented route, and passes everything else
through to the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from releases.fixtures import Shop

from canyu.db import Database
from canyu.devices.edge import CheckinEdge

from .test_devices import bearer, fleet


@pytest.fixture
def edge(release_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(CheckinEdge(release_app)) as client:
        yield client


def test_the_fast_path_and_the_route_agree(
    edge: TestClient, api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = fleet(database, 40)
    shop.rollout(shop.build("2.0"), stages=(50, 100))
    for token in tokens:
        body = {"version": "1.0"}
        fast = edge.post("/api/v1/devices/checkin", json=body, headers=bearer(token))
        slow = api.post("/api/v1/devices/checkin", json=body, headers=bearer(token))
        assert fast.status_code == slow.status_code == 200
        assert fast.json() == slow.json()
    offered = [
        edge.post("/api/v1/devices/checkin", json={}, headers=bearer(t)).json() for t in tokens
    ]
    assert 5 <= sum(o["offer"] is not None for o in offered) <= 35
    for headers, words in [
        ({}, "Send the device token"),
        (bearer("nope"), "Malformed"),
        (bearer("cyd_" + "B" * 43), "Unknown device token"),
    ]:
        response = edge.post("/api/v1/devices/checkin", json={}, headers=headers)
        assert response.status_code == 401
        assert words in response.json()["error"]["message"]
    bad = edge.post("/api/v1/devices/checkin", json={"version": "v!"}, headers=bearer(tokens[0]))
    assert bad.status_code == 422
    # Everything else is the app's.
    assert edge.get("/healthz").json()["status"] == "ok"
    assert edge.get("/api/v1/products").status_code == 200


def test_the_fast_path_records_a_new_build(
    edge: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    (token,) = fleet(database, 1)
    edge.post("/api/v1/devices/checkin", json={"version": "1.5"}, headers=bearer(token))
    from canyu.devices import service as devices

    with database.session() as s:
        assert devices.fleet(s) == [("canyu-1s", "stable", "1.5", 1)]
