"""The ingest's rules without a broker: a batch is one insert; a device paired after the ingest
started is learned from its first message; one unpaired meanwhile is dropped once the
revocations are read again."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import UserFactory
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canyu.db import Database
from canyu.iot.ingest import Message, TelemetryIngest
from canyu.iot.models import TelemetryRecord
from canyu.iot.settings import IotSettings

from .conftest import Auth, new_code, pair


def _message(device_id: int, n: int) -> Message:
    return Message(f"iot/d{device_id}/telemetry", b'{"state":"on","readings":{"n":%d}}' % n, n, 1)


def test_learns_new_devices_and_forgets_revoked_ones(
    iot_api: TestClient,
    make_user: UserFactory,
    auth: Auth,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = auth(make_user())
    first = pair(iot_api, new_code(iot_api, owner), "SN-1")["device_id"]
    ingest = TelemetryIngest(
        database,
        server_url="mqtt://127.0.0.1:1",
        settings=IotSettings(known_refresh_seconds=0.0),
    )
    acked: list[Any] = []
    monkeypatch.setattr(ingest.client, "ack", lambda mid, qos: acked.append(mid))
    ingest.write([_message(first, n) for n in range(1, 4)])
    second = pair(iot_api, new_code(iot_api, owner), "SN-2")["device_id"]
    ingest.write([_message(second, 4), _message(first, 5)])
    assert ingest.stats.stored == 5
    assert iot_api.delete(f"/api/v1/iot/devices/{first}", headers=owner).status_code == 204
    ingest.write([_message(first, 6), _message(second, 7)])
    assert ingest.stats.stored == 6
    assert ingest.stats.dropped == {"unknown_device": 1}
    assert acked == [1, 2, 3, 4, 5, 6, 7]  # dropped ones are acknowledged too: nothing to retry
    assert ingest.stats.batches == 3
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(TelemetryRecord)) == 6
