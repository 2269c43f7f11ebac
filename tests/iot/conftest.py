"""IoT fixtures: the app with the IoT settings of a test, products (a small device and a phone),
and a Mosquitto broker of the test's own (canyu.lab.mosquitto) on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import require_service
from fastapi import FastAPI
from fastapi.testclient import TestClient
from releases.fixtures import (  # noqa: F401  (fixtures)
    api,
    key_dirs,
    release_app,
    release_settings,
    runtime,
)

from canyu.accounts.models import Role, User
from canyu.db import Database
from canyu.iot.runtime import configure
from canyu.iot.settings import IotSettings
from canyu.lab import mosquitto
from canyu.releases import service as releases

SERVER_PASSWORD = "server-secret-for-tests"
IOT_PRODUCT = "air-1"
PHONE_PRODUCT = "canyu-1s"
Headers = dict[str, str]
Auth = Callable[[User], Headers]


@pytest.fixture
def broker() -> Iterator[mosquitto.Mosquitto]:
    require_service(mosquitto.available(), f"mosquitto at {mosquitto.MOSQUITTO}")
    with mosquitto.Mosquitto() as running:
        yield running


def settings_for(running: mosquitto.Mosquitto | None, **changes: Any) -> IotSettings:
    if running is None:
        return IotSettings(broker_url="mqtt://127.0.0.1:1883", **changes)
    return IotSettings(
        broker_url=running.url(),
        server_url=running.url("canyu-server", SERVER_PASSWORD),
        password_file=running.files.password_file,
        acl_file=running.files.acl_file,
        pid_file=running.files.pid_file,
        **changes,
    )


@pytest.fixture
def products(database: Database) -> None:
    with database.session() as session:
        releases.create_product(
            session, actor=None, key=IOT_PRODUCT, name="Air purifier 1", kind="iot"
        )
        releases.create_product(session, actor=None, key=PHONE_PRODUCT, name="canyu 1S")
        session.commit()


@pytest.fixture
def iot_api(release_app: FastAPI, products: None) -> Iterator[TestClient]:  # noqa: F811
    """The API with pairing on (a broker address) but no broker files managed."""
    configure(release_app, settings_for(None))
    with TestClient(release_app) as client:
        yield client


def new_code(client: TestClient, headers: Headers) -> str:
    response = client.post("/api/v1/iot/pairing-codes", headers=headers)
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


def pair(
    client: TestClient, code: str, hardware_id: str = "SN-1", product: str = IOT_PRODUCT
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/iot/pair",
        json={"code": code, "product": product, "hardware_id": hardware_id, "version": "1.0.0"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def team_of(make_user: Callable[..., User]) -> User:
    return make_user(Role.TEAM)
