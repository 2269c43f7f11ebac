"""Settings of the IoT domain, from ``CANYU_IOT_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class IotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANYU_IOT_", env_file=".env", extra="ignore")

    # The broker as devices reach it (given to them at pairing), e.g. mqtt://iot.example.com:1883.
    # Empty: small devices cannot be paired (nothing to connect them to).
    broker_url: str = ""
    # The broker as canyu reaches it, with canyu's own account (canyu.iot.broker.SERVER_USER):
    # mqtt://canyu-server:PASSWORD@127.0.0.1:1883. Empty: no ingest, commands are only stored.
    server_url: str = ""
    # Run the telemetry ingest inside the server under this name (its persistent session at the
    # broker: one name per process). Empty: none in the server; run `canyu iot ingest --name N`.
    ingest_name: str = ""
    # The files the broker reads (password_file, acl_file in mosquitto.conf), and its pid file:
    # canyu rewrites the files and sends SIGHUP. Empty password_file: canyu manages no broker.
    password_file: Path | None = None
    acl_file: Path | None = None
    pid_file: Path | None = None
    # How often the files are rendered again from the database (devices revoked elsewhere).
    broker_sync_seconds: int = 30
    # Pairing codes: how long one stands, and how often codes may be asked for and tried.
    pairing_minutes: int = 10
    code_rate: str = "5/minute;20/day"
    pair_rate: str = "10/minute;100/hour"
    # The ingest: a batch is written when it has this many messages or is this old.
    batch_size: int = 5000
    batch_seconds: float = 0.1
    # Revocations are read this often (a revoked device's messages are dropped after it).
    known_refresh_seconds: float = 5.0
    # Telemetry older than this is deleted by a daily job.
    keep_days: int = 30


@lru_cache
def get_iot_settings() -> IotSettings:
    return IotSettings()
