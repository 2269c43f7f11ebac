"""The telemetry ingest: canyu's consumer of every small device's telemetry and check-ins.

It subscribes through a shared subscription (several servers split the stream), keeps messages
in memory until a batch is full or old enough, writes the batch in one transaction (one
multi-row insert), and only then acknowledges the messages to the broker (MQTT 5, QoS 1, manual
acknowledgements): a message the database did not take is not acknowledged, so the broker sends
it again after a reconnect. A message is attributed to the device its topic names, which the
broker's ACL lets only that device's account publish to; a topic of a device whose credentials
do not stand, or a payload that is not telemetry, is dropped and counted.

Check-ins (``iot/<username>/checkin``) are answered on the device's commands topic with the
same answer an HTTP check-in gets (canyu.releases.checkin.answer), and a product's
announcement ("check in now" on ``canyu/<product>/<channel>/<country>``) is passed on to the
commands topic of each of its small devices there.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from canyu.db import Database, unavailable, utcnow
from canyu.devices.push import mqtt_auth
from canyu.devices.topics import parse_mqtt_url
from canyu.errors import Unauthorized
from canyu.iot import service, topics
from canyu.iot.settings import IotSettings
from canyu.releases import checkin
from canyu.releases import service as releases
from canyu.releases.offers import OfferBook

log = logging.getLogger("canyu.iot.ingest")
SHARE = "$share/canyu-ingest"
CLIENT_PREFIX = "canyu-ingest"


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    mid: int
    qos: int


@dataclass
class IngestStats:
    stored: int = 0
    checkins: int = 0
    batches: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    # Milliseconds from the device's clock (``t``) to the batch's commit, when it sent one.
    lags_ms: list[float] = field(default_factory=list)


class TelemetryIngest:
    """Start with :meth:`start`, stop with :meth:`stop` (which writes what it holds first)."""

    def __init__(
        self,
        database: Database,
        *,
        server_url: str,
        settings: IotSettings,
        offers: OfferBook | None = None,
        poll_seconds: int = 3600,
        name: str = "1",
        keep_lags: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.settings = settings
        self.offers = offers or OfferBook()
        self.poll_seconds = poll_seconds
        self.keep_lags = keep_lags
        self.clock = clock
        self.stats = IngestStats()
        self.host, self.port = parse_mqtt_url(server_url)
        self.inbox: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self.known: dict[int, service.Known] = {}
        self._known_at = float("-inf")
        self._looked_at: datetime | None = None
        self._writer: threading.Thread | None = None
        self._subscribed = threading.Event()
        # A persistent session under a fixed name: while this consumer is away, the broker
        # keeps its QoS 1 messages (and sends the unacknowledged ones again).
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{CLIENT_PREFIX}-{name}",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        auth = mqtt_auth(server_url)
        if auth is not None:
            self.client.username_pw_set(auth["username"], auth.get("password"))
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    # --- the broker's side -------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the ingest: %s", reason)
            return
        client.subscribe(
            [
                (f"{SHARE}/{topics.ROOT}/+/{topics.TELEMETRY}", 1),
                (f"{SHARE}/{topics.ROOT}/+/{topics.CHECKIN}", 1),
                (f"{SHARE}/{topics.ANNOUNCEMENTS}", 1),
            ]
        )

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:  # paho reconnects; the broker sends the unacknowledged again
            log.warning("the ingest lost the broker (%s); reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.put(Message(message.topic, bytes(message.payload), message.mid, message.qos))

    def start(self, *, wait: float = 10.0) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 7 * 24 * 3600
        # Acknowledged by batch: let a few batches be in flight. Unacknowledged messages are
        # sent again after a reconnect, so this also bounds the duplicates one can cause.
        properties.ReceiveMaximum = 4 * self.settings.batch_size
        self.client.connect(
            self.host, self.port, keepalive=30, clean_start=False, properties=properties
        )
        self.client.loop_start()
        self._writer = threading.Thread(target=self._write_loop, name="canyu-iot-ingest")
        self._writer.daemon = True
        self._writer.start()
        if not self._subscribed.wait(wait):
            raise RuntimeError(f"the ingest could not subscribe at {self.host}:{self.port}")

    def stop(self) -> None:
        self.inbox.put(None)
        if self._writer is not None:
            self._writer.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()

    # --- the database's side ------------------------------------------------------------------

    def _refresh_known(self) -> None:
        """Read every standing device once, then only the revocations since the last look
        (every ``known_refresh_seconds``): a fleet of a million is not read again and again."""
        now = time.monotonic()
        if now - self._known_at < self.settings.known_refresh_seconds:
            return
        looked = utcnow()
        with self.database.session() as session:
            if self._looked_at is None:
                self.known = service.known_devices(session)
            else:
                for device_id in service.revoked_since(session, since=self._looked_at):
                    self.known.pop(device_id, None)
        self._known_at, self._looked_at = now, looked - timedelta(seconds=1)

    def _learn(self, device_ids: set[int]) -> None:
        """Devices paired since the last look (their first messages), one query a batch."""
        with self.database.session() as session:
            self.known.update(service.known_devices(session, ids=sorted(device_ids)))

    def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            batch: list[Message] = []
            first = self.inbox.get()
            if first is None:
                break
            batch.append(first)
            deadline = time.monotonic() + self.settings.batch_seconds
            while len(batch) < self.settings.batch_size:
                left = deadline - time.monotonic()
                try:
                    item = (
                        self.inbox.get(timeout=max(left, 0.0))
                        if left > 0
                        else self.inbox.get_nowait()
                    )
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._write_until_stored(batch)

    def _write_until_stored(self, batch: list[Message]) -> None:
        """Write the batch, waiting out a database outage (the messages stay unacknowledged)."""
        wait = 0.5
        while True:
            try:
                self.write(batch)
                return
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("a telemetry batch failed; its messages are not acknowledged")
                    return
                log.warning("database unavailable, telemetry waits %.1f s: %s", wait, exc)
                time.sleep(wait)
                wait = min(wait * 2, 10.0)

    def write(self, batch: list[Message]) -> None:
        """Store one batch in one transaction, then acknowledge it and answer its check-ins."""
        self._refresh_known()
        now = utcnow()
        rows: list[tuple[Any, ...]] = []
        seen: dict[int, str | None] = {}
        checkins: list[tuple[int, str | None]] = []
        dropped: Counter[str] = Counter()
        sent: list[int] = []
        announced: list[str] = []
        addressed = [(m, topics.parse_device_topic(m.topic)) for m in batch]
        unknown = {p[0] for _m, p in addressed if p is not None and p[0] not in self.known}
        if unknown:
            self._learn(unknown)
        for message, parsed in addressed:
            if message.topic.startswith("canyu/"):
                announced.append(message.topic)
                continue
            if parsed is None or parsed[1] == topics.COMMANDS:
                dropped["topic"] += 1
                continue
            device_id, kind = parsed
            known = self.known.get(device_id)
            if known is None:
                dropped["unknown_device"] += 1
                continue
            try:
                if kind == topics.CHECKIN:
                    checkins.append((device_id, topics.parse_checkin(message.payload)))
                    continue
                telemetry = topics.parse_telemetry(message.payload)
            except topics.BadMessage:
                dropped["malformed"] += 1
                continue
            rows.append(
                (
                    device_id,
                    telemetry.state,
                    telemetry.mode,
                    telemetry.version,
                    json.dumps(telemetry.readings, separators=(",", ":")),
                    telemetry.sent_ms,
                )
            )
            if telemetry.sent_ms is not None:
                sent.append(telemetry.sent_ms)
            if service.sighting_due(known, telemetry.version, now):
                seen[device_id] = telemetry.version
        answers: list[tuple[str, bytes]] = []
        with self.database.session() as session:
            service.store_telemetry(session, received_at=now, rows=rows)
            service.record_sightings(session, seen)
            for device_id, version in checkins:
                answers.append(self._answer(session, device_id, version))
            session.commit()
        committed_ms = self.clock() * 1000
        self._remember_sightings(seen, now)
        for message in batch:
            if message.qos:
                self.client.ack(message.mid, message.qos)
        answers.extend(self._pass_on(announced))
        for topic, payload in answers:
            self.client.publish(topic, payload, qos=1)
        self.stats.stored += len(rows)
        self.stats.checkins += len(checkins)
        self.stats.batches += 1
        self.stats.dropped.update(dropped)
        if self.keep_lags:
            self.stats.lags_ms.extend(committed_ms - t for t in sent)

    def _pass_on(self, announced: list[str]) -> list[tuple[str, bytes]]:
        """A product's "check in now", passed on to each of its small devices there (a device
        reads only its own topics)."""
        if not announced:
            return []
        scopes = set(announced)
        ask = json.dumps(topics.CHECK_IN_NOW).encode()
        return [
            (topics.device_topic(topics.username(device_id), topics.COMMANDS), ask)
            for device_id, known in self.known.items()
            if known.scope in scopes
        ]

    def _answer(self, session: Any, device_id: int, version: str | None) -> tuple[str, bytes]:
        known = self.known[device_id]
        try:
            offer = releases.check_in(
                session, token_digest=known.token_hash, version=version, offers=self.offers
            )
        except Unauthorized:  # revoked since the last refresh
            offer = None
        username = topics.username(device_id)
        return (
            topics.device_topic(username, topics.COMMANDS),
            checkin.answer(offer, self.poll_seconds),
        )

    def _remember_sightings(self, seen: dict[int, str | None], now: datetime) -> None:
        for device_id, version in seen.items():
            known = self.known.get(device_id)
            if known is not None:
                self.known[device_id] = service.Known(
                    known.scope, known.token_hash, version or known.current_version, now
                )
