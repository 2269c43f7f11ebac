"""MQTT topics and messages of small devices: a pure module the server and the IoT client share.

A paired device logs in to the broker as ``d<device id>`` and may use only these topics (the
broker's ACL, rendered by canyu.iot.broker, says so):

- ``iot/<username>/telemetry`` (it publishes): its state, mode, build and a few readings;
- ``iot/<username>/checkin`` (it publishes): "which build should I run?", answered as an offer;
- ``iot/<username>/commands`` (it reads): commands from its owner, update offers, and its
  product's announcements ("check in now", published on ``canyu/<product>/<channel>/<country>``
  as for phones, canyu.devices.topics) passed on to it by the ingest.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

ROOT = "iot"
TELEMETRY = "telemetry"
CHECKIN = "checkin"
COMMANDS = "commands"
# What an owner may ask of a device, and the values each takes.
ACTIONS: dict[str, tuple[str, ...]] = {
    "power": ("on", "off"),
    "mode": ("auto", "low", "high", "sleep"),
}
MAX_READINGS = 8
MAX_PAYLOAD = 1024
_USERNAME = re.compile(r"^d([1-9][0-9]{0,17})$")
_READING = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_VERSION = re.compile(r"^[0-9A-Za-z.+_-]{1,64}$")


def username(device_id: int) -> str:
    return f"d{device_id}"


def device_of(name: str) -> int | None:
    """The device id of a broker username, or None for any other name."""
    found = _USERNAME.fullmatch(name)
    return int(found.group(1)) if found else None


def device_topic(name: str, kind: str) -> str:
    return f"{ROOT}/{name}/{kind}"


def parse_device_topic(topic: str) -> tuple[int, str] | None:
    """(device id, kind) of ``iot/d<id>/<kind>``; None for anything else."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != ROOT or parts[2] not in (TELEMETRY, CHECKIN, COMMANDS):
        return None
    device_id = device_of(parts[1])
    return None if device_id is None else (device_id, parts[2])


ANNOUNCEMENTS = "canyu/+/+/+"  # every product's (canyu.devices.topics.topic's shape)
CHECK_IN_NOW = {"check_in": True}


@dataclass(frozen=True)
class Telemetry:
    """One telemetry message: ``{"state": "on", "mode": "auto", "version": "1.0.0",
    "readings": {"pm25": 12.5}, "t": 1733400000000}`` (``t``: the device's clock, ms)."""

    state: str | None
    mode: str | None
    version: str | None
    readings: dict[str, float]
    sent_ms: int | None = None

    def payload(self) -> bytes:
        body: dict[str, Any] = {"state": self.state, "mode": self.mode, "version": self.version}
        body["readings"] = self.readings
        if self.sent_ms is not None:
            body["t"] = self.sent_ms
        return json.dumps(body, separators=(",", ":")).encode()


class BadMessage(ValueError):
    """A message that is not what its topic carries."""


# A device's state is what the "power" command sets.
_CHOICES = {"state": ACTIONS["power"], "mode": ACTIONS["mode"]}


def _choice(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in _CHOICES[key]:
        raise BadMessage(f"{key} must be one of {', '.join(_CHOICES[key])}")
    return value


def _object(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise BadMessage(f"a message has at most {MAX_PAYLOAD} bytes")
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise BadMessage("not JSON") from None
    if not isinstance(body, dict):
        raise BadMessage("not a JSON object")
    return body


def version_of(body: dict[str, Any]) -> str | None:
    version = body.get("version")
    if version is None:
        return None
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise BadMessage("version must be a build number")
    return version


def parse_telemetry(payload: bytes) -> Telemetry:
    """The telemetry in a message's bytes; BadMessage for anything else."""
    body = _object(payload)
    readings = body.get("readings") or {}
    if not isinstance(readings, dict) or len(readings) > MAX_READINGS:
        raise BadMessage(f"readings must be an object of at most {MAX_READINGS} numbers")
    clean: dict[str, float] = {}
    for name, value in readings.items():
        if (
            not _READING.fullmatch(name)
            or isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise BadMessage("a reading is a short lower-case name and a finite number")
        clean[name] = float(value)
    sent = body.get("t")
    if sent is not None and (isinstance(sent, bool) or not isinstance(sent, int)):
        raise BadMessage("t must be milliseconds since 1970")
    return Telemetry(
        state=_choice(body, "state"),
        mode=_choice(body, "mode"),
        version=version_of(body),
        readings=clean,
        sent_ms=sent,
    )


def parse_checkin(payload: bytes) -> str | None:
    """The build a check-in message says the device runs."""
    return version_of(_object(payload))


def command_message(command_id: int, action: str, value: str) -> dict[str, Any]:
    return {"type": "command", "id": command_id, "action": action, "value": value}
