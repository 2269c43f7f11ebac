"""A small device with no screen (an air purifier, a smart plug) on the command line.

It pairs once over HTTP with the one-time code its owner got on the phone or the profile, and
from then on speaks MQTT only, with its own broker account: it publishes its telemetry (state,
mode, build, a few readings) and check-ins, and follows its owner's commands and the update
offers that come on its commands topic. An offered build is fetched and verified through TUF
(canyu.client.tuf_fetch) before it is "installed", like the phone does.

Its state (broker account, topics, power and mode, build) is a small JSON file, like flash.
"""

from __future__ import annotations

import json
import queue
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from canyu.client.device import TIMEOUT, DeviceError, HttpxFetcher, Offer, _error
from canyu.client.tuf_fetch import RepositoryUnavailable, UpdateRefused, fetch_verified_target
from canyu.devices.topics import parse_mqtt_url
from canyu.iot import topics

Readings = Callable[[], dict[str, float]]


@dataclass
class IotState:
    server: str
    product: str
    hardware_id: str
    version: str
    device_id: int
    broker: str
    username: str
    password: str
    telemetry_topic: str
    checkin_topic: str
    commands_topic: str
    metadata_url: str
    targets_url: str
    power: str = "off"
    mode: str = "auto"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.chmod(0o600)  # it holds the broker password
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> IotState:
        return cls(**json.loads(path.read_text()))


@dataclass(frozen=True)
class Event:
    """What happened while running: a command followed, an update, a refusal."""

    kind: str
    detail: str


class IotDevice:
    """One small device; ``home`` holds its state file, trusted root and TUF cache."""

    def __init__(self, home: Path, *, client: httpx.Client | None = None) -> None:
        self.home = home
        self.state_path = home / "iot.json"
        self.root_path = home / "root.json"
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self.state: IotState | None = (
            IotState.load(self.state_path) if self.state_path.exists() else None
        )

    def _require(self) -> IotState:
        if self.state is None:
            raise DeviceError(0, f"not paired: no {self.state_path}")
        return self.state

    def _http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise DeviceError(0, f"cannot reach {url}: {exc}", temporary=True) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def pair(
        self,
        *,
        server: str,
        code: str,
        product: str,
        hardware_id: str,
        version: str = "1.0.0",
        model: str | None = None,
    ) -> IotState:
        """Pair with the owner's one-time code: the only HTTP the device speaks, besides
        fetching verified updates."""
        server = server.rstrip("/")
        body = {
            "code": code,
            "product": product,
            "hardware_id": hardware_id,
            "version": version,
            "model": model,
        }
        data = self._http("POST", f"{server}/api/v1/iot/pair", json=body).json()
        mqtt_ = data["mqtt"]
        self.state = IotState(
            server=server,
            product=product,
            hardware_id=hardware_id,
            version=version,
            device_id=int(data["device_id"]),
            broker=mqtt_["url"],
            username=mqtt_["username"],
            password=mqtt_["password"],
            telemetry_topic=mqtt_["telemetry"],
            checkin_topic=mqtt_["checkin"],
            commands_topic=mqtt_["commands"],
            metadata_url=data["tuf"]["metadata_url"],
            targets_url=data["tuf"]["targets_url"],
        )
        self.home.mkdir(parents=True, exist_ok=True)
        root = self._http("GET", f"{server}/api/v1/products/{product}/root.json").content
        self.root_path.write_bytes(root)  # trust on first use, as the phone does
        self.state.save(self.state_path)
        return self.state

    def telemetry(self, readings: dict[str, float]) -> topics.Telemetry:
        state = self._require()
        return topics.Telemetry(
            state=state.power,
            mode=state.mode,
            version=state.version,
            readings=readings,
            sent_ms=int(time.time() * 1000),
        )

    def connect(self) -> mqtt.Client:
        """A connected MQTT client with the device's own account (its network thread runs)."""
        state = self._require()
        host, port = parse_mqtt_url(state.broker)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"canyu-iot-{state.device_id}")
        client.username_pw_set(state.username, state.password)
        connected: queue.Queue[str] = queue.Queue()
        client.on_connect = lambda _c, _u, _f, reason, _p: connected.put(str(reason))
        try:
            client.connect(host, port, keepalive=30)
        except OSError as exc:
            raise DeviceError(
                0, f"cannot reach the broker {state.broker}: {exc}", temporary=True
            ) from exc
        client.loop_start()
        try:
            reason = connected.get(timeout=10)
        except queue.Empty:
            reason = "no answer"
        if reason != "Success":
            client.loop_stop()
            raise DeviceError(0, f"the broker refused this device: {reason}")
        return client

    def send(self, readings: dict[str, float]) -> None:
        """Publish one telemetry message (QoS 1) and disconnect."""
        client = self.connect()
        try:
            sent = client.publish(
                self._require().telemetry_topic, self.telemetry(readings).payload(), qos=1
            )
            sent.wait_for_publish(timeout=10)
        finally:
            client.disconnect()
            client.loop_stop()

    # --- running -------------------------------------------------------------------------------

    def handle(self, payload: bytes) -> Event | None:
        """Follow a message on the commands topic: a command from the owner, an answer to a
        check-in (an offer, or none), or the product's "check in now"."""
        state = self._require()
        try:
            body = json.loads(payload)
        except ValueError:
            return Event("refused", "a message that is not JSON")
        if not isinstance(body, dict):
            return Event("refused", "a message that is not a JSON object")
        if body.get("type") == "command":
            action, value = body.get("action"), body.get("value")
            if action not in topics.ACTIONS or value not in topics.ACTIONS[str(action)]:
                return Event("refused", f"unknown command {action}={value}")
            if action == "power":
                state.power = str(value)
            else:
                state.mode = str(value)
            state.save(self.state_path)
            return Event("command", f"{action}={value}")
        if body.get("check_in") is True:
            return Event("check_in", "asked by the product's announcement")
        if "offer" in body:
            offer = body["offer"]
            return self.install(Offer.from_json(offer)) if offer else None
        return Event("refused", "an unknown message")

    def install(self, offer: Offer) -> Event:
        """Fetch the offered build, verified by TUF, and run it."""
        state = self._require()
        try:
            path = fetch_verified_target(
                state.metadata_url,
                state.targets_url,
                offer.target,
                trusted_root=self.root_path,
                cache_dir=self.home / "tuf",
                fetcher=HttpxFetcher(self.client),
            )
        except UpdateRefused as refused:
            return Event("refused", f"{offer.target}: {refused.reason}")
        except RepositoryUnavailable as exc:
            return Event("waiting", str(exc))
        slot = self.home / "firmware"
        slot.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, slot / Path(offer.target).name)
        state.version = offer.version
        state.save(self.state_path)
        return Event("updated", offer.version)

    def run(
        self,
        *,
        readings: Readings,
        stop: Callable[[], bool],
        every: float = 60.0,
        on_event: Callable[[Event], None] = lambda _e: None,
    ) -> None:
        """Check in, then publish telemetry every ``every`` seconds and at once after anything
        changed; follow commands and offers; check in again when the product asks."""
        state = self._require()
        inbox: queue.Queue[bytes] = queue.Queue()
        client = self.connect()

        def subscribe(c: mqtt.Client, *_a: object) -> None:
            c.subscribe(state.commands_topic, 1)

        client.on_connect = subscribe
        client.on_message = lambda _c, _u, m: inbox.put(bytes(m.payload))
        subscribe(client)

        def publish_state() -> None:
            client.publish(state.telemetry_topic, self.telemetry(readings()).payload(), qos=1)

        def check_in() -> None:
            body = json.dumps({"version": state.version}).encode()
            client.publish(state.checkin_topic, body, qos=1)

        try:
            check_in()
            publish_state()
            due = time.monotonic() + every
            while not stop():
                try:
                    payload = inbox.get(timeout=min(1.0, max(0.0, due - time.monotonic())))
                except queue.Empty:
                    if time.monotonic() >= due:
                        publish_state()
                        due = time.monotonic() + every
                    continue
                event = self.handle(payload)
                if event is None:
                    continue
                if event.kind == "check_in":
                    check_in()
                    continue
                on_event(event)
                if event.kind in ("command", "updated"):
                    publish_state()
                if event.kind == "updated":
                    check_in()
        finally:
            client.disconnect()
            client.loop_stop()
