"""`canyu bench telemetry`: small devices' telemetry through Mosquitto into the database.

A broker of the bench's own (canyu.lab.mosquitto, a free port) reads canyu's password and ACL
files for ``--devices`` paired devices (rows in a fresh database: SQLite by default, or a
schema of its own in the PostgreSQL given). A load generator (canyu.lab.mqtt_load, its own
process, the broker account a load test gets: write any device's telemetry topic) publishes
``--messages`` telemetry messages at ``--rate`` per second, QoS 1, each from one of the
devices in turn and stamped with its send time; the ingest (canyu.iot.ingest, the product's
consumer, in this process) stores them in batches and acknowledges them after each commit.

- ``msgs_per_s``: messages stored, over the time from the first publish to the last commit;
- ``lost``: messages published that are not in the table (``duplicates``: stored twice, as
  at-least-once delivery may after the ingest reconnects; counted once);
- ``lag_p99_ms``: 99th percentile of commit time minus send time;
- ``ingest_cpu_us_per_msg``: the ingest process's CPU time per message stored.
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from canyu.commands import JsonFlag, err, fail
from canyu.progress import staged

PRODUCT = "bench-air"
SCHEMA = "canyu_bench_telemetry"
LOADER = "bench-loader"


@contextmanager
def _database(url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh SQLite file, or a schema of the bench's own in the PostgreSQL given (dropped
    afterwards; the database's other schemas are left alone)."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        yield url or f"sqlite:///{workdir / 'telemetry.db'}"
        return
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


def _load_fleet(url: str, devices: int, report: Any) -> str:
    """The product, an owner and ``devices`` paired devices, inserted in bulk; returns the one
    broker password hash they share (the bench's devices never log in themselves)."""
    from canyu import migrate
    from canyu.accounts import service as accounts
    from canyu.db import Database, utcnow
    from canyu.devices import identity
    from canyu.devices.models import Device
    from canyu.iot import broker, topics
    from canyu.iot.models import BrokerCredential
    from canyu.releases import service as releases

    migrate.upgrade(url)
    database = Database(url)
    shared = broker.password_hash(secrets.token_urlsafe(12))
    try:
        with database.session() as session:
            product = releases.create_product(
                session, actor=None, key=PRODUCT, name="Bench purifier", kind="iot"
            )
            owner = accounts.create_user(
                session,
                email="bench-owner@bench.example.com",
                password=secrets.token_urlsafe(12),
                display_name="Bench owner",
            )
            product_id, owner_id = product.id, owner.id
            session.commit()
        now = utcnow()
        step = 20_000
        for start in range(0, devices, step):
            ids = range(start + 1, min(start + step, devices) + 1)
            rows = [
                {
                    "id": i,
                    "token_hash": identity.token_hash(f"bench-{i}"),
                    "product_id": product_id,
                    "model": PRODUCT,
                    "hardware_hash": identity.hardware_hash(PRODUCT, f"B-{i}"),
                    "country": "CN",
                    "channel": "stable",
                    "owner_id": owner_id,
                    "current_version": "1.0.0",
                    "registered_at": now,
                    "last_seen_at": now,
                    "revoked_at": None,
                }
                for i in ids
            ]
            credentials = [
                {
                    "device_id": i,
                    "username": topics.username(i),
                    "password_hash": shared,
                    "issued_at": now,
                    "revoked_at": None,
                }
                for i in ids
            ]
            with database.engine.begin() as connection:
                connection.execute(insert(Device), rows)
                connection.execute(insert(BrokerCredential), credentials)
            report("pairing the fleet", ids[-1], devices)
        if database.engine.dialect.name == "postgresql":
            with database.engine.begin() as connection:  # ids were given: move the sequence on
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence('devices', 'id'), :n)"),
                    {"n": devices},
                )
    finally:
        database.dispose()
    return shared


def _publish(port: int, password: str, devices: int, messages: int, rate: float, done: Any) -> None:
    """The crowd (another process): ``messages`` telemetry messages at ``rate`` per second."""
    from canyu.lab.mqtt_load import Publisher

    publisher = Publisher(
        "127.0.0.1", port, client_id="bench-load", username=LOADER, password=password
    )
    chunk = 500
    done.put({"started": time.time()})
    started = time.monotonic()
    sent = 0
    while sent < messages:
        due = started + sent / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        now_ms = int(time.time() * 1000)
        batch = []
        for n in range(sent, min(sent + chunk, messages)):
            device = n % devices + 1
            payload = (
                b'{"state":"on","mode":"auto","version":"1.0.0",'
                b'"readings":{"pm25":%d,"temp":21.5},"t":%d}' % (n % 500, now_ms)
            )
            batch.append((f"iot/d{device}/telemetry", payload))
        publisher.publish(batch, chunk=chunk)
        sent += len(batch)
    acked = publisher.wait_acked(timeout=120)
    publisher.close()
    done.put({"sent": publisher.sent, "acked": publisher.acked, "all_acked": acked})


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    *, devices: int, messages: int, rate: float, database_url: str | None, report: Any
) -> dict[str, Any]:
    from canyu.db import Database
    from canyu.iot import broker, service
    from canyu.iot.ingest import TelemetryIngest
    from canyu.iot.models import TelemetryRecord
    from canyu.iot.settings import IotSettings
    from canyu.lab.mosquitto import Mosquitto

    with (
        tempfile.TemporaryDirectory(prefix="canyu-telemetry-") as tmp,
        _database(database_url, Path(tmp)) as url,
    ):
        _load_fleet(url, devices, report)
        server_password, loader_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        loader = broker.Service(
            LOADER, broker.password_hash(loader_password), write=("iot/+/telemetry",)
        )
        database = Database(url)
        try:
            with database.session() as session:
                accounts = service.broker_accounts(session)
            running = Mosquitto(Path(tmp) / "broker")
            passwords, acl = broker.render(
                accounts, [broker.server_account(broker.password_hash(server_password)), loader]
            )
            running.files.write(passwords, acl)  # read when the broker starts
            with running:
                settings = IotSettings(server_url=running.url(broker.SERVER_USER, server_password))
                ingest = TelemetryIngest(
                    database, server_url=settings.server_url, settings=settings, keep_lags=True
                )
                ingest.start()
                done: Any = multiprocessing.get_context("spawn").Queue()
                crowd = multiprocessing.get_context("spawn").Process(
                    target=_publish,
                    args=(running.port, loader_password, devices, messages, rate, done),
                )
                crowd.start()
                started = float(done.get(timeout=120)["started"])  # connected, about to send
                cpu_before = time.process_time()
                last, last_change, finished = -1, time.monotonic(), started
                published: dict[str, Any] = {}
                while True:
                    stored = ingest.stats.stored
                    if stored != last:
                        last, last_change, finished = stored, time.monotonic(), time.time()
                        report("ingesting", min(stored, messages), messages)
                    if not published and not done.empty():
                        published = done.get()
                    quiet = time.monotonic() - last_change
                    if (published and stored >= messages and quiet > 1) or quiet > 60:
                        break  # all in (or nothing came for a minute: what is missing is lost)
                    time.sleep(0.05)
                published = published or done.get(timeout=180)
                cpu = time.process_time() - cpu_before
                crowd.join(30)
                ingest.stop()
            with database.session() as session:
                stored_rows = int(
                    session.scalar(select(func.count()).select_from(TelemetryRecord)) or 0
                )
                # A message is its device and its send time (each device sends once per
                # chunk): what was stored twice (sent again after a reconnect) counts once.
                distinct = int(
                    session.scalar(
                        select(func.count()).select_from(
                            select(TelemetryRecord.device_id, TelemetryRecord.sent_ms)
                            .distinct()
                            .subquery()
                        )
                    )
                    or 0
                )
        finally:
            database.dispose()
    elapsed = max(finished - started, 1e-9)
    return {
        "devices": devices,
        "messages": messages,
        "rate": rate,
        "database": make_url(url).get_backend_name(),
        "msgs_per_s": round(distinct / elapsed),
        "lost": messages - distinct,
        "duplicates": stored_rows - distinct,
        "broker_acked": published["acked"],
        "lag_p50_ms": round(_percentile(ingest.stats.lags_ms, 0.50), 1),
        "lag_p99_ms": round(_percentile(ingest.stats.lags_ms, 0.99), 1),
        "batches": ingest.stats.batches,
        "dropped": dict(ingest.stats.dropped),
        "seconds": round(elapsed, 2),
        # CPU the ingest's process spent per message stored (the broker and the crowd are other
        # processes): what a busy machine cannot hide.
        "ingest_cpu_us_per_msg": round(cpu / max(distinct, 1) * 1e6, 1),
    }


def telemetry(
    devices: Annotated[int, typer.Option(help="Paired devices.", min=1, max=2_000_000)] = 100_000,
    messages: Annotated[
        int, typer.Option(help="Messages to send (default: two per device).", min=0)
    ] = 0,
    rate: Annotated[float, typer.Option(help="Messages per second offered.", min=1)] = 25_000,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: a fresh SQLite file.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Telemetry through Mosquitto into the database: messages per second, lost, lag p99."""
    from canyu.lab import mosquitto

    if not mosquitto.available():
        raise fail(f"mosquitto is not installed ({mosquitto.MOSQUITTO})")
    with staged(err) as report:
        result = run(
            devices=devices,
            messages=messages or 2 * devices,
            rate=rate,
            database_url=database_url,
            report=report,
        )
    if json_output:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:>12}: {value}")
