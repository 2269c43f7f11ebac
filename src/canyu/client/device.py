"""A device that behaves like a phone: it registers, checks in, downloads the offered update only
once TUF (python-tuf's ngclient, through canyu.client.tuf_fetch) has verified it, "installs" it,
and reports the result. It talks plain HTTP to the canyu API, so it works against any server.

The device keeps its state in a small JSON file (token, build, trusted root) like a phone keeps
it in flash; the TUF metadata it trusts lives beside it, which is what makes rollbacks and
freezes detectable between runs.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface

from canyu.client.tuf_fetch import UpdateRefused, fetch_verified_target

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class DeviceError(Exception):
    """The server refused a request; ``status`` and ``message`` say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class HttpxFetcher(FetcherInterface):
    """python-tuf's downloads through an httpx client (one connection pool with the API calls)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _fetch(self, url: str) -> Iterator[bytes]:
        with self.client.stream("GET", url) as response:
            if response.status_code != 200:
                raise DownloadHTTPError(f"GET {url}", response.status_code)
            # Read while the stream is open; ngclient enforces the lengths itself.
            chunks = list(response.iter_bytes())
        return iter(chunks)


@dataclass
class DeviceState:
    server: str
    product: str
    hardware_id: str
    country: str
    channel: str
    version: str
    model: str | None = None
    token: str | None = None
    device_id: int | None = None
    metadata_url: str | None = None
    targets_url: str | None = None
    push_topic: str | None = None
    broker: str | None = None
    poll_seconds: int = 3600
    installed: dict[str, str] = field(default_factory=dict)  # version -> target name

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> DeviceState:
        return cls(**json.loads(path.read_text()))


@dataclass(frozen=True)
class Offer:
    target: str
    version: str
    length: int
    sha256: str
    rollout_id: int
    rollback: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Offer:
        return cls(
            target=str(data["target"]),
            version=str(data["version"]),
            length=int(data["length"]),
            sha256=str(data["sha256"]),
            rollout_id=int(data["rollout_id"]),
            rollback=bool(data["rollback"]),
        )


@dataclass(frozen=True)
class UpdateResult:
    offer: Offer | None
    installed: bool
    reason: str = ""


Installer = Callable[[Path, Offer], None]


def _error(response: httpx.Response) -> DeviceError:
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    return DeviceError(response.status_code, message)


class Device:
    """One phone. ``home`` holds its state file, its trusted root and its TUF cache."""

    def __init__(
        self,
        home: Path,
        *,
        client: httpx.Client | None = None,
        installer: Installer | None = None,
    ) -> None:
        self.home = home
        self.state_path = home / "device.json"
        self.root_path = home / "root.json"
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self.installer = installer or self._install_to_disk
        self.state: DeviceState | None = (
            DeviceState.load(self.state_path) if self.state_path.exists() else None
        )

    # --- talking to the server ---------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        assert self.state is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.post(f"{self.state.server}{path}", json=body, headers=headers)
        if response.status_code >= 400:
            raise _error(response)
        data: dict[str, Any] = response.json()
        return data

    def register(
        self,
        *,
        server: str,
        product: str,
        hardware_id: str,
        country: str,
        channel: str,
        version: str,
        model: str | None = None,
        owner_token: str | None = None,
        trusted_root: bytes | None = None,
    ) -> DeviceState:
        """Register with the server. The trusted root is what the phone shipped with; without
        one, the device takes the server's current root once (trust on first use)."""
        self.state = DeviceState(
            server=server.rstrip("/"),
            product=product,
            hardware_id=hardware_id,
            country=country,
            channel=channel,
            version=version,
            model=model,
        )
        data = self._post(
            "/api/v1/devices",
            {
                "product": product,
                "hardware_id": hardware_id,
                "country": country,
                "channel": channel,
                "model": model,
                "version": version,
            },
            token=owner_token,
        )
        self.state.token = data["token"]
        self.state.device_id = data["device_id"]
        self.state.metadata_url = data["tuf"]["metadata_url"]
        self.state.targets_url = data["tuf"]["targets_url"]
        self.state.push_topic = data["push"]["topic"]
        self.state.broker = data["push"]["broker"]
        self.state.poll_seconds = data["poll_seconds"]
        self.home.mkdir(parents=True, exist_ok=True)
        if trusted_root is None:
            response = self.client.get(f"{self.state.server}/api/v1/products/{product}/root.json")
            if response.status_code >= 400:
                raise _error(response)
            trusted_root = response.content
        self.root_path.write_bytes(trusted_root)
        self.state.save(self.state_path)
        return self.state

    def _require(self) -> DeviceState:
        if self.state is None or self.state.token is None:
            raise DeviceError(0, f"not registered: no {self.state_path}")
        return self.state

    def check_in(self) -> Offer | None:
        state = self._require()
        data = self._post("/api/v1/devices/checkin", {"version": state.version}, token=state.token)
        offer = data.get("offer")
        return Offer.from_json(offer) if offer else None

    def report_install(
        self,
        version: str,
        *,
        success: bool,
        failure_code: str | None = None,
        report_id: str | None = None,
    ) -> dict[str, Any]:
        state = self._require()
        body = {
            "report_id": report_id or uuid.uuid4().hex,
            "kind": "install",
            "version": version,
            "success": success,
            "failure_code": failure_code,
        }
        return self._post("/api/v1/devices/reports", body, token=state.token)

    def report_crashes(self, count: int, *, report_id: str | None = None) -> dict[str, Any]:
        state = self._require()
        body = {
            "report_id": report_id or uuid.uuid4().hex,
            "kind": "crash",
            "version": state.version,
            "crashes": count,
        }
        return self._post("/api/v1/devices/reports", body, token=state.token)

    # --- updating ----------------------------------------------------------------------------

    def fetch(self, offer: Offer) -> Path:
        """Refresh TUF metadata, then download the target and verify it (UpdateRefused if not)."""
        state = self._require()
        if not state.metadata_url or not state.targets_url:
            raise DeviceError(0, "register again: the device does not know its TUF repository")
        return fetch_verified_target(
            state.metadata_url,
            state.targets_url,
            offer.target,
            trusted_root=self.root_path,
            cache_dir=self.home / "tuf",
            fetcher=HttpxFetcher(self.client),
        )

    def _install_to_disk(self, path: Path, offer: Offer) -> None:
        slot = self.home / "system"
        slot.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, slot / Path(offer.target).name)

    def update(self) -> UpdateResult:
        """One update cycle: check in; if offered, fetch and verify, install, report."""
        state = self._require()
        offer = self.check_in()
        if offer is None:
            return UpdateResult(None, installed=False, reason="up to date")
        report_id = uuid.uuid4().hex  # the same id if this report has to be sent again
        try:
            path = self.fetch(offer)
            self.installer(path, offer)
        except UpdateRefused as refused:
            self.report_install(
                offer.version, success=False, failure_code="E_TUF_VERIFY", report_id=report_id
            )
            return UpdateResult(offer, installed=False, reason=refused.reason)
        except OSError as exc:
            self.report_install(
                offer.version, success=False, failure_code="E_INSTALL_IO", report_id=report_id
            )
            return UpdateResult(offer, installed=False, reason=str(exc))
        state.version = offer.version
        state.installed[offer.version] = offer.target
        state.save(self.state_path)
        self.report_install(offer.version, success=True, report_id=report_id)
        return UpdateResult(offer, installed=True)

    def listen(
        self, *, on_update: Callable[[UpdateResult], None], stop: Callable[[], bool]
    ) -> None:
        """Wait for pushes on the device's MQTT topic and run an update cycle on each; without a
        broker, poll every ``poll_seconds``."""
        import queue
        import time

        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from canyu.devices.push import parse_mqtt_url

        state = self._require()
        on_update(self.update())
        if not state.broker or not state.push_topic:
            while not stop():
                time.sleep(min(state.poll_seconds, 1.0) if stop() else state.poll_seconds)
                on_update(self.update())
            return
        pushes: queue.Queue[bytes] = queue.Queue()
        host, port = parse_mqtt_url(state.broker)
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"canyu-device-{state.device_id}"
        )
        client.on_message = lambda _c, _u, message: pushes.put(bytes(message.payload))
        client.on_connect = lambda c, *_a: c.subscribe(state.push_topic or "", qos=1)
        client.connect(host, port)
        client.loop_start()
        try:
            while not stop():
                try:
                    pushes.get(timeout=min(1.0, state.poll_seconds))
                except queue.Empty:
                    continue
                on_update(self.update())
        finally:
            client.loop_stop()
            client.disconnect()
