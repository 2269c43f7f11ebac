"""Against a real Mosquitto of the test's own: per-device accounts and ACLs rendered by canyu
(a device cannot read another's commands or publish as another), the ingest storing telemetry
in batches and dropping what no standing device sent, check-ins answered over MQTT, and an
owner's command reaching the device client."""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import paho.mqtt.client as mqtt
import pytest
from conftest import UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from canyu.client.device import DeviceError
from canyu.client.iot import IotDevice
from canyu.db import Database
from canyu.iot import broker as accounts
from canyu.iot.ingest import TelemetryIngest
from canyu.iot.models import TelemetryRecord
from canyu.iot.runtime import configure
from canyu.lab.mosquitto import Mosquitto

from .conftest import SERVER_PASSWORD, Auth, new_code, pair, settings_for

_ids = itertools.count()


class Listener:
    """An MQTT client that keeps what it receives."""

    def __init__(self, running: Mosquitto, username: str, password: str) -> None:
        self.got: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{next(_ids)}")
        self.client.username_pw_set(username, password)
        connected = threading.Event()
        self.reason = ""

        def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            self.reason = str(reason)
            connected.set()

        self.client.on_connect = on_connect
        self.client.on_message = lambda _c, _u, m: self.got.put((m.topic, bytes(m.payload)))
        self.client.connect("127.0.0.1", running.port)
        self.client.loop_start()
        connected.wait(5)

    @property
    def connected(self) -> bool:
        return self.reason == "Success"

    def subscribe(self, *topics: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_a: done.set()
        self.client.subscribe([(t, 1) for t in topics])
        assert done.wait(5)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def try_publish(self, topic: str, payload: bytes) -> None:
        """Publish where the ACL says no: mosquitto drops it (and may close the connection)."""
        info = self.client.publish(topic, payload, qos=1)
        with contextlib.suppress(RuntimeError):
            info.wait_for_publish(2)

    def received(self, wait: float = 1.0) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                out.append(self.got.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def brokered(release_app: FastAPI, products: None, broker: Mosquitto) -> Iterator[TestClient]:
    configure(release_app, settings_for(broker))
    with TestClient(release_app) as client:
        yield client


def _until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until the broker has reread its files (SIGHUP; between two of its loops)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the broker did not reload its files in time"
        time.sleep(0.1)


def _can_log_in(running: Mosquitto, username: str, password: str) -> bool:
    listener = Listener(running, username, password)
    listener.close()
    return listener.connected


def test_a_device_uses_only_its_own_topics(
    brokered: TestClient, broker: Mosquitto, make_user: UserFactory, auth: Auth
) -> None:
    owner = auth(make_user())
    one, two = (pair(brokered, new_code(brokered, owner), f"SN-{n}") for n in (1, 2))
    _until(lambda: _can_log_in(broker, two["mqtt"]["username"], two["mqtt"]["password"]))
    server = Listener(broker, "canyu-server", SERVER_PASSWORD)
    assert server.connected
    d1 = Listener(broker, one["mqtt"]["username"], one["mqtt"]["password"])
    d2 = Listener(broker, two["mqtt"]["username"], two["mqtt"]["password"])
    assert d1.connected
    assert d2.connected
    server.subscribe("iot/+/telemetry")
    d1.subscribe(one["mqtt"]["commands"], "canyu/air-1/+/+")
    # Reading another's commands, or everything: the broker grants nothing it delivers.
    d2.subscribe(one["mqtt"]["commands"], "iot/#", "#")
    d1.publish(one["mqtt"]["telemetry"], b'{"state":"on"}')
    server.publish(one["mqtt"]["commands"], b'{"type":"command"}')
    server.publish("canyu/air-1/stable/CN", b'{"check_in":true}')
    server.publish("canyu/canyu-1s/stable/CN", b'{"check_in":true}')  # another product's
    assert server.received() == [(one["mqtt"]["telemetry"], b'{"state":"on"}')]
    # Announcements reach a small device only through its commands topic (the ingest passes
    # them on: test below); nothing else of anyone's reaches it.
    assert d1.received() == [(one["mqtt"]["commands"], b'{"type":"command"}')]
    assert d2.received(0.3) == []
    # Publishing as another device, a command, or an announcement: refused by the broker.
    for topic in (two["mqtt"]["telemetry"], two["mqtt"]["commands"], "canyu/air-1/stable/CN"):
        spoof = Listener(broker, one["mqtt"]["username"], one["mqtt"]["password"])
        spoof.try_publish(topic, b'{"state":"off"}')
        spoof.close()
    assert server.received(0.5) == []
    assert d2.received(0.1) == []
    # A wrong password is refused; a device let go can no longer log in.
    assert not Listener(broker, one["mqtt"]["username"], "not-the-password").connected
    for listener in (d1, d2, server):
        listener.close()
    gone = brokered.delete(f"/api/v1/iot/devices/{one['device_id']}", headers=owner)
    assert gone.status_code == 204
    _until(lambda: not _can_log_in(broker, one["mqtt"]["username"], one["mqtt"]["password"]))
    assert _can_log_in(broker, two["mqtt"]["username"], two["mqtt"]["password"])


def test_the_ingest_stores_in_batches_and_drops_what_no_device_sent(
    brokered: TestClient,
    release_app: FastAPI,
    broker: Mosquitto,
    make_user: UserFactory,
    auth: Auth,
    database: Database,
) -> None:
    owner = auth(make_user())
    one = pair(brokered, new_code(brokered, owner))
    # A load generator's account (as the benchmark's) may write any device's telemetry: what
    # it sends for a device that does not stand must be dropped by the ingest itself.
    from canyu.iot.runtime import runtime_for

    runtime = runtime_for(release_app)
    loader = accounts.Service("loader", accounts.password_hash("l"), write=("iot/+/telemetry",))
    with database.session() as session:
        from canyu.iot import service

        passwords, acl = accounts.render(
            service.broker_accounts(session), [*runtime.services(), loader]
        )
    broker.files.write(passwords, acl)
    _until(lambda: _can_log_in(broker, "loader", "l"))
    ingest = TelemetryIngest(
        database, server_url=runtime.settings.server_url, settings=runtime.settings, keep_lags=True
    )
    ingest.start()
    try:
        device = Listener(broker, one["mqtt"]["username"], one["mqtt"]["password"])
        device.subscribe(one["mqtt"]["commands"])
        for n in range(50):
            body: dict[str, Any] = {"state": "on", "version": "1.0.0", "readings": {"pm25": n}}
            body["t"] = int(time.time() * 1000)
            device.publish(one["mqtt"]["telemetry"], json.dumps(body).encode())
        spoofer = Listener(broker, "loader", "l")
        spoofer.publish("iot/d999999/telemetry", b'{"state":"on"}')
        spoofer.publish(one["mqtt"]["telemetry"], b'{"state":"exploded"}')
        spoofer.publish(one["mqtt"]["telemetry"], b"not json")
        device.publish(one["mqtt"]["checkin"], b'{"version":"1.0.0"}')
        answers = device.received(3.0)
        # A product's "check in now" (as phones get it) reaches it through its own topic.
        server = Listener(broker, "canyu-server", SERVER_PASSWORD)
        server.publish("canyu/air-1/stable/CN", b'{"check_in":true}')
        server.publish("canyu/air-1/beta/CN", b'{"check_in":true}')  # not its channel
        passed_on = device.received(3.0)
        deadline = time.monotonic() + 10
        while ingest.stats.stored < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ingest.stop()
    assert ingest.stats.stored == 50
    assert ingest.stats.dropped == {"unknown_device": 1, "malformed": 2}
    assert ingest.stats.batches < 50  # batched, not one transaction per message
    assert len(ingest.stats.lags_ms) == 50
    assert max(ingest.stats.lags_ms) < 5000
    assert [json.loads(p) for _t, p in answers] == [{"offer": None, "poll_seconds": 3600}]
    assert passed_on == [(one["mqtt"]["commands"], b'{"check_in": true}')]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(TelemetryRecord)) == 50
    mine = brokered.get("/api/v1/iot/devices", headers=owner).json()
    assert mine[0]["telemetry"]["readings"] == {"pm25": 49.0}
    assert mine[0]["last_seen"] is not None


def test_an_owners_command_reaches_the_device_and_its_state_comes_back(
    brokered: TestClient,
    release_app: FastAPI,
    broker: Mosquitto,
    make_user: UserFactory,
    auth: Auth,
    database: Database,
    tmp_path: Path,
) -> None:
    from canyu.iot.runtime import runtime_for

    owner = auth(make_user())
    gadget = IotDevice(tmp_path / "plug", client=cast(httpx.Client, brokered))
    state = gadget.pair(
        server="http://testserver",
        code=new_code(brokered, owner),
        product="air-1",
        hardware_id="PLUG-1",
    )
    assert (tmp_path / "plug" / "iot.json").stat().st_mode & 0o077 == 0
    _until(lambda: _can_log_in(broker, state.username, state.password))
    runtime = runtime_for(release_app)
    ingest = TelemetryIngest(
        database, server_url=runtime.settings.server_url, settings=runtime.settings
    )
    ingest.start()
    events: list[str] = []
    stopping = threading.Event()
    runner = threading.Thread(
        target=gadget.run,
        kwargs={
            "readings": lambda: {"pm25": 12.0},
            "stop": stopping.is_set,
            "every": 60.0,
            "on_event": lambda e: events.append(f"{e.kind}:{e.detail}"),
        },
    )
    runner.start()
    try:
        time.sleep(0.5)
        url = f"/api/v1/iot/devices/{state.device_id}/commands"
        assert (
            brokered.post(url, json={"action": "power", "value": "on"}, headers=owner).status_code
            == 202
        )
        assert (
            brokered.post(url, json={"action": "mode", "value": "sleep"}, headers=owner).status_code
            == 202
        )
        deadline = time.monotonic() + 10
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            seen = brokered.get("/api/v1/iot/devices", headers=owner).json()[0]["telemetry"] or {}
            if (seen.get("state"), seen.get("mode")) == ("on", "sleep"):
                break
            time.sleep(0.1)
    finally:
        stopping.set()
        runner.join(10)
        ingest.stop()
    assert events == ["command:power=on", "command:mode=sleep"]
    assert (seen["state"], seen["mode"]) == ("on", "sleep")
    # Unpaired, the device cannot reach the broker any more.
    brokered.delete(f"/api/v1/iot/devices/{state.device_id}", headers=owner)
    _until(lambda: not _can_log_in(broker, state.username, state.password))
    with pytest.raises(DeviceError):
        IotDevice(tmp_path / "plug").send({"pm25": 1.0})
