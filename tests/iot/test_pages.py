"""The IoT pages through TestClient: who sees the fleet and a device's page, the owner's
pairing code, commands and unpairing from the pages, and the profile's devices."""

from __future__ import annotations

from conftest import UserFactory
from fastapi.testclient import TestClient
from portal.test_pages import HTML, csrf_from, sign_in

from canyu.accounts.models import Role
from canyu.db import Database

from .conftest import Auth
from .seed import seed


def test_pages_by_role(iot_api: TestClient, make_user: UserFactory, database: Database) -> None:
    """Signed out, the owner, another friend, team, admin, and a device's token."""
    owner = make_user()
    world = seed(database, owner)
    device_page = f"/fleet/devices/{world.purifier}"
    # Signed out: sent to sign in.
    for path in ("/fleet", device_page):
        r = iot_api.get(path, headers=HTML, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/signin?next=")
    # The owner: their device's page and their profile's devices; no fleet.
    sign_in(iot_api, owner)
    assert iot_api.get("/fleet", headers=HTML).status_code == 403
    page = iot_api.get(device_page, headers=HTML)
    assert page.status_code == 200
    assert "Air purifier 1" in page.text
    assert "pm25" in page.text
    assert "Set mode" in page.text
    profile = iot_api.get("/profile", headers=HTML).text
    assert "Your devices" in profile
    assert "Air purifier 1" in profile
    assert "canyu 1S" in profile
    r = iot_api.post(
        f"/iot/devices/{world.purifier}/command",
        data={"csrf_token": csrf_from(page), "action": "power", "value": "off"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"{device_page}?done=command"
    r = iot_api.post(
        f"/iot/devices/{world.purifier}/command",
        data={"csrf_token": csrf_from(page), "action": "mode", "value": "turbo"},
        follow_redirects=False,
    )
    assert "error=" in r.headers["location"]
    code = iot_api.post("/iot/pairing-code", data={"csrf_token": csrf_from(page)})
    assert code.status_code == 201
    assert "pairing-code" in code.text
    # Another friend: not theirs to see or command.
    iot_api.cookies.clear()
    sign_in(iot_api, make_user())
    assert iot_api.get(device_page, headers=HTML).status_code == 404
    page = iot_api.get("/profile", headers=HTML)
    r = iot_api.post(
        f"/iot/devices/{world.purifier}/command",
        data={"csrf_token": csrf_from(page), "action": "power", "value": "on"},
        headers=HTML,
    )
    assert r.status_code == 404
    # The team and admins: the fleet and any device's page, with no command form.
    for role in (Role.TEAM, Role.ADMIN):
        iot_api.cookies.clear()
        sign_in(iot_api, make_user(role))
        fleet = iot_api.get("/fleet?kind=iot", headers=HTML)
        assert fleet.status_code == 200
        assert "4 devices" in fleet.text
        assert iot_api.get("/fleet?country=ES", headers=HTML).text.count("/fleet/devices/") == 1
        page = iot_api.get(device_page, headers=HTML)
        assert page.status_code == 200
        assert "Set mode" not in page.text
    assert iot_api.get("/fleet?seen=soon", headers=HTML).status_code == 422
    # A device's token is no one's sign-in.
    iot_api.cookies.clear()
    phone = iot_api.post(
        "/api/v1/devices", json={"product": "canyu-1s", "hardware_id": "P-7", "country": "CN"}
    ).json()
    r = iot_api.get("/fleet", headers={**HTML, "Authorization": f"Bearer {phone['token']}"})
    assert r.status_code == 401


def test_the_owner_unpairs_from_the_page(
    iot_api: TestClient, make_user: UserFactory, database: Database, auth: Auth
) -> None:
    owner = make_user()
    world = seed(database, owner)
    sign_in(iot_api, owner)
    page = iot_api.get(f"/fleet/devices/{world.purifier}", headers=HTML)
    r = iot_api.post(
        f"/iot/devices/{world.purifier}/unpair",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/profile"
    mine = iot_api.get("/api/v1/iot/devices", headers=auth(owner)).json()
    assert [d["id"] for d in mine] == [world.phone]
