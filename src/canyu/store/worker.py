"""``canyu store worker``: writes the orders the Redis ledger enqueued, makes draws on time,
expires unpaid reservations.

Crash safety: events are read in a consumer group and acknowledged only after the transaction
that wrote them has committed; orders are inserted-or-ignored by their unique number. Killed
before the commit, the events are still pending and are read again on restart (or claimed by
another worker once idle); killed after the commit but before the acknowledgement, the re-read
inserts nothing. Expiry commits first and gives units back to Redis after, idempotently, and a
restart re-runs the give-back for every expired order.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import redis
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.db import Database, utcnow
from canyu.store import service
from canyu.store.ledger import DrawPending
from canyu.store.ledger_redis import RedisLedger, reserved_event
from canyu.store.models import Channel, Order, OrderStatus, Sale

log = logging.getLogger("canyu.store.worker")
GROUP = "writers"
HOUSEKEEPING_SECONDS = 1.0

Event = tuple[str, dict[str, str]]


def _at(ms: str) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def order_row(fields: dict[str, str]) -> dict[str, Any]:
    """An order row from a ``reserved`` event of the RESERVE script."""
    return {
        "number": fields["number"],
        "sale_id": int(fields["sale"]),
        "buyer_id": int(fields["buyer"]),
        "quantity": int(fields["qty"]),
        "channel": (Channel.FCODE if fields["fcode"] else Channel.QUEUE).value,
        "fcode_id": int(fields["fcode"]) if fields["fcode"] else None,
        "status": OrderStatus.RESERVED.value,
        "idempotency_key": fields["key"],
        "request_hash": fields["hash"],
        "unit_price": Decimal(fields["price"]),
        "currency": fields["currency"],
        "created_at": _at(fields["at"]),
        "expires_at": _at(fields["expires"]),
        "referrer_id": int(fields["referrer"]) if fields["referrer"] else None,
    }


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Order).on_conflict_do_nothing(), rows)


@dataclass
class WorkerStats:
    written: int = 0
    batches: int = 0
    expired: int = 0
    draws: int = 0


class OrderWriter:
    def __init__(
        self,
        database: Database,
        ledger: RedisLedger,
        *,
        consumer: str | None = None,
        batch: int = 500,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.database = database
        self.ledger = ledger
        self.client = ledger.client
        self.consumer = consumer or f"worker-{socket.gethostname()}"
        self.batch = batch
        self.claim_idle_ms = claim_idle_ms
        self.stats = WorkerStats()
        self.stop = threading.Event()

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.ledger.events, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # --- writing ------------------------------------------------------------------------------

    def write(self, events: list[Event]) -> None:
        """Commit the events' orders, then acknowledge them; a crash in between is harmless."""
        if not events:
            return
        reserved = [(event_id, e) for event_id, f in events if (e := reserved_event(f))]
        rows = [order_row(fields) for _id, fields in reserved]
        sold_out = [fields for _id, fields in reserved if fields["sold_out"]]
        with self.database.session() as session:
            self._drop_unknown_referrers(session, rows)
            try:
                with session.begin_nested():
                    _insert_ignoring_duplicates(session, rows)
            except IntegrityError:
                acked = self._write_one_by_one(session, reserved)
            else:
                acked = [event_id for event_id, _fields in events]
            for fields in sold_out:
                session.execute(
                    update(Sale)
                    .where(Sale.id == int(fields["sale"]), Sale.sold_out_at.is_(None))
                    .values(
                        sold_out_at=_at(fields["sold_out"]),
                        sold_out_units=int(fields["sold_units"]),
                    )
                )
        if acked:
            pipe = self.client.pipeline(transaction=False)
            pipe.xack(self.ledger.events, GROUP, *acked)
            pipe.xdel(self.ledger.events, *acked)
            pipe.execute()
        self.stats.written += len(acked)
        self.stats.batches += 1

    def _drop_unknown_referrers(self, session: Session, rows: list[dict[str, Any]]) -> None:
        referrers = {row["referrer_id"] for row in rows if row["referrer_id"] is not None}
        if not referrers:
            return
        known = set(session.scalars(select(User.id).where(User.id.in_(referrers))))
        for row in rows:
            if row["referrer_id"] not in known:
                row["referrer_id"] = None

    def _write_one_by_one(self, session: Session, events: list[Event]) -> list[str]:
        """A batch that broke a constraint: keep the good orders; a bad one stays pending (and
        logged) for a person to look at instead of being lost or blocking the rest."""
        acked = []
        for event_id, fields in events:
            try:
                with session.begin_nested():
                    _insert_ignoring_duplicates(session, [order_row(fields)])
                acked.append(event_id)
            except IntegrityError:
                log.error("order event %s cannot be written: %s", event_id, fields)
        return acked

    def _read(self, start: str, block_ms: int | None) -> list[Event]:
        reply = cast(
            list[tuple[str, list[Event]]],
            self.client.xreadgroup(
                GROUP, self.consumer, {self.ledger.events: start}, count=self.batch, block=block_ms
            ),
        )
        return [
            (event_id, fields) for _stream, entries in reply or [] for event_id, fields in entries
        ]

    def recover(self) -> None:
        """After a restart: our own unacknowledged events first, then every expired order's
        units back (idempotent), so nothing a crash interrupted stays half done."""
        while events := self._read("0", None):
            self.write(events)
        with self.database.session() as session:
            service.reconcile_releases(session, ledger=self.ledger)

    def claim_abandoned(self) -> None:
        """Events a dead worker read but never acknowledged."""
        _next, claimed, *_deleted = cast(
            list[Any],
            self.client.xautoclaim(
                self.ledger.events, GROUP, self.consumer, self.claim_idle_ms, count=self.batch
            ),
        )
        self.write([(event_id, fields) for event_id, fields in claimed if fields])

    # --- housekeeping -------------------------------------------------------------------------

    def housekeeping(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self.database.session() as session:
            for sale in service.due_draws(session, now=now):
                try:
                    service.draw_now(session, ledger=self.ledger, sale=sale, now=now)
                except DrawPending:
                    continue  # another process is making it; checked again next round
                self.stats.draws += 1
        with self.database.session() as session:
            self.stats.expired += service.expire_due(session, ledger=self.ledger, now=now)

    # --- running ------------------------------------------------------------------------------

    def drain(self) -> int:
        """Write everything enqueued so far (tests, benchmarks); returns events written."""
        before = self.stats.written
        while events := self._read(">", None):
            self.write(events)
        return self.stats.written - before

    def run(self) -> None:
        self.ensure_group()
        self.recover()
        last_housekeeping = 0.0
        while not self.stop.is_set():
            self.write(self._read(">", 500))
            if time.monotonic() - last_housekeeping >= HOUSEKEEPING_SECONDS:
                self.claim_abandoned()
                self.housekeeping()
                last_housekeeping = time.monotonic()


def pending(ledger: RedisLedger) -> int:
    """Events enqueued and not yet acknowledged (written) by any worker."""
    length = cast(int, ledger.client.xlen(ledger.events))
    try:
        info = cast(list[dict[str, Any]], ledger.client.xinfo_groups(ledger.events))
    except redis.ResponseError:
        return length
    for group in info:
        if group["name"] == GROUP:
            lag = group.get("lag")
            return int(group["pending"]) + int(lag if lag is not None else 0)
    return length
