"""Mosquitto's own authentication, managed by canyu: a password file (mosquitto_passwd's format)
and an ACL file with one section per device, rendered from the database and reloaded by the
broker on SIGHUP. docs/iot.md says how an operator runs it.

Pure, apart from writing the files and signalling the broker: no database here. Passwords are
kept only as mosquitto's PBKDF2-SHA512 hashes (``$7$``), so the files can be rendered again at
any time without anyone knowing a device's password.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import secrets
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from canyu.iot import topics

# mosquitto_passwd's own parameters (mosquitto 2.0: PBKDF2-SHA512, 101 rounds, 12-byte salt).
_ROUNDS = 101
_SALT_BYTES = 12
SERVER_USER = "canyu-server"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def password_hash(password: str, *, salt: bytes | None = None) -> str:
    """The hash mosquitto_passwd writes for this password."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ROUNDS, 64)
    return f"$7${_ROUNDS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class Account:
    """A device's broker account: its username and mosquitto's hash of its password."""

    username: str
    password_hash: str


@dataclass(frozen=True)
class Service:
    """A server-side account (the ingest and command sender, or a bench's load generator) and
    what it may read and write."""

    username: str
    password_hash: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()


def server_account(password_hash_: str) -> Service:
    """canyu's own account: reads every device's telemetry and check-ins and the products'
    announcements (which the ingest passes on to each device), writes commands and
    announcements."""
    return Service(
        SERVER_USER,
        password_hash_,
        read=(
            f"{topics.ROOT}/+/{topics.TELEMETRY}",
            f"{topics.ROOT}/+/{topics.CHECKIN}",
            "canyu/#",
        ),
        write=(f"{topics.ROOT}/+/{topics.COMMANDS}", "canyu/#"),
    )


def render(accounts: Iterable[Account], services: Iterable[Service]) -> tuple[str, str]:
    """(password file, ACL file). A device may publish only its own telemetry and check-ins and
    read only its own commands (where the ingest also passes on its product's announcements);
    anything not listed is refused (mosquitto denies by default once an acl_file is set).

    Devices' rights are patterns on the username, the same three lines for every device:
    mosquitto 2.0 reads a ``user`` section per account in time that grows with the square of
    their number (20,000 sections: 14 s), while patterns cost nothing per device."""
    passwords: list[str] = []
    acl: list[str] = []
    for service in services:
        passwords.append(f"{service.username}:{service.password_hash}")
        acl.append(f"user {service.username}")
        acl.extend(f"topic read {t}" for t in service.read)
        acl.extend(f"topic write {t}" for t in service.write)
        acl.append("")
    acl.append(f"pattern write {topics.device_topic('%u', topics.TELEMETRY)}")
    acl.append(f"pattern write {topics.device_topic('%u', topics.CHECKIN)}")
    acl.append(f"pattern read {topics.device_topic('%u', topics.COMMANDS)}")
    passwords.extend(f"{a.username}:{a.password_hash}" for a in accounts)
    return "\n".join(passwords) + "\n", "\n".join(acl) + "\n"


@dataclass(frozen=True)
class BrokerFiles:
    """Where the broker reads its password and ACL files, and its pid file (SIGHUP reloads)."""

    password_file: Path
    acl_file: Path
    pid_file: Path | None = None

    def write(self, passwords: str, acl: str) -> bool:
        """Replace both files atomically (under a lock, for several servers on one host) and
        ask the broker to reload them; False when they were already so."""
        self.password_file.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.password_file.with_name(self.password_file.name + ".lock")
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _read(self.password_file) == passwords and _read(self.acl_file) == acl:
                return False
            for path, text in ((self.password_file, passwords), (self.acl_file, acl)):
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(text)
                tmp.chmod(0o600)
                tmp.replace(path)
            self.reload()
        return True

    def reload(self) -> None:
        if self.pid_file is None or not self.pid_file.exists():
            return
        text = self.pid_file.read_text().strip()
        if text.isdigit():
            # A broker that is not running reads the files when it starts.
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(text), signal.SIGHUP)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def config(
    *,
    port: int,
    files: BrokerFiles,
    host: str = "127.0.0.1",
    persistence_dir: Path | None = None,
    run_as: str | None = None,
) -> str:
    """A mosquitto.conf that uses these files: no anonymous clients, every topic by the ACL.
    Queues are unbounded for canyu's own persistent session, so telemetry waits (and is not
    lost) while the ingest restarts; the queue's memory is the limit, as docs/iot.md says."""
    lines = [
        "per_listener_settings false",
        f"listener {port} {host}",
        "allow_anonymous false",
        f"password_file {files.password_file}",
        f"acl_file {files.acl_file}",
        "max_queued_messages 0",
        "max_inflight_messages 0",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
    ]
    if run_as is not None:  # started as root, mosquitto otherwise becomes "mosquitto"
        lines.append(f"user {run_as}")
    if files.pid_file is not None:
        lines.append(f"pid_file {files.pid_file}")
    if persistence_dir is not None:
        lines += ["persistence true", f"persistence_location {persistence_dir}/"]
    return "\n".join(lines) + "\n"
