"""A fleet of simulated phones against a real canyu server, over async HTTP (httpx).

`canyu device simulate` starts a server of its own (uvicorn, in another process, on 127.0.0.1)
over a fresh database, registers the fleet through the API, then rolls out builds the way the
team would and lets the devices poll, install, crash and write feedback with the configured
rates. The health gates decide by themselves; the figures say how far each build got and how
much of the fleet it reached.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from canyu import migrate
from canyu.accounts import service as accounts
from canyu.accounts.models import ApiToken, Role, User
from canyu.db import Database, utcnow
from canyu.lab.fleet_phone import Services, phone_services
from canyu.lab.iot_fleet import IotFleet, IotOutcome
from canyu.lab.servers import Uvicorn

PRODUCT = "canyu-1s"
PRODUCT_NAME = "canyu 1S"
STAGES = (1.0, 5.0, 20.0, 50.0, 100.0)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildSpec:
    version: str
    label: str
    install_failure_rate: float = 0.005
    feedback_rate: float = 0.004  # chance an owner writes a post about the build after installing
    crash_rate: float = 0.01  # chance a device reports a crash after installing
    after: str = "halt"  # what the team does if the gates pause it: "halt" or "rollback"


DEFAULT_BUILDS = (
    BuildSpec("2.0.0", "good (baseline)"),
    BuildSpec("2.0.1", "bad: install failures", install_failure_rate=0.30),
    BuildSpec("2.0.2", "bad: feedback only", feedback_rate=0.08, after="rollback"),
    BuildSpec("2.0.3", "good"),
)


@dataclass
class FleetSpec:
    devices: int = 10_000
    countries: dict[str, float] = field(
        default_factory=lambda: {"CN": 0.4, "IN": 0.3, "ID": 0.1, "ES": 0.1, "US": 0.1}
    )
    channels: dict[str, float] = field(
        default_factory=lambda: {"stable": 0.8, "beta": 0.15, "developer": 0.05}
    )
    owned: float = 1.0  # share of devices whose owner (a friend) registered them
    concurrency: int = 4
    builds: tuple[BuildSpec, ...] = DEFAULT_BUILDS
    seed: int = 7
    max_rounds: int = 12
    # "http": every phone registers through the API; "bulk": the registry is loaded with
    # SQLAlchemy Core inserts first (the same rows), for large fleets on a busy machine.
    register: str = "http"
    # Keep polling after a rollout completes until every phone runs the build (slow for large
    # fleets); by default the simulation moves on once the gates completed it (100% offered).
    until_installed: bool = False
    stages: tuple[float, ...] = STAGES
    # Small devices (canyu.lab.iot_fleet): paired with the phones' owners, on MQTT.
    iot_devices: int = 0
    # The rollouts' health gates (canyu.releases.health.Thresholds fields).
    gates: dict[str, float] = field(
        default_factory=lambda: {
            "min_successes": 200,
            "min_sample": 30,
            "max_failure_rate": 0.05,
            "max_crash_rate": 0.10,
            "alpha": 0.001,
            "feedback_min_ratio": 2.0,
        }
    )


@dataclass
class BuildOutcome:
    spec: BuildSpec
    status: str = "?"
    percent: float = 0.0
    exposed: int = 0  # distinct devices offered the build
    installed: int = 0
    failed: int = 0
    crashes: int = 0
    feedback: int = 0
    rounds: int = 0
    checkins: int = 0
    reason: str | None = None
    rolled_back: int = 0
    seconds: float = 0.0

    def exposed_share(self, fleet: int) -> float:
        return self.exposed / fleet if fleet else 0.0


@dataclass
class Simulation:
    fleet: int
    outcomes: list[BuildOutcome]
    register_seconds: float
    checkin_rps: float
    database_url: str
    services: dict[str, Any] = field(default_factory=dict)  # canyu.lab.fleet_phone.Services
    iot: IotOutcome | None = None


@dataclass
class _Phone:
    token: str
    owner_token: str | None
    version: str = "1.0.0"
    gave_up: set[str] = field(default_factory=set)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _bulk_friends(database: Database, count: int) -> list[str]:
    """Friends who own the phones, with API tokens, inserted in bulk (SQLAlchemy Core)."""
    password_hash = accounts.hash_password(secrets.token_urlsafe(12))
    tokens = [accounts.TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in range(count)]
    now = utcnow()
    rows = [
        {
            "email": f"sim-friend-{i}@sim.example.com",
            "password_hash": password_hash,
            "display_name": f"Sim friend {i}",
            "locale": "en",
            "country": "CN",
            "role": Role.FRIEND.value,
            # Established friends (a year old): marks from accounts made this minute barely
            # count (canyu.calls.reputation), and the fleet's phones mark spam calls too.
            "created_at": now - timedelta(days=365),
        }
        for i in range(count)
    ]
    with database.engine.begin() as connection:
        for chunk in range(0, len(rows), 5000):
            connection.execute(insert(User), rows[chunk : chunk + 5000])
        ids = {
            email: uid
            for uid, email in connection.execute(
                select(User.id, User.email).where(User.email.like("sim-friend-%"))
            )
        }
        token_rows = [
            {
                "user_id": ids[f"sim-friend-{i}@sim.example.com"],
                "name": "sim",
                "token_hash": hashlib.sha256(raw.encode()).hexdigest(),
                "created_at": now,
            }
            for i, raw in enumerate(tokens)
        ]
        for chunk in range(0, len(token_rows), 5000):
            connection.execute(insert(ApiToken), token_rows[chunk : chunk + 5000])
    return tokens


class _RetryBusy(httpx.AsyncBaseTransport):
    """Asks again, as a phone would, when the server sheds a request under load (503 with
    Retry-After: canyu.fastpath.Admission); waits a little, not the full Retry-After, so the
    simulation keeps its pace. Request bodies here are small and fully read, so a retry resends
    the same bytes."""

    ATTEMPTS = 50

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(self.ATTEMPTS):
            response = await self.inner.handle_async_request(request)
            if response.status_code != 503 or attempt == self.ATTEMPTS - 1:
                return response
            await response.aclose()
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self.inner.aclose()


class FleetRun:
    def __init__(
        self,
        spec: FleetSpec,
        *,
        database_url: str | None = None,
        progress: Progress | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.progress = progress or (lambda _s, _d, _t: None)
        self._tmp = tempfile.TemporaryDirectory(prefix="canyu-sim-")
        self.workdir = workdir or Path(self._tmp.name)
        self.database_url = database_url or f"sqlite:///{self.workdir / 'sim.db'}"
        self.phones: list[_Phone] = []
        self.services: Services | None = None
        self.checkins = 0
        self.checkin_seconds = 0.0
        self.bulk_seconds = 0.0
        self.outcome_of: dict[str, BuildOutcome] = {}
        self.iot_outcome: IotOutcome | None = None

    # --- setup ----------------------------------------------------------------------------------

    def _prepare(self) -> tuple[dict[str, str], str]:
        from canyu.releases import service as releases
        from canyu.releases.tuf_repo import init_keys

        keys, root = self.workdir / "keys" / "online", self.workdir / "keys" / "root"
        init_keys(keys, root_keys_dir=root)
        migrate.upgrade(self.database_url)
        database = Database(self.database_url)
        try:
            with database.session() as session:
                team = accounts.create_user(
                    session,
                    email="sim-team@sim.example.com",
                    password=secrets.token_urlsafe(12),
                    display_name="Release team",
                    role=Role.TEAM,
                )
                releases.create_product(session, actor=team, key=PRODUCT, name=PRODUCT_NAME)
                _token, team_token = accounts.create_api_token(session, user=team, name="sim")
            owners = round(self.spec.devices * self.spec.owned)
            self.owner_tokens = _bulk_friends(database, owners) if owners else []
            if self.spec.register == "bulk":
                started = time.perf_counter()
                self._bulk_devices(database)
                self.bulk_seconds = time.perf_counter() - started
        finally:
            database.dispose()
        env = {
            "CANYU_DATABASE_URL": self.database_url,
            "CANYU_SECRET_KEY": secrets.token_urlsafe(16),
            "CANYU_RELEASE_TUF_DIR": str(self.workdir / "tuf"),
            "CANYU_RELEASE_KEYS_DIR": str(keys),
            "CANYU_RELEASE_ROOT_KEYS_DIR": str(root),
            "CANYU_RELEASE_OFFER_CACHE_SECONDS": "1",
            "CANYU_RELEASE_GATE_MIN_INTERVAL_SECONDS": "0.25",
            "CANYU_RELEASE_GATE_JOB_SECONDS": "2",
            "CANYU_MQTT_URL": "",
            # One machine is one network: let marks from it label numbers (see fleet_phone).
            "CANYU_CALLS_MIN_NETWORKS": "1",
            "CANYU_CALLS_NETWORK_CAP": "100",
            "CANYU_LOG_LEVEL": "WARNING",
            "CANYU_SIGNUP_RATE": "1000000/minute",
            # The fleet registers from one address: a lab, not a network of strangers.
            "CANYU_DEVICE_REGISTER_RATE": "1000000/minute",
        }
        return env, team_token

    def _bulk_devices(self, database: Database) -> None:
        """The registry rows `POST /api/v1/devices` would write, inserted in bulk."""
        from canyu.devices import identity
        from canyu.devices.models import Device
        from canyu.releases.models import ReleaseProduct

        with database.engine.connect() as connection:
            product_id = connection.execute(
                select(ReleaseProduct.id).where(ReleaseProduct.key == PRODUCT)
            ).scalar_one()
            by_hash = {
                row.token_hash: row.user_id
                for row in connection.execute(select(ApiToken.token_hash, ApiToken.user_id))
            }
        owner_ids = {
            raw: by_hash[hashlib.sha256(raw.encode()).hexdigest()] for raw in self.owner_tokens
        }
        now = utcnow()
        rows = []
        for i in range(self.spec.devices):
            owner = self.owner_tokens[i] if i < len(self.owner_tokens) else None
            token = identity.new_token()
            rows.append(
                {
                    "token_hash": identity.token_hash(token),
                    "product_id": product_id,
                    "model": PRODUCT,
                    "hardware_hash": identity.hardware_hash(
                        PRODUCT, f"SIM-{self.spec.seed}-{i:07d}"
                    ),
                    "country": _pick(self.rng, self.spec.countries),
                    "channel": _pick(self.rng, self.spec.channels),
                    "owner_id": owner_ids[owner] if owner else None,
                    "current_version": "1.0.0",
                    "registered_at": now,
                    "last_seen_at": now,
                    "revoked_at": None,
                }
            )
            self.phones.append(_Phone(token, owner))
            if len(rows) == 20_000 or i == self.spec.devices - 1:
                with database.engine.begin() as connection:
                    connection.execute(insert(Device), rows)
                rows = []
                self.progress("loading devices", i + 1, self.spec.devices)

    async def _register(self, client: httpx.AsyncClient) -> float:
        if self.spec.register == "bulk":
            return self.bulk_seconds
        started = time.perf_counter()
        n = self.spec.devices
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)
        done = 0

        async def worker() -> None:
            nonlocal done
            while not queue.empty():
                i = queue.get_nowait()
                owner = self.owner_tokens[i] if i < len(self.owner_tokens) else None
                body = {
                    "product": PRODUCT,
                    "hardware_id": f"SIM-{self.spec.seed}-{i:07d}",
                    "country": _pick(self.rng, self.spec.countries),
                    "channel": _pick(self.rng, self.spec.channels),
                    "version": "1.0.0",
                }
                headers = {"Authorization": f"Bearer {owner}"} if owner else {}
                response = await client.post("/api/v1/devices", json=body, headers=headers)
                response.raise_for_status()
                self.phones.append(_Phone(response.json()["token"], owner))
                done += 1
                if done % 500 == 0 or done == n:
                    self.progress("registering devices", done, n)

        await asyncio.gather(*(worker() for _ in range(self.spec.concurrency)))
        return time.perf_counter() - started

    # --- one build --------------------------------------------------------------------------------

    async def _publish_build(
        self, client: httpx.AsyncClient, team: dict[str, str], spec: BuildSpec
    ) -> int:
        made = await client.post(
            "/api/v1/builds",
            json={
                "product": PRODUCT,
                "channel": "stable",
                "version": spec.version,
                "notes": spec.label,
            },
            headers=team,
        )
        made.raise_for_status()
        build_id: int = made.json()["id"]
        content = f"canyu {spec.version}\n".encode() * 4096
        upload = await client.post(
            f"/api/v1/builds/{build_id}/payloads",
            files={"file": ("update.zip", content)},
            data={"sha256": hashlib.sha256(content).hexdigest()},
            headers=team,
        )
        upload.raise_for_status()
        rollout = await client.post(
            "/api/v1/rollouts",
            json={
                "build_id": build_id,
                "stages": list(self.spec.stages),
                "channels": list(self.spec.channels),
                "thresholds": self.spec.gates,
            },
            headers=team,
        )
        rollout.raise_for_status()
        rollout_id: int = rollout.json()["id"]
        return rollout_id

    async def _phone_cycle(
        self,
        client: httpx.AsyncClient,
        phone: _Phone,
        spec: BuildSpec,
        outcome: BuildOutcome,
        offered: set[int],
        index: int,
    ) -> None:
        headers = {"Authorization": f"Bearer {phone.token}"}
        t0 = time.perf_counter()
        response = await self._post(
            client, "/api/v1/devices/checkin", {"version": phone.version}, headers
        )
        self.checkin_seconds += time.perf_counter() - t0
        self.checkins += 1
        outcome.checkins += 1
        response.raise_for_status()
        offer = response.json()["offer"]
        if offer is None:
            return
        version = offer["version"]
        if offer["rollback"]:
            phone.version = version
            await self._report(client, headers, version, True)
            outcome.rolled_back += 1
            return
        if version != spec.version:
            # An earlier build the phone has not installed yet (its rollout completed): a phone
            # takes any update offered, with that build's own failure and feedback rates.
            earlier = self.outcome_of.get(version)
            if earlier is not None:
                await self._install(client, headers, phone, earlier.spec, earlier, version)
            return
        offered.add(index)
        await self._install(client, headers, phone, spec, outcome, version)

    async def _install(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        phone: _Phone,
        spec: BuildSpec,
        outcome: BuildOutcome,
        version: str,
    ) -> None:
        if self.rng.random() < spec.install_failure_rate:
            phone.gave_up.add(version)
            outcome.failed += 1
            await self._report(client, headers, version, False)
            return
        phone.version = version
        outcome.installed += 1
        await self._report(client, headers, version, True)
        if self.rng.random() < spec.crash_rate:
            outcome.crashes += 1
            crash = {
                "report_id": secrets.token_hex(8),
                "kind": "crash",
                "version": version,
                "crashes": 1,
            }
            sent = await self._post(client, "/api/v1/devices/reports", crash, headers)
            sent.raise_for_status()
        if phone.owner_token and self.rng.random() < spec.feedback_rate:
            outcome.feedback += 1
            post = {
                "kind": "bug",
                "title": f"Something is off after updating to {version}",
                "body": "Since the update the phone behaves differently; details in the logs.",
                "device_model": PRODUCT_NAME,
                "software_build": version,
                "language": "en",
            }
            written = await client.post(
                "/api/v1/feedback",
                json=post,
                headers={"Authorization": f"Bearer {phone.owner_token}"},
            )
            written.raise_for_status()

    async def _post(
        self, client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        """POST with up to three tries on a dropped connection; only for idempotent requests
        (check-ins, and reports, which carry their own report id)."""
        for attempt in range(3):
            try:
                return await client.post(url, json=body, headers=headers)
            except httpx.TransportError:
                if attempt == 2:
                    raise
                await asyncio.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _report(
        self, client: httpx.AsyncClient, headers: dict[str, str], version: str, ok: bool
    ) -> None:
        body = {
            "report_id": secrets.token_hex(8),
            "kind": "install",
            "version": version,
            "success": ok,
            "failure_code": None if ok else "E_INSTALL_VERIFY",
        }
        response = await self._post(client, "/api/v1/devices/reports", body, headers)
        response.raise_for_status()

    async def _status(self, client: httpx.AsyncClient, rollout_id: int) -> dict[str, Any]:
        response = await client.get(f"/api/v1/rollouts/{rollout_id}")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    async def _round(
        self,
        client: httpx.AsyncClient,
        pending: list[int],
        spec: BuildSpec,
        outcome: BuildOutcome,
        offered: set[int],
        label: str,
        rollout_id: int,
    ) -> None:
        """Each pending phone checks in once (installing if offered), `concurrency` at once."""
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in pending:
            queue.put_nowait(i)
        total, done = len(pending), 0
        stopped = asyncio.Event()

        async def watch() -> None:
            # Once the gates pause (or complete) the rollout, the rest of the fleet's check-ins
            # can change nothing for this build: end the round early.
            while not queue.empty():
                await asyncio.sleep(1.0)
                status = await self._status(client, rollout_id)
                if status["status"] in ("paused", "halted", "rolled_back") or (
                    status["status"] == "completed" and not self.spec.until_installed
                ):
                    stopped.set()
                    return

        async def worker() -> None:
            nonlocal done
            while not queue.empty() and not stopped.is_set():
                i = queue.get_nowait()
                await self._phone_cycle(client, self.phones[i], spec, outcome, offered, i)
                done += 1
                if done % 1000 == 0 or done == total:
                    self.progress(label, done, total)

        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(worker() for _ in range(self.spec.concurrency)))
        watcher.cancel()

    async def _run_build(
        self, client: httpx.AsyncClient, team: dict[str, str], spec: BuildSpec
    ) -> BuildOutcome:
        started = time.perf_counter()
        outcome = BuildOutcome(spec)
        rollout_id = await self._publish_build(client, team, spec)
        self.outcome_of[spec.version] = outcome
        offered: set[int] = set()
        status: dict[str, Any] = {}
        for round_no in range(1, self.spec.max_rounds + 1):
            outcome.rounds = round_no
            pending = [
                i
                for i, p in enumerate(self.phones)
                if p.version != spec.version and spec.version not in p.gave_up
            ]
            self.rng.shuffle(pending)
            label = f"{spec.version} round {round_no}"

            before = await self._status(client, rollout_id)
            seen_before = (len(offered), outcome.installed, outcome.failed)
            await self._round(client, pending, spec, outcome, offered, label, rollout_id)
            # Let the server's periodic gates look at the last reports.
            for _ in range(20):
                status = await self._status(client, rollout_id)
                if status["status"] != "active" or status["stage_index"] != before["stage_index"]:
                    break
                await asyncio.sleep(0.25)
            if (
                status["status"] == "completed"
                and before["status"] == "completed"
                and ((len(offered), outcome.installed, outcome.failed) == seen_before)
            ):
                break  # completed, and a whole round brought no new installs
            if status["status"] in ("paused", "halted", "rolled_back"):
                break
            if status["status"] == "completed" and not self.spec.until_installed:
                break
            if status["status"] == "completed" and not [
                p
                for p in self.phones
                if p.version != spec.version and spec.version not in p.gave_up
            ]:
                break  # the whole fleet runs it
            if (len(offered), outcome.installed, outcome.failed) == seen_before and (
                status["stage_index"] == before["stage_index"]
            ):
                # Nothing moved in a whole round: ask the gates now. They may not have looked at
                # the last reports yet (a busy server's periodic run is late): follow what they
                # decide; if they still hold, there are too few devices to judge.
                gate = await client.post(f"/api/v1/rollouts/{rollout_id}/evaluate", headers=team)
                gate.raise_for_status()
                decision = gate.json()
                status = decision["rollout"]
                if decision["action"] != "hold":
                    continue
                status = {**status, "reason": f"holding: {decision['reason']}"}
                break
        outcome.status = status.get("status", "?")
        outcome.percent = float(status.get("percent", 0.0))
        outcome.reason = status.get("reason")
        outcome.exposed = len(offered)
        if outcome.status in ("paused", "active"):
            # The team's turn: a paused build is halted (or rolled back); one still holding at
            # the end of the simulation is halted so the next build can go out.
            action = (
                "rollback" if spec.after == "rollback" and outcome.status == "paused" else "halt"
            )
            response = await client.post(
                f"/api/v1/rollouts/{rollout_id}/{action}",
                json={"reason": f"simulation: {spec.label}"},
                headers=team,
            )
            response.raise_for_status()
            if action == "rollback":
                await asyncio.sleep(1.2)  # the servers' offer caches expire
                on_bad = [p for p in self.phones if p.version == spec.version]
                stub = BuildOutcome(spec)
                for phone in on_bad:
                    await self._phone_cycle(client, phone, spec, stub, set(), -1)
                outcome.rolled_back = stub.rolled_back
        outcome.seconds = time.perf_counter() - started
        return outcome

    # --- all of it --------------------------------------------------------------------------

    async def _drive(self, server_url: str, team_token: str) -> tuple[list[BuildOutcome], float]:
        limits = httpx.Limits(
            max_connections=self.spec.concurrency, max_keepalive_connections=self.spec.concurrency
        )
        transport = _RetryBusy(httpx.AsyncHTTPTransport(limits=limits))
        async with httpx.AsyncClient(
            base_url=server_url, transport=transport, timeout=60
        ) as client:
            register_seconds = await self._register(client)
            self.iot_outcome = await self.iot.run(client, team_token, self.owner_tokens)
            team = {"Authorization": f"Bearer {team_token}"}
            outcomes = [await self._run_build(client, team, spec) for spec in self.spec.builds]
            self.progress("phones: marks, calls, feedback", 0, 1)
            self.services = await phone_services(client, self.phones, self.rng)
        return outcomes, register_seconds

    def run(self) -> Simulation:
        try:
            env, team_token = self._prepare()
            self.iot = IotFleet(self.spec.iot_devices, self.workdir).__enter__()
            env |= self.iot.env()
            with Uvicorn(
                "canyu.asgi:app",
                env,
                options=("--no-access-log", "--timeout-keep-alive", "60"),
                start_seconds=180,
            ) as server:
                outcomes, register_seconds = asyncio.run(self._drive(server.url, team_token))
            rps = (
                self.checkins / self.checkin_seconds * self.spec.concurrency
                if self.checkin_seconds
                else 0.0
            )
            return Simulation(
                self.spec.devices,
                outcomes,
                register_seconds,
                rps,
                self.database_url,
                self.services.as_json() if self.services else {},
                self.iot_outcome,
            )
        finally:
            if hasattr(self, "iot"):
                self.iot.__exit__(None, None, None)
            self._tmp.cleanup()
