"""Pairing a small device through the HTTP API (one-time codes: short-lived, single use,
rate-limited), owners' devices and commands, the fleet counts, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import UserFactory, assert_error
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from canyu.accounts.models import Role
from canyu.db import Database, utcnow
from canyu.devices.models import Device
from canyu.iot import broker
from canyu.iot.models import BrokerCredential, DeviceCommand, PairingCode

from .conftest import PHONE_PRODUCT, Auth, new_code, pair


def test_a_code_pairs_one_device_once_to_its_owner(
    iot_api: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    owner = make_user(country="IN")
    code = new_code(iot_api, auth(owner))
    assert len(code) == 9
    assert code[4] == "-"
    paired = pair(iot_api, code.lower().replace("-", " "))  # typed as a person would
    assert paired["owner_id"] == owner.id
    name = paired["mqtt"]["username"]
    assert name == f"d{paired['device_id']}"
    assert paired["mqtt"]["telemetry"] == f"iot/{name}/telemetry"
    assert paired["mqtt"]["commands"] == f"iot/{name}/commands"
    with database.session() as s:
        device = s.get(Device, paired["device_id"])
        assert device is not None
        assert device.country == "IN"
        assert device.owner_id == owner.id
        credential = s.get(BrokerCredential, device.id)
        assert credential is not None
        # Only mosquitto's hash is kept, and it is the hash of the password the device got.
        assert paired["mqtt"]["password"] not in credential.password_hash
        salt = credential.password_hash.split("$")[3]
        import base64

        again = broker.password_hash(paired["mqtt"]["password"], salt=base64.b64decode(salt))
        assert again == credential.password_hash
    # Used once: the same code again, or a wrong one, is refused alike.
    for tried in (code, "AAAA-AAAA"):
        r = iot_api.post(
            "/api/v1/iot/pair",
            json={"code": tried, "product": "air-1", "hardware_id": "SN-2"},
        )
        assert_error(r, 401, "unauthorized")


def test_an_expired_code_is_refused(
    iot_api: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    code = new_code(iot_api, auth(make_user()))
    with database.engine.begin() as c:
        c.execute(update(PairingCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = iot_api.post(
        "/api/v1/iot/pair", json={"code": code, "product": "air-1", "hardware_id": "SN-1"}
    )
    assert_error(r, 401, "unauthorized")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"code": "12", "product": "air-1", "hardware_id": "x"}, 422, "code"),
        ({"code": "IIII-0000", "product": "air-1", "hardware_id": "x"}, 422, "code"),
        ({"code": "ABCD-EFGH", "product": "air-1"}, 422, None),
        ({"code": "ABCD-EFGH", "product": "air-1", "hardware_id": "x" * 300}, 422, None),
    ],
)
def test_bad_pairing_requests_get_a_clear_4xx(
    iot_api: TestClient, body: dict[str, str], status: int, field: str | None
) -> None:
    error = assert_error(iot_api.post("/api/v1/iot/pair", json=body), status, "invalid_input")
    if field:
        assert error["details"]["field"] == field


def test_a_phone_product_cannot_pair_and_the_code_stays_unused(
    iot_api: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    code = new_code(iot_api, auth(make_user()))
    r = iot_api.post(
        "/api/v1/iot/pair", json={"code": code, "product": PHONE_PRODUCT, "hardware_id": "x"}
    )
    assert_error(r, 422, "invalid_input")
    assert pair(iot_api, code)["device_id"]  # nothing was half-written


def test_codes_and_tries_are_rate_limited(
    iot_api: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    headers = auth(make_user())
    for _ in range(5):
        new_code(iot_api, headers)
    assert_error(iot_api.post("/api/v1/iot/pairing-codes", headers=headers), 429, "rate_limited")
    for _ in range(10):
        r = iot_api.post(
            "/api/v1/iot/pair", json={"code": "ZZZZ-ZZZZ", "product": "air-1", "hardware_id": "x"}
        )
        assert r.status_code == 401
    r = iot_api.post(
        "/api/v1/iot/pair", json={"code": "ZZZZ-ZZZZ", "product": "air-1", "hardware_id": "x"}
    )
    assert_error(r, 429, "rate_limited")


def test_the_owners_phone_asks_for_a_code_in_its_country(
    iot_api: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    owner = make_user(country="CN")
    phone = iot_api.post(
        "/api/v1/devices",
        json={"product": PHONE_PRODUCT, "hardware_id": "P-1", "country": "ES", "version": "1.0"},
        headers=auth(owner),
    ).json()
    r = iot_api.post(
        "/api/v1/iot/pairing-codes", headers={"Authorization": f"Bearer {phone['token']}"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["country"] == "ES"
    assert pair(iot_api, r.json()["code"])["owner_id"] == owner.id
    # A phone nobody owns has nobody to pair for.
    stray = iot_api.post(
        "/api/v1/devices", json={"product": PHONE_PRODUCT, "hardware_id": "P-2", "country": "CN"}
    ).json()
    r = iot_api.post(
        "/api/v1/iot/pairing-codes", headers={"Authorization": f"Bearer {stray['token']}"}
    )
    assert_error(r, 422, "invalid_input")


def test_owner_sees_devices_and_sends_commands(
    iot_api: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    owner = make_user()
    headers = auth(owner)
    device_id = pair(iot_api, new_code(iot_api, headers))["device_id"]
    iot_api.post(
        "/api/v1/devices",
        json={"product": PHONE_PRODUCT, "hardware_id": "P-1", "country": "CN"},
        headers=headers,
    )
    mine = iot_api.get("/api/v1/iot/devices", headers=headers).json()
    assert sorted(d["kind"] for d in mine) == ["iot", "phone"]
    url = f"/api/v1/iot/devices/{device_id}/commands"
    r = iot_api.post(url, json={"action": "power", "value": "on"}, headers=headers)
    assert r.status_code == 202, r.text
    assert (r.json()["action"], r.json()["value"]) == ("power", "on")
    for body, field in (
        ({"action": "explode", "value": "now"}, "action"),
        ({"action": "mode", "value": "turbo"}, "value"),
    ):
        error = assert_error(iot_api.post(url, json=body, headers=headers), 422, "invalid_input")
        assert error["details"]["field"] == field
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(DeviceCommand)) == 1
    # Unpaired: its token and broker account are revoked, and commands are refused.
    assert iot_api.delete(f"/api/v1/iot/devices/{device_id}", headers=headers).status_code == 204
    r = iot_api.post(url, json={"action": "power", "value": "off"}, headers=headers)
    assert_error(r, 409, "conflict")
    with database.session() as s:
        credential = s.get(BrokerCredential, device_id)
        assert credential is not None
        assert credential.revoked_at is not None


def test_roles_on_every_route(iot_api: TestClient, make_user: UserFactory, auth: Auth) -> None:
    """Signed out, a friend (the owner), another friend, team, admin and a device."""
    owner, other = make_user(), make_user()
    team, admin = make_user(Role.TEAM), make_user(Role.ADMIN)
    h_owner, h_other, h_team, h_admin = (auth(u) for u in (owner, other, team, admin))
    paired = pair(iot_api, new_code(iot_api, h_owner))
    device_id = paired["device_id"]
    phone = iot_api.post(
        "/api/v1/devices",
        json={"product": PHONE_PRODUCT, "hardware_id": "P-9", "country": "CN"},
        headers=h_other,
    ).json()
    h_device = {"Authorization": f"Bearer {phone['token']}"}
    command = f"/api/v1/iot/devices/{device_id}/commands"
    on = {"action": "power", "value": "on"}
    # Signed out: only pairing (a device with a code) is open.
    for method, path, body in (
        ("POST", "/api/v1/iot/pairing-codes", None),
        ("GET", "/api/v1/iot/devices", None),
        ("POST", command, on),
        ("DELETE", f"/api/v1/iot/devices/{device_id}", None),
        ("GET", "/api/v1/iot/fleet", None),
    ):
        assert_error(iot_api.request(method, path, json=body), 401, "unauthorized")
    # Another friend: not their device (404, whether it exists is not theirs to know), no fleet.
    assert_error(iot_api.post(command, json=on, headers=h_other), 404, "not_found")
    r = iot_api.delete(f"/api/v1/iot/devices/{device_id}", headers=h_other)
    assert_error(r, 404, "not_found")
    assert_error(iot_api.get("/api/v1/iot/fleet", headers=h_other), 403, "forbidden")
    assert [d["id"] for d in iot_api.get("/api/v1/iot/devices", headers=h_other).json()] == [
        phone["device_id"]
    ]
    # A device (a phone's token) gets a code for its owner, and is no user anywhere else.
    assert iot_api.post("/api/v1/iot/pairing-codes", headers=h_device).status_code == 201
    assert_error(iot_api.get("/api/v1/iot/devices", headers=h_device), 401, "unauthorized")
    assert_error(iot_api.post(command, json=on, headers=h_device), 401, "unauthorized")
    assert_error(iot_api.get("/api/v1/iot/fleet", headers=h_device), 401, "unauthorized")
    # The team and admins see the fleet, but do not command someone's device.
    for headers in (h_team, h_admin):
        fleet = iot_api.get("/api/v1/iot/fleet", headers=headers).json()
        assert fleet["total"] == 2
        assert {c["value"] for c in fleet["counts"]["product"]} == {"air-1", "canyu-1s"}
        assert_error(iot_api.post(command, json=on, headers=headers), 404, "not_found")
    assert iot_api.post(command, json=on, headers=h_owner).status_code == 202
    # The team may let a device go (a stolen one, say).
    r = iot_api.delete(f"/api/v1/iot/devices/{device_id}", headers=h_team)
    assert r.status_code == 204
    fleet = iot_api.get("/api/v1/iot/fleet", params={"kind": "iot"}, headers=h_admin).json()
    assert fleet["total"] == 0


def test_fleet_filters(iot_api: TestClient, make_user: UserFactory, auth: Auth) -> None:
    owner = make_user()
    for n in range(3):
        pair(iot_api, new_code(iot_api, auth(owner)), hardware_id=f"SN-{n}")
    team = auth(make_user(Role.TEAM))
    fleet = iot_api.get(
        "/api/v1/iot/fleet", params={"product": "air-1", "country": "CN"}, headers=team
    ).json()
    assert fleet["total"] == 3
    assert fleet["counts"]["version"] == [{"value": "1.0.0", "devices": 3}]
    assert (
        iot_api.get("/api/v1/iot/fleet", params={"seen": "1d"}, headers=team).json()["total"] == 0
    )  # paired, never seen yet
    r = iot_api.get("/api/v1/iot/fleet", params={"seen": "yesterday"}, headers=team)
    assert_error(r, 422, "invalid_input")
