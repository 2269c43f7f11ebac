"""`canyu bench checkin`: check-in throughput and latency through HTTP with many registered
devices, beside a bare ASGI endpoint served the same way (the floor).

Both servers are `uvicorn` with one worker in their own process, up at the same time and
measured in turns (floor, check-in, three rounds by default), so that a change in what else the
machine does hits both alike; the ratio is the median of the rounds'. The load comes from a third
process (canyu.lab.loadgen) on 127.0.0.1, bounded in requests and seconds; it polls rather
than sleeps while it waits, so that neither server pays to wake it (see that module). The devices
are bulk-loaded with SQLAlchemy Core inserts; a rollout at 10% is active, so every check-in really
decides an offer (about one device in ten gets one). By default no device is due a sighting (the
read path); with ``--sightings`` every measured check-in is (the steady state of hourly polls).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
from sqlalchemy import func, insert, select, text, update
from starlette.types import Receive, Scope, Send

from canyu import migrate
from canyu.db import Database, utcnow
from canyu.lab.loadgen import REPORTED_VERSION, Idle
from canyu.lab.servers import Uvicorn
from canyu.releases.checkin import PATH as CHECKIN_PATH

if TYPE_CHECKING:
    from canyu.accounts.models import User
    from canyu.releases.settings import ReleaseSettings

PRODUCT = "canyu-1s"
COUNTRIES = ("CN", "IN", "ID", "ES", "US", "MY", "PH", "SG")
CHANNELS = ("stable", "stable", "stable", "beta", "developer")
FLOOR_BODY = b'{"offer":null,"poll_seconds":3600}'


def client_idle_on(cpus: int, asked: Idle) -> Idle:
    """How the load generator waits given this many CPUs: as asked, except that it sleeps on a
    single CPU, where polling would take half of it from the servers."""
    return Idle.SLEEP if cpus < 2 else asked


async def floor_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The floor: a bare ASGI endpoint that reads the request and answers a fixed check-in."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(FLOOR_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": FLOOR_BODY})


def measured_server(app: str, env: dict[str, str]) -> Uvicorn:
    """A server the way the benches measure it: uvloop and httptools; up once it answers."""

    def answering(url: str) -> bool:
        httpx.post(url + CHECKIN_PATH, timeout=1)
        return True

    return Uvicorn(
        app,
        env,
        options=("--no-access-log", "--loop", "uvloop", "--http", "httptools"),
        ready=answering,
        start_seconds=90,
    )


def _load(
    url: str, tokens: Path, requests: int, duration: float, concurrency: int, idle: str
) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "canyu.lab.loadgen",
        "--url",
        url,
        "--tokens",
        str(tokens),
        "--requests",
        str(requests),
        "--duration",
        str(duration),
        "--concurrency",
        str(concurrency),
        "--idle",
        idle,
    ]
    done = subprocess.run(command, capture_output=True, check=True, timeout=duration + 120)  # noqa: S603
    result: dict[str, float] = json.loads(done.stdout)
    return result


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """Rounds' figures as one: the median throughput and p50, the worst p99, every request."""
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p99_ms": max(run["p99_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "requests": sum(run["requests"] for run in runs),
    }


def bench_token(i: int) -> str:
    """The i-th bench device's token: derived, so a loaded database can be measured again."""
    from canyu.devices.identity import TOKEN_PREFIX

    digest = hashlib.sha256(f"canyu-bench-device-{i}".encode()).digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def load_devices(database: Database, product_id: int, count: int, progress: Any) -> list[str]:
    """Bulk-load ``count`` devices (SQLAlchemy Core, chunks of 20,000; the ones already there
    are kept); return the tokens of up to 100,000 of them, at random, for the load generator."""
    from canyu.devices.models import Device

    with database.engine.connect() as connection:
        have = int(connection.scalar(select(func.count(Device.id))) or 0)
    now = utcnow()
    chunk = 20_000
    task = progress.add_task("loading devices", total=count, completed=min(have, count))
    for start in range(have, count, chunk):
        rows = [
            {
                "token_hash": hashlib.sha256(bench_token(i).encode()).hexdigest(),
                "product_id": product_id,
                "model": PRODUCT,
                "hardware_hash": hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
                "country": COUNTRIES[i % len(COUNTRIES)],
                "channel": CHANNELS[i % len(CHANNELS)],
                "owner_id": None,
                "current_version": REPORTED_VERSION,
                "registered_at": now,
                "last_seen_at": now,
                "revoked_at": None,
            }
            for i in range(start, min(count, start + chunk))
        ]
        with database.engine.begin() as connection:
            connection.execute(insert(Device), rows)
        progress.update(task, completed=min(count, start + chunk))
    _seen_recently(database)
    picked = random.Random(1).sample(range(count), min(count, 100_000))
    return [bench_token(i) for i in picked]


def _seen_recently(database: Database) -> None:
    """Mark every device seen now unless it was in the last half hour, so that a database loaded
    earlier is measured like a fresh one: the read path, no sightings due (each would write
    ``last_seen_at``; see docs/benchmarks.md). On PostgreSQL the dead rows are vacuumed now, not
    by autovacuum in the middle of a measurement."""
    from canyu.devices.models import Device

    now = utcnow()
    with database.engine.begin() as connection:
        refreshed = connection.execute(
            update(Device)
            .where(Device.last_seen_at < now - timedelta(minutes=30))
            .values(last_seen_at=now)
        ).rowcount
    if refreshed and database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
            raw.execute(text("VACUUM (ANALYZE) devices"))


def mark_due(url: str, tokens: list[str]) -> None:
    """Mark these tokens' devices last seen two hours ago, so that each one's next check-in
    records a sighting: the steady state of devices that poll hourly (SEEN_EVERY)."""
    from canyu.devices.identity import token_hash
    from canyu.devices.models import Device

    database = Database(url)
    try:
        long_ago = utcnow() - timedelta(hours=2)
        with database.engine.begin() as connection:
            for start in range(0, len(tokens), 5000):
                digests = [token_hash(t) for t in tokens[start : start + 5000]]
                connection.execute(
                    update(Device)
                    .where(Device.token_hash.in_(digests))
                    .values(last_seen_at=long_ago)
                )
    finally:
        database.dispose()


def start_rollout(
    database: Database,
    *,
    product_id: int,
    team: User,
    settings: ReleaseSettings,
    spool_dir: Path,
) -> str:
    """Roll out a build newer than the one every bench device runs (REPORTED_VERSION) to 10 % of
    every channel, its gate never advancing, after halting any rollout still live; return its
    version. So every check-in decides an offer: its place in the cohort, then one device in ten
    is offered the build."""
    from packaging.version import Version

    from canyu.releases import health, versions
    from canyu.releases import service as releases

    with database.session() as session:
        latest = releases.latest_build(session, product_id=product_id, channel="stable")
        newest = Version(REPORTED_VERSION)
        if latest is not None:
            newest = max(newest, Version(latest.version))
        version = str(versions.next_version(newest))
        build = releases.create_build(
            session, actor=team, product_key=PRODUCT, channel="stable", version=version
        )
        releases.add_payload_bytes(
            session,
            actor=team,
            build=build,
            filename="update.zip",
            content=b"x" * 4096,
            declared_sha256=hashlib.sha256(b"x" * 4096).hexdigest(),
            settings=settings,
            spool_dir=spool_dir,
        )
        for live in releases.list_rollouts(session):
            if live.status in ("active", "paused"):
                releases.halt(session, actor=team, rollout_id=live.id)
        releases.start_rollout(
            session,
            actor=team,
            build_id=build.id,
            stages=(10, 100),
            channels=sorted(set(CHANNELS)),  # every channel the bench devices are on
            thresholds=health.Thresholds(min_successes=10**6),
        )
    return version


def checkin(
    devices: Annotated[
        int, typer.Option(help="Registered devices.", min=1000, max=5_000_000)
    ] = 1_000_000,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: a fresh SQLite file.")
    ] = None,
    requests: Annotated[
        int, typer.Option(help="At most this many requests per server, over all rounds.")
    ] = 600_000,
    duration: Annotated[float, typer.Option(help="At most this many seconds per run.")] = 20.0,
    concurrency: Annotated[int, typer.Option(help="Connections.", min=1, max=256)] = 16,
    rounds: Annotated[
        int, typer.Option(help="Turns of floor then check-in; the ratio is their median.", min=1)
    ] = 3,
    sightings: Annotated[
        bool,
        typer.Option(
            "--sightings",
            help="Every check-in records a sighting (devices polling hourly), not none.",
        ),
    ] = False,
    client_idle: Annotated[
        Idle,
        typer.Option(
            help="How the load generator waits for answers: polling, or asleep (then, on "
            "127.0.0.1, each answer also pays to wake it; see canyu.lab.loadgen). "
            "Given one CPU, it sleeps."
        ),
    ] = Idle.SPIN,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Check-in throughput and p50/p99 latency (canyu.releases.edge fast path in front of the
    whole app), beside a bare ASGI floor and the same check-in through FastAPI's router."""
    from rich.console import Console

    from canyu.accounts import service as accounts
    from canyu.accounts.models import Role
    from canyu.progress import progress_bar
    from canyu.releases import service as releases
    from canyu.releases.settings import ReleaseSettings
    from canyu.releases.tuf_repo import init_keys

    console = Console(stderr=True)
    asked, client_idle = client_idle, client_idle_on(len(os.sched_getaffinity(0)), client_idle)
    if client_idle is not asked:
        console.print("one CPU: the load generator sleeps while it waits for answers")
    work = Path(tempfile.mkdtemp(prefix="canyu-bench-"))
    url = database_url or f"sqlite:///{work / 'bench.db'}"
    keys, root = work / "keys" / "online", work / "keys" / "root"
    init_keys(keys, root_keys_dir=root)
    settings = ReleaseSettings(tuf_dir=work / "tuf", keys_dir=keys, root_keys_dir=root)
    migrate.upgrade(url)
    database = Database(url)
    try:
        with database.session() as session:
            team = accounts.create_user(
                session,
                email=f"bench-{secrets.token_hex(4)}@bench.example.com",
                password=secrets.token_urlsafe(12),
                display_name="bench",
                role=Role.TEAM,
            )
            try:
                product = releases.get_product(session, key=PRODUCT)
            except Exception:
                product = releases.create_product(session, actor=team, key=PRODUCT, name="canyu 1S")
            product_id = product.id
        with progress_bar() as bar:
            sample = load_devices(database, product_id, devices, bar)
        start_rollout(
            database, product_id=product_id, team=team, settings=settings, spool_dir=work / "spool"
        )
    finally:
        database.dispose()
    tokens = work / "tokens.txt"
    tokens.write_text("\n".join(sample))
    env = {
        "CANYU_DATABASE_URL": url,
        "CANYU_SECRET_KEY": "bench",
        "CANYU_RELEASE_TUF_DIR": str(settings.tuf_dir),
        "CANYU_RELEASE_KEYS_DIR": str(keys),
        "CANYU_RELEASE_ROOT_KEYS_DIR": str(root),
        "CANYU_LOG_LEVEL": "WARNING",
        "CANYU_JOBS_ENABLED": "false",
        "CANYU_SIMILARITY_METHOD": "bm25",
    }
    per_run = requests // rounds
    warm_up = min(per_run, len(sample))

    def measure(server: Uvicorn, count: int, seconds: float, *, due: bool) -> dict[str, float]:
        if due:
            mark_due(url, sample[:count])
        return _load(
            server.url + CHECKIN_PATH, tokens, count, seconds, concurrency, client_idle.value
        )

    runs: dict[str, list[dict[str, float]]] = {"floor": [], "checkin": []}
    console.print("serving the floor and the check-in, measured in turns ...")
    with (
        measured_server("canyu.lab.checkin:floor_app", env) as floor_server,
        measured_server("canyu.asgi:app", env) as checkin_server,
    ):
        servers = {"floor": floor_server, "checkin": checkin_server}
        for name, server in servers.items():
            # Warm up on every device a run asks about, as a serving process is warm on its
            # fleet (on SQLite, a page's first read through the memory map is a page fault).
            measure(server, warm_up, duration, due=sightings and name == "checkin")
        # In turns, so that a change in what else the machine is doing hits both alike.
        for _ in range(rounds):
            for name, server in servers.items():
                due = sightings and name == "checkin"
                runs[name].append(measure(server, per_run, duration, due=due))
    console.print("serving the check-in through FastAPI's router ...")
    with measured_server("canyu.asgi:fastapi_app", env) as server:
        measure(server, 3000, 5, due=sightings)
        route = measure(server, per_run, duration, due=sightings)
    shutil.rmtree(work, ignore_errors=True)
    check, floor = _summary(runs["checkin"]), _summary(runs["floor"])
    ratios = [
        c["rps"] / f["rps"] if f["rps"] else 0.0
        for c, f in zip(runs["checkin"], runs["floor"], strict=True)
    ]
    figures = {
        "devices": devices,
        "database": url.split(":", 1)[0],
        "sightings": sightings,
        "rps": round(check["rps"], 1),
        "p50_ms": round(check["p50_ms"], 2),
        "p99_ms": round(check["p99_ms"], 2),
        "errors": int(check["errors"]),
        "floor_rps": round(floor["rps"], 1),
        "floor_p50_ms": round(floor["p50_ms"], 2),
        "floor_p99_ms": round(floor["p99_ms"], 2),
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "app_route_rps": round(route["rps"], 1),
        "app_route_p50_ms": round(route["p50_ms"], 2),
        "app_route_p99_ms": round(route["p99_ms"], 2),
        "concurrency": concurrency,
        "client_idle": client_idle.value,
        "requests": int(check["requests"]),
    }
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    what = "every check-in records a sighting\n" if sightings else ""
    if client_idle is Idle.SLEEP:
        what += "the load generator sleeps while it waits for answers\n"
    console.print(
        f"{what}check-in: {figures['rps']} req/s, p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms ({figures['errors']} errors) "
        f"with {devices} devices on {figures['database']}\n"
        f"floor:    {figures['floor_rps']} req/s, p50 {figures['floor_p50_ms']} ms, "
        f"p99 {figures['floor_p99_ms']} ms\n"
        f"ratio:    {figures['ratio']}, the median of {figures['ratios']} (goal ≥ 0.5; "
        "p99 < 50 ms)\n"
        f"(without the fast path, through FastAPI's router: {figures['app_route_rps']} req/s, "
        f"p50 {figures['app_route_p50_ms']} ms, p99 {figures['app_route_p99_ms']} ms)"
    )
