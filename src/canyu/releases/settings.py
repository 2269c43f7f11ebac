"""Settings of the releases domain, from ``CANYU_RELEASE_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class ReleaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANYU_RELEASE_", env_file=".env", extra="ignore")

    # One TUF repository per product under tuf_dir/<product>/ (metadata/ and targets/).
    tuf_dir: Path = Path("var/tuf")
    # Online keys (targets, snapshot, timestamp): the servers sign with these.
    keys_dir: Path = Path("var/keys/online")
    # Root keys: only for creating repositories and rotations; keep them offline in production.
    root_keys_dir: Path = Path("var/keys/root")

    # --- the weekly train, rollouts and devices (canyu.releases.service, canyu.devices) ---
    # Largest payload file accepted by upload, in bytes.
    max_payload_bytes: int = 256 * 1024 * 1024
    # The weekly train: weekday (mon..sun) and local time in the team's time zone; the team
    # country's public holidays are skipped. Empty train_products: every product.
    train_weekday: str = "fri"
    train_time: str = "17:00"
    train_timezone: str = "Asia/Shanghai"
    train_country: str = "CN"
    train_products: list[str] = []
    # How often devices poll when no MQTT broker pushes to them, in seconds.
    poll_seconds: int = 3600
    # How long a server trusts its in-memory copy of the active rollouts, in seconds.
    offer_cache_seconds: float = 2.0
    # Health gates: evaluated after install reports (at most this often per rollout) and by a
    # periodic job at the second interval.
    gate_min_interval_seconds: float = 0.5
    gate_job_seconds: int = 15
    # Timestamp refresher: how often the periodic job re-signs expiring TUF metadata.
    tuf_refresh_minutes: int = 60


@lru_cache
def get_release_settings() -> ReleaseSettings:
    return ReleaseSettings()
