"""Store rules: the queue."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.errors import Conflict, Forbidden, InvalidInput, NotFound
from canyu.store import delivery
from canyu.store.ledger import (
    Ledger,
    NotYourTurn,
    PurchaseRequest,
    Released,
    Reservation,
    SaleTerms,
    SoldOut,
    Spot,
    SqlLedger,
)
from canyu.store.models import (
    FCode,
    Order,
    OrderStatus,
)
from canyu.store.payments import PaymentProvider
from canyu.store.service.common import _FCODE, _IDEMPOTENCY_KEY, _ORDER_NUMBER, MAX_QUANTITY, _now
from canyu.store.service.rewards import _credit_referrer
from canyu.store.service.sales import get_sale


def join_queue(
    session: Session, *, ledger: Ledger, sale_id: int, user: User, now: datetime | None = None
) -> Spot:
    sale = get_sale(session, sale_id=sale_id)
    # Only buyers in the sale's country queue (and so get a sale pass, which the purchase
    # lane asks for); F-code buyers, who need not queue, are checked in reserve().
    delivery.require_country(sale_country=sale.listing.country, buyer_country=user.country)
    return ledger.join(session, SaleTerms.of(sale), buyer_id=user.id, now=_now(now))


def request_hash(*, sale_id: int, quantity: int, fcode: str | None) -> str:
    """What makes two purchase requests "the same" for an idempotency key."""
    canonical = json.dumps({"sale": sale_id, "quantity": quantity, "fcode": fcode or ""})
    return hashlib.sha256(canonical.encode()).hexdigest()


def purchase_request(
    *,
    sale_id: int,
    buyer_id: int,
    quantity: int,
    idempotency_key: str | None,
    fcode: str | None = None,
    fcode_id: int | None = None,
    referrer_id: int | None = None,
) -> PurchaseRequest:
    """Validate what a buyer sent; no database needed (the Redis hot path uses this alone)."""
    if not idempotency_key or not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise InvalidInput(
            "Send an Idempotency-Key header of 8 to 64 letters, digits or _.:- "
            "(a new one per purchase, the same one when retrying).",
            details={"field": "Idempotency-Key"},
        )
    if quantity < 1:
        raise InvalidInput("Buy at least one unit.", details={"field": "quantity"})
    if quantity > MAX_QUANTITY:
        raise InvalidInput(
            f"At most {MAX_QUANTITY} units per purchase.", details={"field": "quantity"}
        )
    return PurchaseRequest(
        sale_id=sale_id,
        buyer_id=buyer_id,
        quantity=quantity,
        idempotency_key=idempotency_key,
        request_hash=request_hash(sale_id=sale_id, quantity=quantity, fcode=fcode),
        fcode_id=fcode_id,
        # Nobody refers themself; other second-account checks happen when the order is paid.
        referrer_id=referrer_id if referrer_id != buyer_id else None,
    )


def fcode_for(session: Session, *, sale_id: int, buyer_id: int, code: str) -> FCode:
    wanted = code.strip().upper()
    fcode = (
        session.scalar(select(FCode).where(FCode.code == wanted)) if _FCODE.match(wanted) else None
    )
    if fcode is None or fcode.sale_id != sale_id:
        raise InvalidInput("This F-code does not exist for this sale.", details={"field": "fcode"})
    if fcode.user_id != buyer_id:
        raise Forbidden("This F-code belongs to another friend.")
    return fcode


def reserve(
    session: Session,
    *,
    ledger: Ledger,
    sale_id: int,
    buyer_id: int,
    quantity: int,
    idempotency_key: str | None,
    fcode: str | None = None,
    referrer_id: int | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold units for the buyer's checkout window, or raise why not (sold out, not your turn,
    over the limit ...). A retry with the same key returns the same reservation."""
    now = _now(now)
    sale = get_sale(session, sale_id=sale_id)
    fcode_row = (
        fcode_for(session, sale_id=sale_id, buyer_id=buyer_id, code=fcode) if fcode else None
    )
    if fcode_row is not None:
        buyer = session.get(User, buyer_id)
        delivery.require_country(
            sale_country=sale.listing.country, buyer_country=buyer.country if buyer else ""
        )
    request = purchase_request(
        sale_id=sale_id,
        buyer_id=buyer_id,
        quantity=quantity,
        idempotency_key=idempotency_key,
        fcode=fcode_row.code if fcode_row else None,
        fcode_id=fcode_row.id if fcode_row else None,
        referrer_id=referrer_id,
    )
    terms = SaleTerms.of(sale)
    try:
        return ledger.reserve(session, terms, request, now=now)
    except (SoldOut, NotYourTurn):
        # The embedded ledger has no worker: give back expired units now, then try once more.
        if isinstance(ledger, SqlLedger) and expire_due(
            session, ledger=ledger, sale_id=sale_id, now=now
        ):
            return ledger.reserve(session, terms, request, now=now)
        raise


def get_order(session: Session, *, number: str, buyer_id: int) -> Order:
    order = (
        session.scalar(select(Order).where(Order.number == number))
        if _ORDER_NUMBER.match(number)
        else None
    )
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(
            "No such order yet. A reservation just made is written within a second; retry."
        )
    return order


def orders_for(session: Session, *, buyer_id: int, limit: int = 100) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.buyer_id == buyer_id)
            .order_by(Order.created_at.desc())
            .limit(limit)
        )
    )


class ReservationExpired(Conflict):
    code = "reservation_expired"


def pay(
    session: Session,
    *,
    provider: PaymentProvider,
    order_number: str,
    buyer_id: int,
    payment_token: str,
    address: delivery.Address,
    now: datetime | None = None,
) -> Order:
    """Charge a reservation inside its window, delivered to ``address`` (checked first: in the
    sale's country); paying twice returns the paid order."""
    now = _now(now)
    order = get_order(session, number=order_number, buyer_id=buyer_id)
    if order.status == OrderStatus.PAID:
        return order
    to = delivery.checked(address, sale_country=order.sale.listing.country)
    if order.status == OrderStatus.EXPIRED or order.expires_at <= now:
        raise ReservationExpired(
            "This reservation expired and its unit went back to the sale.",
            details={"expired_at": order.expires_at.isoformat()},
        )
    charge = provider.charge(
        idempotency_key=order.number,
        amount=order.total,
        currency=order.currency,
        payment_token=payment_token,
    )
    paid = session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.status == OrderStatus.RESERVED.value,
            Order.expires_at > now,
        )
        .values(
            status=OrderStatus.PAID.value,
            paid_at=now,
            payment_ref=charge.reference,
            payment_fingerprint=charge.fingerprint,
            delivery_name=to.name,
            delivery_phone=to.phone,
            delivery_line=to.line,
            delivery_city=to.city,
            delivery_postcode=to.postcode,
            delivery_country=to.country,
        )
    )
    if getattr(paid, "rowcount", 0) != 1:
        provider.refund(reference=charge.reference)
        raise ReservationExpired("This reservation expired while paying; you were refunded.")
    session.refresh(order)
    _credit_referrer(session, order=order)
    return order


def expire_due(
    session: Session,
    *,
    ledger: Ledger,
    sale_id: int | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> int:
    """Expire unpaid reservations past their window and give their units back. Commits: with
    Redis the units go back only once the expiry is durable, never before."""
    now = _now(now)
    query = select(Order).where(Order.status == OrderStatus.RESERVED.value, Order.expires_at <= now)
    if sale_id is not None:
        query = query.where(Order.sale_id == sale_id)
    by_sale: dict[int, list[Released]] = {}
    for order in session.scalars(query.order_by(Order.expires_at).limit(limit)):
        marked = session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == OrderStatus.RESERVED.value)
            .values(status=OrderStatus.EXPIRED.value, expired_at=now)
        )
        if getattr(marked, "rowcount", 0) == 1:
            by_sale.setdefault(order.sale_id, []).append(_released(order))
    if isinstance(ledger, SqlLedger):
        _release(session, ledger=ledger, by_sale=by_sale)
        session.commit()
    else:
        session.commit()
        _release(session, ledger=ledger, by_sale=by_sale)
    return sum(len(items) for items in by_sale.values())


def _released(order: Order) -> Released:
    return Released(
        number=order.number,
        buyer_id=order.buyer_id,
        quantity=order.quantity,
        channel=order.channel,
        fcode_id=order.fcode_id,
    )


def _release(session: Session, *, ledger: Ledger, by_sale: dict[int, list[Released]]) -> None:
    for sale_id, items in by_sale.items():
        ledger.release(session, SaleTerms.of(get_sale(session, sale_id=sale_id)), items)


def reconcile_releases(session: Session, *, ledger: Ledger) -> int:
    """Give back (again) the units of every expired order: release is idempotent per order, so
    this repairs a crash between committing an expiry and releasing its units."""
    by_sale: dict[int, list[Released]] = {}
    for order in session.scalars(select(Order).where(Order.status == OrderStatus.EXPIRED.value)):
        by_sale.setdefault(order.sale_id, []).append(_released(order))
    _release(session, ledger=ledger, by_sale=by_sale)
    return sum(len(items) for items in by_sale.values())
