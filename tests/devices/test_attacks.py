"""Devices under attack: a known device is not taken over by its serial, factory-provisioned
devices register only signed, strangers' registrations are limited per network, and reports
from devices a rollout never offered its build do not move its gates (issue 22)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from releases.fixtures import Shop, UserMaker
from sqlalchemy import select, update
from typer.testing import CliRunner

from canyu.accounts.models import User
from canyu.client.device import Device as Phone
from canyu.client.device import DeviceError
from canyu.db import Database, utcnow
from canyu.devices import attestation, identity
from canyu.devices.models import Device, DeviceKey
from canyu.releases import health
from canyu.releases import service as releases
from canyu.releases.cli import app as release_cli

Auth = Callable[[User], dict[str, str]]
BODY = {"product": "canyu-1s", "hardware_id": "SN-42", "country": "CN", "version": "1.0"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def checkin(api: TestClient, token: str, version: str = "1.0") -> Any:
    response = api.post("/api/v1/devices/checkin", json={"version": version}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["offer"]


def report(api: TestClient, token: str, version: str, *, ok: bool) -> None:
    body = {
        "report_id": uuid.uuid4().hex,
        "kind": "install",
        "version": version,
        "success": ok,
        "failure_code": None if ok else "E_FORGED",
    }
    response = api.post("/api/v1/devices/reports", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text


# --- hijack by serial ---------------------------------------------------------------------------


def test_a_known_device_is_not_taken_over_by_its_serial(
    api: TestClient, shop: Shop, make_user: UserMaker, auth: Auth, database: Database
) -> None:
    shop.product()
    owner, stranger = make_user(), make_user()
    first = api.post("/api/v1/devices", json=BODY, headers=auth(owner))
    assert first.status_code == 201, first.text
    mine = first.json()
    # Anonymous, and signed in as someone else: refused, nothing changes.
    for headers in ({}, auth(stranger)):
        taken = api.post("/api/v1/devices", json=BODY, headers=headers)
        assert taken.status_code == 409, taken.text
        assert "already registered" in taken.json()["error"]["message"]
    # A wrong token is no proof either.
    forged = {**BODY, "device_token": identity.new_token()}
    assert api.post("/api/v1/devices", json=forged, headers=auth(stranger)).status_code == 409
    assert checkin(api, mine["token"]) is None  # the owner's token still stands
    with database.session() as s:
        device = s.scalars(select(Device)).one()
        assert device.owner_id == owner.id
    # The owner signed in re-registers a reset phone (no token kept): same device, same owner.
    reset = api.post("/api/v1/devices", json=BODY, headers=auth(owner))
    assert reset.status_code == 201, reset.text
    assert (reset.json()["device_id"], reset.json()["owner_id"]) == (mine["device_id"], owner.id)
    # The phone moves to a friend's new account: it proves itself with its current token.
    moved = api.post(
        "/api/v1/devices",
        json={**BODY, "device_token": reset.json()["token"]},
        headers=auth(stranger),
    )
    assert moved.status_code == 201, moved.text
    assert (moved.json()["device_id"], moved.json()["owner_id"]) == (mine["device_id"], stranger.id)
    stale = api.post("/api/v1/devices/checkin", json={}, headers=bearer(reset.json()["token"]))
    assert stale.status_code == 401


def test_a_device_that_gave_up_its_token_may_be_registered_anew(
    api: TestClient, shop: Shop, make_user: UserMaker, auth: Auth
) -> None:
    """DELETE /devices/me (a sale, a reset) releases the device: the next registration needs no
    proof, and the old owner goes."""
    shop.product()
    owner = make_user()
    token = api.post("/api/v1/devices", json=BODY, headers=auth(owner)).json()["token"]
    assert api.delete("/api/v1/devices/me", headers=bearer(token)).status_code == 204
    again = api.post("/api/v1/devices", json=BODY)
    assert again.status_code == 201, again.text
    assert again.json()["owner_id"] is None


# --- factory-provisioned attestation keys ---------------------------------------------------------


def test_provisioned_devices_register_only_with_a_fresh_signature(
    api: TestClient,
    shop: Shop,
    make_user: UserMaker,
    auth: Auth,
    database: Database,
    tmp_path: Path,
) -> None:
    shop.product()
    keys = {f"FACTORY-{i}": Ed25519PrivateKey.generate() for i in range(3)}
    lines = ["hardware_id,public_key"] + [
        f"{hw},{attestation.public_key_text(k.public_key())}" for hw, k in keys.items()
    ]
    factory = tmp_path / "factory.csv"
    factory.write_text("\n".join(lines) + "\n")
    run = CliRunner().invoke(
        release_cli,
        ["provision", str(factory), "--product", "canyu-1s", "--database-url", database.url],
    )
    assert run.exit_code == 0, run.output
    assert "3 key(s) enrolled" in run.output
    again = CliRunner().invoke(
        release_cli,
        ["provision", str(factory), "--product", "canyu-1s", "--database-url", database.url],
    )
    assert "0 key(s) enrolled, 3 already enrolled" in again.output
    with database.session() as s:
        assert len(s.scalars(select(DeviceKey)).all()) == 3

    body = {**BODY, "hardware_id": "FACTORY-0"}
    unsigned = api.post("/api/v1/devices", json=body)
    assert unsigned.status_code == 401  # its key is enrolled: even the first registration signs
    impostor = Ed25519PrivateKey.generate()
    wrong = api.post(
        "/api/v1/devices",
        json={**body, "attestation": attestation.signed_now(impostor, "canyu-1s", "FACTORY-0")},
    )
    assert wrong.status_code == 401
    other = attestation.signed_now(keys["FACTORY-1"], "canyu-1s", "FACTORY-1")
    assert api.post("/api/v1/devices", json={**body, "attestation": other}).status_code == 401
    hour_ago = int(utcnow().timestamp()) - 3600
    stale = {
        "signed_at": hour_ago,
        "signature": attestation.sign(keys["FACTORY-0"], "canyu-1s", "FACTORY-0", hour_ago),
    }
    assert api.post("/api/v1/devices", json={**body, "attestation": stale}).status_code == 401

    signed = attestation.signed_now(keys["FACTORY-0"], "canyu-1s", "FACTORY-0")
    owner = make_user()
    ok = api.post("/api/v1/devices", json={**body, "attestation": signed}, headers=auth(owner))
    assert ok.status_code == 201, ok.text
    replayed = api.post("/api/v1/devices", json={**body, "attestation": signed})
    assert replayed.status_code == 401  # a captured registration cannot be played again
    assert "already used" in replayed.json()["error"]["message"]

    # The device client signs with its key; registering again sends the token it holds.
    phone = Phone(tmp_path / "phone", client=cast(httpx.Client, api))
    state = phone.register(
        server="http://testserver",
        product="canyu-1s",
        hardware_id="FACTORY-2",
        country="CN",
        channel="stable",
        version="1.0",
        attestation_key=keys["FACTORY-2"],
    )
    assert state.token is not None
    with pytest.raises(DeviceError) as refused:
        Phone(tmp_path / "thief", client=cast(httpx.Client, api)).register(
            server="http://testserver",
            product="canyu-1s",
            hardware_id="FACTORY-2",
            country="CN",
            channel="stable",
            version="1.0",
        )
    assert refused.value.status == 401


def test_a_factory_file_with_a_bad_or_changed_key_is_refused_whole(
    shop: Shop, database: Database
) -> None:
    shop.product()
    good = attestation.public_key_text(Ed25519PrivateKey.generate().public_key())
    with database.session() as s, pytest.raises(Exception, match="Entry 2"):
        releases.provision(s, product_key="canyu-1s", keys=[("A", good), ("B", "not-a-key")])
    with database.session() as s:
        assert releases.provision(s, product_key="canyu-1s", keys=[("A", good)]).added == 1
        s.commit()
    other = attestation.public_key_text(Ed25519PrivateKey.generate().public_key())
    with database.session() as s, pytest.raises(Exception, match="different key"):
        releases.provision(s, product_key="canyu-1s", keys=[("A", other)])
    with database.session() as s:
        assert releases.provision(s, product_key="canyu-1s", keys=[("A", other)], replace=True)
        s.commit()
        assert s.scalars(select(DeviceKey.public_key)).one() == other


# --- per-network limits ---------------------------------------------------------------------------


def test_new_devices_are_limited_per_network(release_app: FastAPI, shop: Shop) -> None:
    shop.product()
    release_app.state.settings.device_register_rate = "5/minute"

    def register(client: TestClient, hw: str) -> int:
        return client.post("/api/v1/devices", json={**BODY, "hardware_id": hw}).status_code

    with TestClient(release_app, client=("203.0.113.7", 4000)) as one:
        assert [register(one, f"A-{i}") for i in range(6)] == [201] * 5 + [429]
    with TestClient(release_app, client=("203.0.113.200", 4000)) as same_network:
        assert register(same_network, "A-6") == 429
    with TestClient(release_app, client=("198.51.100.7", 4000)) as elsewhere:
        assert register(elsewhere, "B-0") == 201


# --- reports that steer rollouts ---------------------------------------------------------------


def _fleet(database: Database, n: int, prefix: str, owner: User | None = None) -> list[str]:
    with database.session() as s:
        return [
            releases.enrol_device(
                s,
                product_key="canyu-1s",
                hardware_id=f"{prefix}-{i}",
                country="CN",
                channel="stable",
                version="1.0",
                owner=owner,
            ).token
            for i in range(n)
        ]


def test_reports_count_only_from_devices_the_rollout_offered_the_build(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = _fleet(database, 200, "real")
    rollout = shop.rollout(
        shop.build("2.0"), stages=(10, 100), thresholds=health.Thresholds(min_successes=1000)
    )
    offered = [t for t in tokens if checkin(api, t)]
    outside = [t for t in tokens if t not in offered]
    assert offered
    assert outside
    # Checked in, but out of the cohort: its report is kept, not counted.
    report(api, outside[0], "2.0", ok=False)
    # Offered, but its last check-in was before the rollout started.
    with database.session() as s:
        s.execute(
            update(Device)
            .where(Device.token_hash == identity.token_hash(offered[0]))
            .values(last_seen_at=rollout.created_at - timedelta(hours=2))
        )
        s.commit()
    report(api, offered[0], "2.0", ok=False)
    # Offered after checking in: counted.
    report(api, offered[1], "2.0", ok=True)
    with database.session() as s:
        assert releases.report_counts(s, rollout_id=rollout.id) == (1, 0, 0)
    # Joined after the rollout started: counted only if its factory enrolled its key.
    api.app.state.settings.device_register_rate = "1000/minute"  # type: ignore[attr-defined]
    late = [(f"late-{i}", Ed25519PrivateKey.generate()) for i in range(200)]
    with database.session() as s:
        releases.provision(
            s,
            product_key="canyu-1s",
            keys=[(hw, attestation.public_key_text(k.public_key())) for hw, k in late[:100]],
        )
    newcomers = []
    for i, (hw, key) in enumerate(late):
        body: dict[str, object] = {**BODY, "hardware_id": hw}
        if i < 100:
            body["attestation"] = attestation.signed_now(key, "canyu-1s", hw)
        registered = api.post("/api/v1/devices", json=body)
        assert registered.status_code == 201, registered.text
        token = registered.json()["token"]
        if checkin(api, token):
            newcomers.append((i < 100, token))
    assert {signed for signed, _ in newcomers} == {True, False}
    for _signed, token in newcomers:
        report(api, token, "2.0", ok=True)
    with database.session() as s:
        counted = releases.report_counts(s, rollout_id=rollout.id)[0]
    assert counted == 1 + sum(1 for signed, _ in newcomers if signed)


def test_a_thousand_fake_devices_move_no_gate_and_take_no_device(
    api: TestClient, shop: Shop, database: Database, make_user: UserMaker, auth: Auth
) -> None:
    """The attack script: 1,000 fake devices registered (from many networks: the per-network
    limit stops one network after a few), each reporting failed and successful installs of the
    build in rollout; a tenth also re-register real devices' serials. The gates do not move,
    no device changes owner, and the team sees the crowd of new devices."""
    shop.product()
    friend = make_user()
    real = _fleet(database, 100, "real", owner=friend)
    gates = health.Thresholds(min_successes=5, min_sample=10, alpha=0.01)
    rollout = shop.rollout(shop.build("2.0"), stages=(5, 50, 100), thresholds=gates)
    offered = [t for t in real if checkin(api, t)]
    with database.session() as s:
        owners_before = {d: o for d, o in s.execute(select(Device.id, Device.owner_id))}
        counts_before = releases.report_counts(s, rollout_id=rollout.id)
    # From one network the limit stops the crowd at once.
    assert any(
        api.post("/api/v1/devices", json={**BODY, "hardware_id": f"one-net-{i}"}).status_code == 429
        for i in range(30)
    )
    api.app.state.limiter.reset()  # type: ignore[attr-defined]
    # Many networks: 1,000 fakes get tokens (as many networks would give them).
    fakes = _fleet(database, 1000, "fake")
    in_cohort = 0
    for i, token in enumerate(fakes):
        in_cohort += checkin(api, token) is not None  # they check in like phones, too
        report(api, token, "2.0", ok=i % 2 == 0)
    assert in_cohort > 20  # some landed in the cohort, and still moved nothing
    for i in range(0, 100, 10):  # and try to take real devices by their serials
        hijack = api.post(
            "/api/v1/devices", json={**BODY, "hardware_id": f"real-{i}"}, headers=bearer(fakes[i])
        )
        assert hijack.status_code in (401, 409), hijack.text
    shop.runtime.settle()
    decision = shop.evaluate(rollout)
    after = shop.reload(rollout)
    assert decision.action == health.Action.HOLD
    assert (after.status, after.stage_index) == ("active", 0)
    with database.session() as s:
        assert releases.report_counts(s, rollout_id=rollout.id) == counts_before
        owners_after = {d: o for d, o in s.execute(select(Device.id, Device.owner_id))}
        assert {d: owners_after[d] for d in owners_before} == owners_before
        events = releases.rollout_events(s, rollout_id=rollout.id)
    surge = [e for e in events if e.kind == "new_devices"]
    assert len(surge) == 1
    assert surge[0].signals["new"] >= 1000
    assert offered  # the real devices were offered the build and still are
    assert all(checkin(api, t) for t in offered)
