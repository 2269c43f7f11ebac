"""The phone's service state, kept across restarts: the friend's call rules and contacts, which
spam packs and SMS model it holds (with their SHA-256), its notices and when each was last
synced.

The file is authenticated: ``phone.json`` holds the state and an HMAC-SHA256 of it under a
random key made on first use (``phone.key``, mode 0600, like the device token beside it). A file
that does not parse or whose HMAC does not match (a bit flipped in flash, an edit by anything
without the key) is refused, never trusted: the phone starts from an empty state and fetches its
packs and model again through TUF. The packs and the model are files of their own; each is
checked against the SHA-256 recorded here before it is used, and refused the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from canyu.client.rules import Rules

STATE_FILE = "phone.json"
KEY_FILE = "phone.key"
MAX_INBOX = 200  # notices kept on the phone


class StateRefused(Exception):
    """The state file is corrupt or was changed without the key."""


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


@dataclass
class HeldFile:
    """A verified file the phone holds: its version and SHA-256 when it was installed."""

    path: str  # relative to the device's home
    version: int
    sha256: str


@dataclass
class PhoneState:
    rules: Rules = field(default_factory=Rules)
    packs: dict[str, HeldFile] = field(default_factory=dict)  # region -> pack
    sms: dict[str, HeldFile] = field(default_factory=dict)  # language -> model
    sms_language: str = "en"
    inbox: list[dict[str, Any]] = field(default_factory=list)
    last_notice: int = 0
    synced: dict[str, float] = field(default_factory=dict)  # what -> epoch seconds

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rules"] = self.rules.as_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhoneState:
        return cls(
            rules=Rules.from_json(data.get("rules", {})),
            packs={k: HeldFile(**v) for k, v in data.get("packs", {}).items()},
            sms={k: HeldFile(**v) for k, v in data.get("sms", {}).items()},
            sms_language=str(data.get("sms_language", "en")),
            inbox=list(data.get("inbox", [])),
            last_notice=int(data.get("last_notice", 0)),
            synced={str(k): float(v) for k, v in data.get("synced", {}).items()},
        )

    def add_notices(self, notices: list[dict[str, Any]]) -> int:
        known = {n["id"] for n in self.inbox}
        fresh = [n for n in notices if n["id"] not in known]
        self.inbox = (self.inbox + fresh)[-MAX_INBOX:]
        if notices:
            self.last_notice = max(self.last_notice, *(int(n["id"]) for n in notices))
        return len(fresh)


class StateStore:
    """Reads and writes ``phone.json`` under ``home`` with its HMAC."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / STATE_FILE
        self.key_path = home / KEY_FILE

    def _key(self) -> bytes:
        if not self.key_path.exists():
            write_atomic(self.key_path, secrets.token_bytes(32))
        return self.key_path.read_bytes()

    @staticmethod
    def _canonical(payload: dict[str, Any]) -> bytes:
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    def load(self) -> PhoneState:
        """The saved state, a fresh one when there is none; StateRefused when it does not
        verify."""
        if not self.path.exists():
            return PhoneState()
        try:
            wrapper = json.loads(self.path.read_bytes())
            payload, mac = wrapper["state"], str(wrapper["hmac"])
            expected = hmac.new(self._key(), self._canonical(payload), "sha256").hexdigest()
        except (ValueError, KeyError, TypeError) as exc:
            raise StateRefused(f"{self.path} is not a phone state file: {exc}") from None
        if not hmac.compare_digest(mac, expected):
            raise StateRefused(f"{self.path} was changed: its HMAC does not match")
        try:
            return PhoneState.from_json(payload)
        except (ValueError, KeyError, TypeError) as exc:
            raise StateRefused(f"{self.path} holds a bad state: {exc}") from None

    def save(self, state: PhoneState) -> None:
        payload = state.as_json()
        mac = hmac.new(self._key(), self._canonical(payload), "sha256").hexdigest()
        write_atomic(self.path, json.dumps({"state": payload, "hmac": mac}, indent=1).encode())

    def held_file_ok(self, held: HeldFile) -> bool:
        """Whether a held pack or model is still the file that was verified and installed."""
        return sha256_file(self.home / held.path) == held.sha256
