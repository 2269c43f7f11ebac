"""Pushes to devices over MQTT: a message on ``canyu/<product>/<channel>/<country>`` tells the
devices there to check in now. Without a broker configured, devices simply poll.

Publishing never fails the request that caused it: it happens after the database commit, in a
background thread, and a broker that is down is logged, not raised.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

import paho.mqtt.publish as mqtt_publish
from sqlalchemy import event
from sqlalchemy.orm import Session

from canyu.devices.topics import parse_mqtt_url

if TYPE_CHECKING:
    from paho.mqtt.publish import AuthParameter

log = logging.getLogger("canyu.push")

Message = tuple[str, dict[str, Any]]


class Pusher(Protocol):
    def publish(self, messages: Sequence[Message]) -> None: ...


class NullPusher:
    """No broker: devices poll."""

    def publish(self, messages: Sequence[Message]) -> None:
        return None


def mqtt_auth(url: str) -> AuthParameter | None:
    """The broker account in ``mqtt://user:password@host:port``, if the URL names one (a broker
    with per-device accounts, canyu.iot.broker, refuses anonymous publishers)."""
    parts = urlsplit(url)
    if not parts.username:
        return None
    auth: AuthParameter = {"username": unquote(parts.username)}
    if parts.password is not None:
        auth["password"] = unquote(parts.password)
    return auth


class MqttPusher:
    """Publishes with QoS 1 through paho-mqtt, one short connection per batch."""

    def __init__(self, url: str, *, wait: bool = False) -> None:
        self.host, self.port = parse_mqtt_url(url)
        self.auth = mqtt_auth(url)
        self.wait = wait  # publish in the caller's thread (tests, CLI) instead of a background one
        self.sent = 0

    def _send(self, messages: Sequence[Message]) -> None:
        batch: list[mqtt_publish.MessageDict] = [
            {"topic": t, "payload": json.dumps(p, separators=(",", ":")), "qos": 1}
            for t, p in messages
        ]
        try:
            mqtt_publish.multiple(
                list(batch),
                hostname=self.host,
                port=self.port,
                keepalive=10,
                auth=self.auth,
            )
            self.sent += len(batch)
        except OSError as exc:
            log.warning("MQTT broker %s:%s unreachable: %s", self.host, self.port, exc)

    def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        if self.wait:
            self._send(list(messages))
            return
        threading.Thread(
            target=self._send, args=(list(messages),), name="canyu-mqtt", daemon=True
        ).start()


def pusher_for(mqtt_url: str) -> Pusher:
    return MqttPusher(mqtt_url) if mqtt_url else NullPusher()


def publish_after_commit(session: Session, pusher: Pusher, messages: Sequence[Message]) -> None:
    """Send once the session's transaction commits (never for a rolled-back change)."""
    if not messages:
        return
    pending: list[Message] = session.info.setdefault("canyu_pushes", [])
    if not pending:

        def flush(committed: Session) -> None:
            queued: list[Message] = committed.info.pop("canyu_pushes", [])
            pusher.publish(queued)

        def drop(rolled_back: Session) -> None:
            rolled_back.info.pop("canyu_pushes", None)

        event.listen(session, "after_commit", flush, once=True)
        event.listen(session, "after_rollback", drop, once=True)
    pending.extend(messages)
