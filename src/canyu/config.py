"""Settings from ``CANYU_*`` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANYU_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'canyu.db'}",
        description="SQLAlchemy URL; SQLite file under ./var/ by default, PostgreSQL by URL.",
    )
    # Signs cookies and CSRF tokens. Without one, a random key is kept in ./var/secret_key so
    # sessions survive restarts on one machine; several servers must share an explicit key.
    secret_key: str = ""
    # Send cookies with the Secure flag even on plain HTTP (set behind a TLS-terminating proxy).
    cookie_secure: bool = False
    session_days: int = 30
    # Rate limits, in the `limits` library's notation.
    signup_rate: str = "5/minute;30/hour"
    signin_rate: str = "10/minute;100/hour"
    # Password-reset requests per address (each one may mail someone), and mailed links per
    # email address asked for, whoever asks (canyu.accounts.throttle).
    reset_request_rate: str = "5/minute;20/hour"
    mail_link_rate: str = "3/hour;10/day"
    # New devices registering without an attestation key, per network (/24 IPv4, /56 IPv6).
    device_register_rate: str = "20/minute;300/day"
    # Requests inside the app at once, beyond which a request is answered 503 + Retry-After at
    # once (0: as many as the database's connection pool serves; canyu.fastpath.Admission).
    max_concurrent_requests: int = 0
    # How long a request may wait for room before that 503 (throughput benchmarks raise it, to
    # measure the server's pace rather than its shedding).
    admission_wait_seconds: float = 0.2
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks); empty:
    # none, the connection's peer is the client.
    trusted_proxies: str = ""
    # Where rate-limit counters live: "memory://" for one process, "redis://host:6379" for many.
    ratelimit_storage_url: str = "memory://"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "canyu <noreply@canyu.local>"
    smtp_starttls: bool = True
    base_url: str = "http://127.0.0.1:8000"
    similarity_method: str = "hybrid"
    # Services beyond one machine; empty means the embedded default (SQLite ledger, polling).
    redis_url: str = ""
    mqtt_url: str = ""
    log_level: str = "INFO"

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = VAR_DIR / "secret_key"
        if path.exists():
            return path.read_text().strip()
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
