"""The IoT domain's per-process state, kept on the FastAPI app: its settings, how it publishes
to devices (canyu's own broker account), the broker's files it manages, and the telemetry
ingest when this process runs one. Made by canyu.iot.install; ``configure`` makes it again with
other settings (a deployment's or a test's)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from canyu.db import Database
from canyu.devices.push import MqttPusher, NullPusher, Pusher
from canyu.iot import broker, service
from canyu.iot.ingest import TelemetryIngest
from canyu.iot.settings import IotSettings

log = logging.getLogger("canyu.iot")
STATE_KEY = "iot"


@dataclass
class Runtime:
    settings: IotSettings
    pusher: Pusher
    files: broker.BrokerFiles | None
    ingest: TelemetryIngest | None = None

    def sync_broker(self, session: Session) -> bool:
        """Render the broker's files from the database; True when they changed (and the broker
        was asked to reload them)."""
        if self.files is None:
            return False
        passwords, acl = broker.render(service.broker_accounts(session), self.services())
        return self.files.write(passwords, acl)

    def services(self) -> list[broker.Service]:
        """canyu's own account, from the password in ``server_url`` (None: not managed)."""
        from canyu.devices.push import mqtt_auth

        auth = mqtt_auth(self.settings.server_url) if self.settings.server_url else None
        if auth is None or "password" not in auth:
            return []
        return [broker.server_account(broker.password_hash(auth["password"]))]


def make_runtime(settings: IotSettings) -> Runtime:
    files = (
        broker.BrokerFiles(
            settings.password_file,
            settings.acl_file or settings.password_file.with_name("acl"),
            settings.pid_file,
        )
        if settings.password_file is not None
        else None
    )
    pusher: Pusher = MqttPusher(settings.server_url) if settings.server_url else NullPusher()
    return Runtime(settings, pusher, files)


def configure(app: FastAPI, settings: IotSettings) -> Runtime:
    runtime = make_runtime(settings)
    setattr(app.state, STATE_KEY, runtime)
    return runtime


def runtime_for(app: FastAPI) -> Runtime:
    runtime: Runtime = getattr(app.state, STATE_KEY)
    return runtime


def get_runtime(request: Request) -> Runtime:
    return runtime_for(request.app)


def sync_after_commit(session: Session, database: Database, runtime: Runtime) -> None:
    """Once the change is committed, render the broker's files again (a new or revoked
    account takes effect at once, not at the next periodic sync)."""
    if runtime.files is None:
        return
    from sqlalchemy import event

    def sync(_committed: Session) -> None:
        try:
            with database.session() as fresh:
                runtime.sync_broker(fresh)
        except Exception:
            log.exception("could not render the broker's files; the periodic sync will")

    event.listen(session, "after_commit", sync, once=True)
