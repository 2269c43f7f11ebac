"""The operator's `canyu iot ...` commands beside the device's (canyu.client.iot_cli): write a
broker's configuration, render its password and ACL files from the database, run the ingest."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from canyu.commands import DatabaseUrl, err, fail

if TYPE_CHECKING:
    from canyu.db import Database


def _database(database_url: str | None) -> Database:
    from canyu import migrate

    return migrate.open_database(database_url)


def broker_config(
    directory: Annotated[Path, typer.Option("--dir", help="Where the files are written.")],
    port: Annotated[int, typer.Option(help="The port devices connect to.")] = 1883,
    host: Annotated[str, typer.Option(help="The interface to listen on.")] = "0.0.0.0",  # noqa: S104
    server_password: Annotated[
        str,
        typer.Option(
            help="canyu's own broker password (as in CANYU_IOT_SERVER_URL).",
            envvar="CANYU_IOT_SERVER_PASSWORD",
        ),
    ] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Write mosquitto.conf, its password file and ACL file (one section per paired device)."""
    from canyu.iot import broker, service

    if not server_password:
        raise fail(
            "give canyu's own broker password: --server-password or CANYU_IOT_SERVER_PASSWORD"
        )
    files = broker.BrokerFiles(directory / "passwords", directory / "acl")
    database = _database(database_url)
    try:
        with database.session() as session:
            accounts = service.broker_accounts(session)
    finally:
        database.dispose()
    directory.mkdir(parents=True, exist_ok=True)
    passwords, acl = broker.render(
        accounts, [broker.server_account(broker.password_hash(server_password))]
    )
    files.write(passwords, acl)
    (directory / "mosquitto.conf").write_text(broker.config(port=port, host=host, files=files))
    err.print(f"wrote {directory}/mosquitto.conf with {len(accounts)} device account(s)")


def sync(database_url: DatabaseUrl = None) -> None:
    """Render the broker's files from the database now (CANYU_IOT_PASSWORD_FILE, ...) and ask
    the broker to reload them."""
    from canyu.iot.runtime import make_runtime
    from canyu.iot.settings import get_iot_settings

    runtime = make_runtime(get_iot_settings())
    if runtime.files is None:
        raise fail("set CANYU_IOT_PASSWORD_FILE (and CANYU_IOT_ACL_FILE) to the broker's files")
    database = _database(database_url)
    try:
        with database.session() as session:
            changed = runtime.sync_broker(session)
    finally:
        database.dispose()
    err.print("the broker's files changed; reload asked" if changed else "already up to date")


def ingest(
    name: Annotated[
        str, typer.Option(help="This ingest's name (its session at the broker).")
    ] = "1",
    database_url: DatabaseUrl = None,
) -> None:
    """Store every device's telemetry in batches and answer check-ins, until Ctrl-C."""
    from canyu.iot.ingest import TelemetryIngest
    from canyu.iot.settings import get_iot_settings
    from canyu.releases.offers import OfferBook
    from canyu.releases.settings import get_release_settings

    settings = get_iot_settings()
    if not settings.server_url:
        raise fail("set CANYU_IOT_SERVER_URL=mqtt://canyu-server:PASSWORD@host:port")
    releases = get_release_settings()
    database = _database(database_url)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_a: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_a: stopping.set())
    consumer = TelemetryIngest(
        database,
        server_url=settings.server_url,
        settings=settings,
        offers=OfferBook(ttl=releases.offer_cache_seconds),
        poll_seconds=releases.poll_seconds,
        name=name,
    )
    try:
        consumer.start()
        err.print(f"ingesting as {name}; Ctrl-C stops")
        while not stopping.wait(10):
            stats = consumer.stats
            err.print(
                f"stored {stats.stored}, check-ins {stats.checkins}, dropped {dict(stats.dropped)}"
            )
    finally:
        consumer.stop()
        database.dispose()


def register(app: typer.Typer) -> None:
    """Add the operator's commands to `canyu iot`."""
    app.command("broker", help="Write a Mosquitto configuration with canyu's files.")(broker_config)
    app.command("sync", help="Render the broker's password and ACL files from the database.")(sync)
    app.command("ingest", help="Store telemetry in batches; answer check-ins.")(ingest)
