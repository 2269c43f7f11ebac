"""A device that behaves like a phone: it registers, checks in, downloads the offered update only
once TUF (python-tuf's ngclient, through canyu.client.tuf_fetch) has verified it, "installs" it,
and reports the result. It talks plain HTTP to the canyu API, so it works against any server.

The device keeps its state in a small JSON file (token, build, trusted root) like a phone keeps
it in flash; the TUF metadata it trusts lives beside it, which is what makes rollbacks and
freezes detectable between runs.
"""

from __future__ import annotations

import json
import queue
import random
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface

from canyu.client.tuf_fetch import (
    RepositoryUnavailable,
    UpdateRefused,
    fetch_verified_target,
    temporary_status,
)
from canyu.devices import attestation

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
REPORTS_PATH = "/api/v1/devices/reports"


RETRY_SECONDS = 5.0  # the first wait after a failed cycle, when the server gave none


class DeviceError(Exception):
    """The server refused a request, or could not be reached; ``status`` (0 without an answer)
    and ``message`` say why. A ``temporary`` error may go away if the device asks again later
    (after ``retry_after`` seconds when the server said so); any other will not."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        temporary: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.temporary = temporary
        self.retry_after = retry_after


class HttpxFetcher(FetcherInterface):
    """python-tuf's downloads through an httpx client (one connection pool with the API calls)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _fetch(self, url: str) -> Iterator[bytes]:
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise DownloadHTTPError(f"GET {url}", response.status_code)
                # Read while the stream is open; ngclient enforces the lengths itself.
                chunks = list(response.iter_bytes())
        except httpx.TransportError as exc:
            raise RepositoryUnavailable(f"cannot reach {url}: {exc}") from exc
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
    # Reports the server has not acknowledged yet, sent again (same report ids, so counted
    # once) before the next check-in.
    pending_reports: list[dict[str, Any]] = field(default_factory=list)

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
    status = response.status_code
    retry_after = response.headers.get("retry-after", "")
    return DeviceError(
        status,
        message,
        temporary=temporary_status(status),
        # Seconds only: canyu sends seconds, and a date would need this device's clock.
        retry_after=float(retry_after) if retry_after.isdigit() else None,
    )


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

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        assert self.state is not None
        try:
            response = self.client.request(method, f"{self.state.server}{path}", **kwargs)
        except httpx.TransportError as exc:
            unreachable = f"cannot reach {self.state.server}: {exc}"
            raise DeviceError(0, unreachable, temporary=True) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _post(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data: dict[str, Any] = self._request("POST", path, json=body, headers=headers).json()
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
        attestation_key: Ed25519PrivateKey | None = None,
    ) -> DeviceState:
        """Register with the server. The trusted root is what the phone shipped with; without
        one, the device takes the server's current root once (trust on first use).

        Registering again proves the device is itself: it sends the token it holds, if any;
        a device provisioned with an attestation key signs the registration with it."""
        previous = self.state.token if self.state is not None else None
        self.state = DeviceState(
            server=server.rstrip("/"),
            product=product,
            hardware_id=hardware_id,
            country=country,
            channel=channel,
            version=version,
            model=model,
        )
        body: dict[str, Any] = {
            "product": product,
            "hardware_id": hardware_id,
            "country": country,
            "channel": channel,
            "model": model,
            "version": version,
        }
        if previous:
            body["device_token"] = previous
        if attestation_key is not None:
            body["attestation"] = attestation.signed_now(attestation_key, product, hardware_id)
        data = self._post("/api/v1/devices", body, token=owner_token)
        self.state.token = data["token"]
        self.state.device_id = data["device_id"]
        self.state.metadata_url = data["tuf"]["metadata_url"]
        self.state.targets_url = data["tuf"]["targets_url"]
        self.state.push_topic = data["push"]["topic"]
        self.state.broker = data["push"]["broker"]
        self.state.poll_seconds = data["poll_seconds"]
        self.home.mkdir(parents=True, exist_ok=True)
        if trusted_root is None:
            trusted_root = self._request("GET", f"/api/v1/products/{product}/root.json").content
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
    ) -> bool:
        """Report an install's result; False when it waits to be sent again (see _report)."""
        return self._report(
            {
                "report_id": report_id or uuid.uuid4().hex,
                "kind": "install",
                "version": version,
                "success": success,
                "failure_code": failure_code,
            }
        )

    def report_crashes(self, count: int, *, report_id: str | None = None) -> bool:
        """Report crashes; False when the report waits to be sent again (see _report)."""
        return self._report(
            {
                "report_id": report_id or uuid.uuid4().hex,
                "kind": "crash",
                "version": self._require().version,
                "crashes": count,
            }
        )

    def _report(self, body: dict[str, Any]) -> bool:
        """Send a report, or keep it in the state file when the server is unavailable: a rollout's
        gates count on every report, so none is dropped for an outage."""
        state = self._require()
        try:
            self._post(REPORTS_PATH, body, token=state.token)
        except DeviceError as exc:
            if not exc.temporary:
                raise
            state.pending_reports.append(body)
            state.save(self.state_path)
            return False
        return True

    def send_pending_reports(self) -> int:
        """Send the reports kept during an outage, oldest first, until the server is unavailable
        again; return how many are still waiting. A report the server refuses for good (its
        device revoked, say) is dropped: sending it again would not change the answer."""
        state = self._require()
        while state.pending_reports:
            try:
                self._post(REPORTS_PATH, state.pending_reports[0], token=state.token)
            except DeviceError as exc:
                if exc.temporary:
                    break
            state.pending_reports.pop(0)
            state.save(self.state_path)
        return len(state.pending_reports)

    # --- updating ----------------------------------------------------------------------------

    def fetch(self, offer: Offer) -> Path:
        """Refresh TUF metadata, then download the target and verify it (UpdateRefused if not;
        a temporary DeviceError if the server is unavailable: nothing to report then)."""
        state = self._require()
        if not state.metadata_url or not state.targets_url:
            raise DeviceError(0, "register again: the device does not know its TUF repository")
        try:
            return fetch_verified_target(
                state.metadata_url,
                state.targets_url,
                offer.target,
                trusted_root=self.root_path,
                cache_dir=self.home / "tuf",
                fetcher=HttpxFetcher(self.client),
            )
        except RepositoryUnavailable as exc:
            raise DeviceError(0, str(exc), temporary=True) from exc

    def _install_to_disk(self, path: Path, offer: Offer) -> None:
        slot = self.home / "system"
        slot.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, slot / Path(offer.target).name)

    def update(self) -> UpdateResult:
        """One update cycle: send the reports kept from an outage, check in; if offered, fetch
        and verify, install, report."""
        state = self._require()
        self.send_pending_reports()
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
        self,
        *,
        on_update: Callable[[UpdateResult], None],
        stop: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Run an update cycle now, then at each push on the device's MQTT topic, and every
        ``poll_seconds`` in any case (a push missed while disconnected is not lost for long).

        When the server is unavailable or cannot be reached, the cycle is tried again after the
        server's ``Retry-After`` or RETRY_SECONDS, doubling while it keeps failing (at most
        ``poll_seconds``) and spread by up to half again, so that a fleet back from an outage
        does not return all at once. An error that waiting cannot fix (a revoked token) is
        raised. ``stop`` is checked at least once a second."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from canyu.devices.topics import device_topic, parse_mqtt_url

        state = self._require()
        pushes: queue.Queue[bytes] = queue.Queue()
        client: mqtt.Client | None = None
        if state.broker and state.push_topic:
            host, port = parse_mqtt_url(state.broker)
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=f"canyu-device-{state.device_id}"
            )
            client.on_message = lambda _c, _u, message: pushes.put(bytes(message.payload))
            # The fleet's topic (updates) and the device's own (notices, canyu.client.phone).
            topics = [(state.push_topic, 1), (device_topic(state.device_id or 0), 1)]
            client.on_connect = lambda c, *_a: c.subscribe(topics)
            client.connect_async(host, port)  # the network thread connects, and reconnects
            client.loop_start()

        def pushed_within(seconds: float) -> bool:
            if client is None:
                sleep(seconds)
                return False
            try:
                pushes.get(timeout=seconds)
            except queue.Empty:
                return False
            return True

        failures = 0
        try:
            while not stop():
                wait = self._cycle(on_update, failures)
                failures = failures + 1 if wait is not None else 0
                due = clock() + (wait if wait is not None else state.poll_seconds)
                while not stop() and clock() < due:
                    if pushed_within(min(1.0, due - clock())):
                        break
        finally:
            if client is not None:
                client.loop_stop()
                client.disconnect()

    def _refresh_service_packs(self) -> None:
        """The services' offline packs (festival greetings, kept a week ahead; the spam pack,
        SMS model and notices of canyu.client.phone); never fails."""
        from canyu.client import greetings, phone

        greetings.refresh_for_device(self)
        phone.refresh_for_device(self)

    def _cycle(self, on_update: Callable[[UpdateResult], None], failures: int) -> float | None:
        """One update cycle for listen(): None once it ran, or the seconds to wait before trying
        again when the server was unavailable (the ``failures``-th time in a row)."""
        state = self._require()
        try:
            on_update(self.update())
            self._refresh_service_packs()
        except DeviceError as exc:
            if not exc.temporary:
                raise
            backoff = min(float(state.poll_seconds), RETRY_SECONDS * 2.0**failures)
            wait = max(exc.retry_after or 0.0, backoff) * random.uniform(1.0, 1.5)
            on_update(
                UpdateResult(None, installed=False, reason=f"{exc}; trying again in {wait:.0f} s")
            )
            return wait
        return None
