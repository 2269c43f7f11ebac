"""The stock ledger: who is in a sale's queue, who holds which units, and never more than stock.

Two implementations share one contract (``Ledger``):

- ``SqlLedger`` (the embedded default): atomic conditional updates in the database, e.g.
  ``UPDATE store_sales SET taken = taken + :q WHERE id = :id AND taken + :q <= :stock``; the
  order row is written in the same transaction, so a crash loses or duplicates nothing.
- ``RedisLedger`` (``canyu.store.ledger_redis``, when ``CANYU_REDIS_URL`` is set): one Lua
  script per decision, orders enqueued on a stream that ``canyu store worker`` writes.

The refusals (sold out, over the limit ...) are ``CanyuError`` subclasses with their own codes,
raised the same way by both.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.errors import CanyuError, Conflict
from canyu.store import lottery
from canyu.store.models import Channel, FCode, Order, OrderStatus, Sale, SaleDraw, SaleEntry

# --- refusals -----------------------------------------------------------------------------


class QueueNotOpen(Conflict):
    code = "queue_not_open"


class NotStarted(Conflict):
    code = "not_started"


class NotInQueue(Conflict):
    code = "not_in_queue"


class NotYourTurn(Conflict):
    code = "not_your_turn"


class SoldOut(Conflict):
    code = "sold_out"


class OverLimit(Conflict):
    code = "over_limit"


class FCodeUsed(Conflict):
    code = "fcode_used"


class IdempotencyMismatch(CanyuError):
    # As in the IETF Idempotency-Key draft: the key was used with a different request.
    status_code = 422
    code = "idempotency_mismatch"


class DrawPending(CanyuError):
    """The start has passed and the draw is being made right now; retry in a moment."""

    status_code = 503
    code = "draw_pending"


class LedgerUnavailable(CanyuError):
    status_code = 503
    code = "ledger_unavailable"


# --- values ---------------------------------------------------------------------------------


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class SaleTerms:
    """What the ledger needs to know about a sale; copied into Redis when a sale opens."""

    sale_id: int
    queue_opens_at: datetime
    starts_at: datetime
    public_stock: int
    fcode_stock: int
    buyer_limit: int
    hold_seconds: int
    unit_price: Decimal
    currency: str

    @classmethod
    def of(cls, sale: Sale) -> SaleTerms:
        return cls(
            sale_id=sale.id,
            queue_opens_at=sale.queue_opens_at,
            starts_at=sale.starts_at,
            public_stock=sale.public_stock,
            fcode_stock=sale.fcode_stock,
            buyer_limit=sale.buyer_limit,
            hold_seconds=sale.hold_seconds,
            unit_price=sale.listing.price,
            currency=sale.listing.currency,
        )

    def admitted_upto(self, *, released: int, now: datetime) -> int:
        """Queue positions allowed to reserve: one per public unit, one more per unit that came
        back, and the next stock-sized batch each checkout window (so no-shows cannot stall)."""
        windows = max(0, math.floor((now - self.starts_at) / timedelta(seconds=self.hold_seconds)))
        return self.public_stock * (1 + windows) + released


@dataclass(frozen=True)
class PurchaseRequest:
    """A validated purchase: ``request_hash`` tells a retry from a different request."""

    sale_id: int
    buyer_id: int
    quantity: int
    idempotency_key: str
    request_hash: str
    fcode_id: int | None = None
    referrer_id: int | None = None
    number: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def channel(self) -> Channel:
        return Channel.FCODE if self.fcode_id is not None else Channel.QUEUE


@dataclass(frozen=True)
class Reservation:
    number: str
    sale_id: int
    buyer_id: int
    quantity: int
    channel: str
    expires_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class Spot:
    """A friend's place: in the pre-queue draw, at a position, or not in the queue."""

    joined: bool
    in_draw: bool
    position: int | None


@dataclass(frozen=True)
class Snapshot:
    public_left: int
    fcode_left: int
    released: int
    entrants: int  # in the pre-queue draw
    queue_length: int  # arrivals after the start
    drawn: bool
    sold_out_at: datetime | None
    sold_out_units: int | None


@dataclass(frozen=True)
class Released:
    """An expired reservation whose units go back to the sale."""

    number: str
    buyer_id: int
    quantity: int
    channel: str
    fcode_id: int | None


class Ledger(Protocol):
    def open_sale(self, session: Session, terms: SaleTerms) -> None: ...

    def join(self, session: Session, terms: SaleTerms, *, buyer_id: int, now: datetime) -> Spot: ...

    def spot(self, session: Session, terms: SaleTerms, *, buyer_id: int) -> Spot: ...

    def draw(self, session: Session, sale: Sale, *, now: datetime) -> None: ...

    def reserve(
        self, session: Session, terms: SaleTerms, request: PurchaseRequest, *, now: datetime
    ) -> Reservation: ...

    def release(self, session: Session, terms: SaleTerms, released: Sequence[Released]) -> None: ...

    def snapshot(self, session: Session, terms: SaleTerms) -> Snapshot: ...


def refusal(code: str, terms: SaleTerms, **details: Any) -> CanyuError:
    """The error for a ledger's refusal code; both ledgers speak the same codes."""
    if code == "not_started":
        return NotStarted(
            "The sale has not started yet.", details={"starts_at": terms.starts_at.isoformat()}
        )
    if code == "queue_not_open":
        return QueueNotOpen(
            "The queue for this sale is not open yet.",
            details={"queue_opens_at": terms.queue_opens_at.isoformat()},
        )
    if code == "not_in_queue":
        return NotInQueue("Join the sale's queue before buying.")
    if code == "not_your_turn":
        return NotYourTurn(
            f"You are number {details['position']} in line; positions up to "
            f"{details['admitted']} may buy now. Keep this page open.",
            details=details,
        )
    if code == "sold_out":
        return SoldOut(
            "Sold out. Units of unpaid reservations come back when they expire.",
            details=details or None,
        )
    if code == "over_limit":
        return OverLimit(
            f"The limit is {terms.buyer_limit} per friend for this sale.",
            details={"limit": terms.buyer_limit, **details},
        )
    if code == "fcode_used":
        return FCodeUsed("This F-code has already been used.")
    if code == "draw_pending":
        return DrawPending("The draw is being made; retry in a second.")
    raise ValueError(f"unknown ledger refusal {code!r}")


def replay_or_mismatch(
    request: PurchaseRequest, *, stored_hash: str, reservation: Reservation
) -> Reservation:
    if stored_hash != request.request_hash:
        raise IdempotencyMismatch(
            "This Idempotency-Key was already used for a different purchase request; "
            "use a new key for a new request."
        )
    return reservation


# --- the embedded ledger ----------------------------------------------------------------------


def _reservation(order: Order, *, replayed: bool) -> Reservation:
    return Reservation(
        number=order.number,
        sale_id=order.sale_id,
        buyer_id=order.buyer_id,
        quantity=order.quantity,
        channel=order.channel,
        expires_at=order.expires_at,
        replayed=replayed,
    )


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class SqlLedger:
    """Atomic conditional updates; every guarantee holds inside one database transaction."""

    def open_sale(self, session: Session, terms: SaleTerms) -> None:
        """The counters are columns of the sale itself: nothing to set up."""

    def _entry(self, session: Session, sale_id: int, buyer_id: int) -> SaleEntry | None:
        return session.scalar(
            select(SaleEntry).where(SaleEntry.sale_id == sale_id, SaleEntry.user_id == buyer_id)
        )

    def spot(self, session: Session, terms: SaleTerms, *, buyer_id: int) -> Spot:
        entry = self._entry(session, terms.sale_id, buyer_id)
        if entry is None:
            return Spot(joined=False, in_draw=False, position=None)
        return Spot(joined=True, in_draw=entry.joined_at < terms.starts_at, position=entry.position)

    def join(self, session: Session, terms: SaleTerms, *, buyer_id: int, now: datetime) -> Spot:
        if now < terms.queue_opens_at:
            raise refusal("queue_not_open", terms)
        entry = self._entry(session, terms.sale_id, buyer_id)
        # An entry without a place comes from an F-code purchase: it may still queue.
        if entry is not None and (entry.position is not None or entry.joined_at < terms.starts_at):
            return self.spot(session, terms, buyer_id=buyer_id)
        position: int | None = None
        in_draw = False
        if now < terms.starts_at:
            # Counted only while the draw has not been made; the row lock orders us with it.
            counted = session.execute(
                update(Sale)
                .where(Sale.id == terms.sale_id, Sale.drawn_at.is_(None))
                .values(entrants=Sale.entrants + 1)
            )
            in_draw = _rowcount(counted) == 1
        if not in_draw:
            self.draw(session, session.get_one(Sale, terms.sale_id), now=now)
            row = session.execute(
                update(Sale)
                .where(Sale.id == terms.sale_id)
                .values(queue_length=Sale.queue_length + 1)
                .returning(Sale.entrants, Sale.queue_length)
            ).one()
            position = int(row[0]) + int(row[1])
        if entry is not None:
            entry.position = position
            session.flush()
            return Spot(joined=True, in_draw=False, position=position)
        try:
            with session.begin_nested():
                session.add(
                    SaleEntry(
                        sale_id=terms.sale_id, user_id=buyer_id, joined_at=now, position=position
                    )
                )
        except IntegrityError:
            # The same friend joined in a concurrent request: theirs stands.
            return self.spot(session, terms, buyer_id=buyer_id)
        return Spot(joined=True, in_draw=in_draw, position=position)

    def draw(self, session: Session, sale: Sale, *, now: datetime) -> None:
        if sale.drawn_at is not None or now < sale.starts_at:
            return
        claimed = session.execute(
            update(Sale).where(Sale.id == sale.id, Sale.drawn_at.is_(None)).values(drawn_at=now)
        )
        session.refresh(sale)
        if _rowcount(claimed) != 1:
            return
        entries = {
            user_id: entry_id
            for entry_id, user_id in session.execute(
                select(SaleEntry.id, SaleEntry.user_id).where(
                    SaleEntry.sale_id == sale.id,
                    SaleEntry.position.is_(None),
                    SaleEntry.joined_at < sale.starts_at,
                )
            )
        }
        order = lottery.draw_order(sale.seed, entries)
        if order:
            session.execute(
                update(SaleEntry),
                [{"id": entries[uid], "position": i} for i, uid in enumerate(order, start=1)],
            )
        session.add(
            SaleDraw(
                sale_id=sale.id,
                drawn_at=now,
                entrants=json.dumps(sorted(entries)),
                drawn_order=json.dumps(order),
            )
        )
        session.flush()

    def reserve(
        self, session: Session, terms: SaleTerms, request: PurchaseRequest, *, now: datetime
    ) -> Reservation:
        prior = self._prior(session, request)
        if prior is not None:
            return prior
        if now < terms.starts_at:
            raise refusal("not_started", terms)
        sale = session.get_one(Sale, terms.sale_id)
        self.draw(session, sale, now=now)
        entry = self._entry(session, terms.sale_id, request.buyer_id)
        if request.channel is Channel.QUEUE:
            if entry is None or entry.position is None:
                raise refusal("not_in_queue", terms)
            admitted = terms.admitted_upto(released=sale.released, now=now)
            if entry.position > admitted:
                if sale.taken >= terms.public_stock:
                    raise refusal("sold_out", terms, position=entry.position)
                raise refusal("not_your_turn", terms, position=entry.position, admitted=admitted)
        try:
            with session.begin_nested():
                return self._take(session, terms, request, entry, now=now)
        except (IntegrityError, OverLimit):
            # A concurrent request with the same key may have got there first: replay it.
            prior = self._prior(session, request)
            if prior is None:
                raise
            return prior

    def _prior(self, session: Session, request: PurchaseRequest) -> Reservation | None:
        order = session.scalar(
            select(Order).where(
                Order.sale_id == request.sale_id,
                Order.buyer_id == request.buyer_id,
                Order.idempotency_key == request.idempotency_key,
            )
        )
        if order is None:
            return None
        return replay_or_mismatch(
            request, stored_hash=order.request_hash, reservation=_reservation(order, replayed=True)
        )

    def _take(
        self,
        session: Session,
        terms: SaleTerms,
        request: PurchaseRequest,
        entry: SaleEntry | None,
        *,
        now: datetime,
    ) -> Reservation:
        q = request.quantity
        if entry is None:  # an F-code holder who never joined the queue
            entry = SaleEntry(sale_id=terms.sale_id, user_id=request.buyer_id, joined_at=now)
            session.add(entry)
            session.flush()
        held = session.execute(
            update(SaleEntry)
            .where(SaleEntry.id == entry.id, SaleEntry.held + q <= terms.buyer_limit)
            .values(held=SaleEntry.held + q)
        )
        if _rowcount(held) != 1:
            raise refusal("over_limit", terms, held=entry.held)
        if request.channel is Channel.QUEUE:
            taken = session.execute(
                update(Sale)
                .where(Sale.id == terms.sale_id, Sale.taken + q <= terms.public_stock)
                .values(taken=Sale.taken + q)
                .returning(Sale.taken, Sale.fcode_taken)
            ).first()
        else:
            used = session.execute(
                update(FCode)
                .where(FCode.id == request.fcode_id, FCode.order_number.is_(None))
                .values(order_number=request.number)
            )
            if _rowcount(used) != 1:
                raise refusal("fcode_used", terms)
            taken = session.execute(
                update(Sale)
                .where(Sale.id == terms.sale_id, Sale.fcode_taken + q <= terms.fcode_stock)
                .values(fcode_taken=Sale.fcode_taken + q)
                .returning(Sale.taken, Sale.fcode_taken)
            ).first()
        if taken is None:
            raise refusal("sold_out", terms)
        if request.channel is Channel.QUEUE and taken[0] == terms.public_stock:
            session.execute(
                update(Sale)
                .where(Sale.id == terms.sale_id, Sale.sold_out_at.is_(None))
                .values(sold_out_at=now, sold_out_units=int(taken[0]) + int(taken[1]))
            )
        order = Order(
            number=request.number,
            sale_id=terms.sale_id,
            buyer_id=request.buyer_id,
            quantity=q,
            channel=request.channel.value,
            fcode_id=request.fcode_id,
            status=OrderStatus.RESERVED.value,
            idempotency_key=request.idempotency_key,
            request_hash=request.request_hash,
            unit_price=terms.unit_price,
            currency=terms.currency,
            created_at=now,
            expires_at=now + timedelta(seconds=terms.hold_seconds),
            referrer_id=request.referrer_id,
        )
        session.add(order)
        session.flush()
        return _reservation(order, replayed=False)

    def release(self, session: Session, terms: SaleTerms, released: Sequence[Released]) -> None:
        """Give expired units back in the caller's transaction (which marked them expired)."""
        for item in released:
            session.execute(
                update(SaleEntry)
                .where(SaleEntry.sale_id == terms.sale_id, SaleEntry.user_id == item.buyer_id)
                .values(held=SaleEntry.held - item.quantity)
            )
            if item.channel == Channel.FCODE.value:
                session.execute(
                    update(FCode)
                    .where(FCode.id == item.fcode_id, FCode.order_number == item.number)
                    .values(order_number=None)
                )
                back = update(Sale).values(fcode_taken=Sale.fcode_taken - item.quantity)
            else:
                back = update(Sale).values(
                    taken=Sale.taken - item.quantity, released=Sale.released + item.quantity
                )
            session.execute(back.where(Sale.id == terms.sale_id))

    def snapshot(self, session: Session, terms: SaleTerms) -> Snapshot:
        sale = session.get_one(Sale, terms.sale_id)
        session.refresh(sale)
        return Snapshot(
            public_left=terms.public_stock - sale.taken,
            fcode_left=terms.fcode_stock - sale.fcode_taken,
            released=sale.released,
            entrants=sale.entrants,
            queue_length=sale.queue_length,
            drawn=sale.drawn_at is not None,
            sold_out_at=sale.sold_out_at,
            sold_out_units=sale.sold_out_units,
        )


def live_units(session: Session, *, sale_id: int) -> tuple[int, int]:
    """(units in paid orders, units in reservations not expired yet): together, what the
    ledger must count as taken."""
    rows = session.execute(
        select(Order.status, func.coalesce(func.sum(Order.quantity), 0))
        .where(
            Order.sale_id == sale_id,
            Order.status.in_((OrderStatus.PAID.value, OrderStatus.RESERVED.value)),
        )
        .group_by(Order.status)
    )
    totals = {status: int(units) for status, units in rows}
    return totals.get(OrderStatus.PAID.value, 0), totals.get(OrderStatus.RESERVED.value, 0)


def make_ledger(redis_url: str, *, prefix: str = "canyu:store:") -> Ledger:
    """The Redis ledger when a Redis URL is configured, the embedded SQL ledger otherwise."""
    if not redis_url:
        return SqlLedger()
    from canyu.store.ledger_redis import RedisLedger

    return RedisLedger(redis_url, prefix=prefix)
