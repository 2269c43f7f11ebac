"""Small devices in `canyu device simulate`'s fleet: a Mosquitto of the simulation's own, the
server managing its files and running the ingest, and ``count`` air purifiers that pair with
their owners' codes (over HTTP), then speak MQTT only: each sends telemetry, follows the power
command its owner sends through the API, and reports its state again.

canyu.lab.fleet calls :class:`IotFleet` (its environment for the server, then :meth:`run` once
the phones are registered); everything about small devices is here.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from canyu.iot import broker, topics
from canyu.lab.mosquitto import Mosquitto

PRODUCT = "air-1s"


@dataclass
class IotOutcome:
    devices: int = 0
    paired: int = 0
    telemetry_sent: int = 0
    commands_sent: int = 0
    commands_followed: int = 0
    stored_state_on: int = 0  # devices whose stored telemetry shows the command's effect
    seconds: float = 0.0


class _Purifier:
    """One paired device on MQTT, as canyu.client.iot speaks it (its own account)."""

    def __init__(self, port: int, paired: dict[str, Any]) -> None:
        self.mqtt = paired["mqtt"]
        self.power = "off"
        self.followed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.mqtt["username"])
        self.client.username_pw_set(self.mqtt["username"], self.mqtt["password"])
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(self.mqtt["commands"], qos=1)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        body = json.loads(message.payload)
        if body.get("type") == "command" and body.get("action") == "power":
            self.power = str(body["value"])
            self.send()
            self.followed.set()

    def send(self) -> None:
        telemetry = topics.Telemetry(
            state=self.power,
            mode="auto",
            version="1.0.0",
            readings={"pm25": round(secrets.randbelow(800) / 10, 1)},
            sent_ms=int(time.time() * 1000),
        )
        self.client.publish(self.mqtt["telemetry"], telemetry.payload(), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class IotFleet:
    """``with IotFleet(n, workdir) as iot:`` a broker for the simulation's small devices."""

    def __init__(self, count: int, workdir: Path) -> None:
        self.count = count
        self.broker = Mosquitto(workdir / "mosquitto") if count else None
        self.server_password = secrets.token_urlsafe(16)

    def __enter__(self) -> IotFleet:
        if self.broker is not None:
            account = broker.server_account(broker.password_hash(self.server_password))
            self.broker.files.write(*broker.render([], [account]))
            self.broker.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.broker is not None:
            self.broker.__exit__(*exc)

    def env(self) -> dict[str, str]:
        """The server's IoT settings: this broker, its files, the ingest inside the server."""
        if self.broker is None:
            return {}
        files = self.broker.files
        return {
            "CANYU_IOT_BROKER_URL": self.broker.url(),
            "CANYU_IOT_SERVER_URL": self.broker.url(broker.SERVER_USER, self.server_password),
            "CANYU_IOT_PASSWORD_FILE": str(files.password_file),
            "CANYU_IOT_ACL_FILE": str(files.acl_file),
            "CANYU_IOT_PID_FILE": str(files.pid_file),
            "CANYU_IOT_INGEST_NAME": "simulation",
            # One lab network and a few owners pair the whole fleet.
            "CANYU_IOT_CODE_RATE": "1000000/minute",
            "CANYU_IOT_PAIR_RATE": "1000000/minute",
        }

    async def run(
        self, client: httpx.AsyncClient, team_token: str, owner_tokens: list[str]
    ) -> IotOutcome:
        outcome = IotOutcome(devices=self.count)
        if self.broker is None or not owner_tokens:
            return outcome
        started = time.perf_counter()
        made = await client.post(
            "/api/v1/products",
            json={"key": PRODUCT, "name": "Air purifier 1S", "kind": "iot"},
            headers={"Authorization": f"Bearer {team_token}"},
        )
        made.raise_for_status()
        owned: list[tuple[str, dict[str, Any]]] = []
        for i in range(self.count):
            owner = {"Authorization": f"Bearer {owner_tokens[i % len(owner_tokens)]}"}
            code = await client.post("/api/v1/iot/pairing-codes", headers=owner)
            code.raise_for_status()
            answer = await client.post(
                "/api/v1/iot/pair",
                json={
                    "code": code.json()["code"],
                    "product": PRODUCT,
                    "hardware_id": f"AIR-{i:06d}",
                    "version": "1.0.0",
                },
            )
            answer.raise_for_status()
            owned.append((owner["Authorization"], answer.json()))
        outcome.paired = len(owned)
        purifiers = await asyncio.to_thread(self._connect, [p for _o, p in owned])
        try:
            for purifier in purifiers:
                purifier.send()
            outcome.telemetry_sent = len(purifiers)
            for (authorization, paired), _purifier in zip(owned, purifiers, strict=True):
                sent = await client.post(
                    f"/api/v1/iot/devices/{paired['device_id']}/commands",
                    json={"action": "power", "value": "on"},
                    headers={"Authorization": authorization},
                )
                sent.raise_for_status()
                outcome.commands_sent += 1
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(p.followed.is_set() for p in purifiers):
                await asyncio.sleep(0.2)
            outcome.commands_followed = sum(p.followed.is_set() for p in purifiers)
            outcome.telemetry_sent += outcome.commands_followed
            outcome.stored_state_on = await self._stored_on(client, owned, deadline)
        finally:
            for purifier in purifiers:
                purifier.close()
        outcome.seconds = time.perf_counter() - started
        return outcome

    def _connect(self, paired: list[dict[str, Any]]) -> list[_Purifier]:
        """Connect every device, waiting for the broker to have reread its files."""
        assert self.broker is not None
        deadline = time.monotonic() + 30
        while True:
            probe = mqtt.Client(CallbackAPIVersion.VERSION2)
            last = paired[-1]["mqtt"]
            probe.username_pw_set(last["username"], last["password"])
            try:
                probe.connect("127.0.0.1", self.broker.port)
                probe.loop(2)
                if probe.is_connected():
                    probe.disconnect()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the broker did not take the devices' accounts in 30 s")
            time.sleep(0.2)
        return [_Purifier(self.broker.port, p) for p in paired]

    async def _stored_on(
        self, client: httpx.AsyncClient, owned: list[tuple[str, dict[str, Any]]], deadline: float
    ) -> int:
        """Devices whose last stored telemetry (what the owner sees) says they are on."""
        owners = {authorization for authorization, _p in owned}
        ids = {p["device_id"] for _a, p in owned}
        on = 0
        while time.monotonic() < deadline:
            on = 0
            for authorization in owners:
                mine = await client.get(
                    "/api/v1/iot/devices", headers={"Authorization": authorization}
                )
                mine.raise_for_status()
                on += sum(
                    1
                    for d in mine.json()
                    if d["id"] in ids and (d["telemetry"] or {}).get("state") == "on"
                )
            if on == len(ids):
                break
            await asyncio.sleep(0.5)
        return on
