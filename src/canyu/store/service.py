"""The store's rules: catalogue, flash sales, the queue, reservations, payment, expiry,
F-codes and referrals. Keyword-only functions that take a session; no HTTP here.

Which ledger decides (SQL or Redis) is the caller's choice, passed as ``ledger=``; the rules
around it (validation, idempotency hashing, payment, expiry) are the same for both.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community import service as community
from canyu.db import MAX_ID, utcnow
from canyu.errors import Conflict, Forbidden, InvalidInput, NotFound
from canyu.store import lottery
from canyu.store.ledger import (
    DrawPending,
    Ledger,
    NotYourTurn,
    PurchaseRequest,
    Released,
    Reservation,
    SaleTerms,
    Snapshot,
    SoldOut,
    Spot,
    SqlLedger,
    live_units,
)
from canyu.store.models import (
    FCode,
    Listing,
    Order,
    OrderStatus,
    Product,
    ReferralCredit,
    Sale,
    SaleDraw,
    Sku,
)
from canyu.store.money import local_currency
from canyu.store.payments import PaymentProvider

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_ORDER_NUMBER = re.compile(r"^[0-9a-f]{32}$")
_FCODE = re.compile(r"^F[0-9A-Z]{15}$")
MAX_LEAD = timedelta(days=366)
MAX_STOCK = 10_000_000
MAX_QUANTITY = 10


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _require_team(actor: User) -> None:
    if not actor.is_team:
        raise Forbidden("Only team members can do this.")


def _text(value: str, *, field: str, maximum: int, minimum: int = 1) -> str:
    cleaned = value.strip()
    if not minimum <= len(cleaned) <= maximum or "\x00" in cleaned:
        raise InvalidInput(
            f"{field.replace('_', ' ').capitalize()} has {minimum} to {maximum} characters.",
            details={"field": field},
        )
    return cleaned


# --- catalogue --------------------------------------------------------------------------------


def create_product(
    session: Session,
    *,
    actor: User,
    slug: str,
    name: str,
    name_zh: str = "",
    description: str = "",
    description_zh: str = "",
) -> Product:
    _require_team(actor)
    if not _SLUG.match(slug):
        raise InvalidInput(
            "A slug is lowercase letters, digits and dashes.", details={"field": "slug"}
        )
    product = Product(
        slug=slug,
        name=_text(name, field="name", maximum=120),
        name_zh=_text(name_zh, field="name_zh", maximum=120, minimum=0),
        description=_text(description, field="description", maximum=4000, minimum=0),
        description_zh=_text(description_zh, field="description_zh", maximum=4000, minimum=0),
    )
    try:
        with session.begin_nested():
            session.add(product)
    except IntegrityError as exc:
        raise Conflict(f"A product with slug {slug!r} exists.") from exc
    return product


def add_sku(session: Session, *, actor: User, product: Product, code: str, label: str) -> Sku:
    _require_team(actor)
    sku = Sku(
        product_id=product.id,
        code=_text(code, field="code", maximum=64),
        label=_text(label, field="label", maximum=120),
    )
    try:
        with session.begin_nested():
            session.add(sku)
    except IntegrityError as exc:
        raise Conflict(f"A SKU with code {code!r} exists.") from exc
    session.refresh(product)
    return sku


def set_listing(
    session: Session,
    *,
    actor: User,
    sku: Sku,
    country: str,
    price: Decimal | str,
    stock: int,
    currency: str | None = None,
) -> Listing:
    """Offer a SKU in a country (or change its price and stock there)."""
    _require_team(actor)
    country = accounts.check_country(country)
    try:
        amount = Decimal(str(price))
    except InvalidOperation:
        raise InvalidInput("The price is not a number.", details={"field": "price"}) from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        raise InvalidInput("The price must be above zero.", details={"field": "price"})
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("A price has at most two decimals.", details={"field": "price"})
    if not 0 <= stock <= MAX_STOCK:
        raise InvalidInput(f"Stock is 0 to {MAX_STOCK}.", details={"field": "stock"})
    code = (currency or local_currency(country)).upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidInput("A currency is an ISO 4217 code.", details={"field": "currency"})
    listing = session.scalar(
        select(Listing).where(Listing.sku_id == sku.id, Listing.country == country)
    )
    if listing is None:
        listing = Listing(sku_id=sku.id, country=country)
        session.add(listing)
    listing.currency, listing.price, listing.stock = code, amount, stock
    session.flush()
    return listing


def list_products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.id)))


def get_product(session: Session, *, slug: str) -> Product:
    product = (
        session.scalar(select(Product).where(Product.slug == slug)) if _SLUG.match(slug) else None
    )
    if product is None:
        raise NotFound(f"No product {slug!r}.")
    return product


def get_listing(session: Session, *, listing_id: int) -> Listing:
    listing = session.get(Listing, listing_id) if 0 < listing_id <= MAX_ID else None
    if listing is None:
        raise NotFound(f"No listing {listing_id}.")
    return listing


# --- sales --------------------------------------------------------------------------------------


def create_sale(
    session: Session,
    *,
    actor: User,
    ledger: Ledger,
    listing_id: int,
    starts_at: datetime,
    stock: int,
    title: str = "",
    fcode_stock: int = 0,
    buyer_limit: int = 1,
    hold_minutes: int = 15,
    prequeue_minutes: int = 10,
    now: datetime | None = None,
) -> Sale:
    """Set up a flash sale; its units come out of the listing's stock in that country."""
    _require_team(actor)
    now = _now(now)
    listing = get_listing(session, listing_id=listing_id)
    if starts_at.tzinfo is None:
        raise InvalidInput("Give the start with its time zone.", details={"field": "starts_at"})
    if not now < starts_at <= now + MAX_LEAD:
        raise InvalidInput(
            "A sale starts in the future, within a year.", details={"field": "starts_at"}
        )
    if not 1 <= stock <= MAX_STOCK:
        raise InvalidInput(f"A sale has 1 to {MAX_STOCK} units.", details={"field": "stock"})
    if not 0 <= fcode_stock <= stock:
        raise InvalidInput(
            "The F-code slice is part of the sale's units.", details={"field": "fcode_stock"}
        )
    if not 1 <= buyer_limit <= MAX_QUANTITY:
        raise InvalidInput(
            f"The limit per friend is 1 to {MAX_QUANTITY}.", details={"field": "buyer_limit"}
        )
    if not 1 <= hold_minutes <= 24 * 60:
        raise InvalidInput("The checkout window is 1 minute to a day.", details={"field": "hold"})
    if not 1 <= prequeue_minutes <= 7 * 24 * 60:
        raise InvalidInput(
            "The pre-queue window is 1 minute to a week.", details={"field": "prequeue_minutes"}
        )
    allocated = session.execute(
        update(Listing)
        .where(Listing.id == listing.id, Listing.stock >= stock)
        .values(stock=Listing.stock - stock)
    )
    if getattr(allocated, "rowcount", 0) != 1:
        raise Conflict(
            f"{listing.country} has {listing.stock} units of {listing.sku.code} in stock.",
            details={"field": "stock", "available": listing.stock},
        )
    seed = lottery.new_seed()
    sale = Sale(
        listing_id=listing.id,
        title=_text(
            title or f"{listing.sku.product.name} · {listing.country}", field="title", maximum=120
        ),
        queue_opens_at=starts_at - timedelta(minutes=prequeue_minutes),
        starts_at=starts_at,
        stock=stock,
        fcode_stock=fcode_stock,
        buyer_limit=buyer_limit,
        hold_seconds=hold_minutes * 60,
        seed=seed,
        commitment=lottery.commitment(seed),
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(sale)
    session.flush()
    session.refresh(listing)
    ledger.open_sale(session, SaleTerms.of(sale))
    return sale


def get_sale(session: Session, *, sale_id: int) -> Sale:
    sale = session.get(Sale, sale_id) if 0 < sale_id <= MAX_ID else None
    if sale is None:
        raise NotFound(f"No sale {sale_id}.")
    return sale


def list_sales(session: Session, *, limit: int = 50) -> list[Sale]:
    return list(session.scalars(select(Sale).order_by(Sale.starts_at.desc()).limit(limit)))


def upcoming_sales(session: Session, *, now: datetime | None = None) -> list[Sale]:
    """Sales not yet started, and started ones from the last week, soonest first."""
    since = _now(now) - timedelta(days=7)
    return list(
        session.scalars(select(Sale).where(Sale.starts_at >= since).order_by(Sale.starts_at))
    )


class Phase(StrEnum):
    SCHEDULED = "scheduled"  # the queue is not open yet
    PREQUEUE = "prequeue"  # joining now puts you in the draw
    OPEN = "open"
    SOLD_OUT = "sold_out"


def phase_of(sale: Sale, snapshot: Snapshot, *, now: datetime) -> Phase:
    if now < sale.queue_opens_at:
        return Phase.SCHEDULED
    if now < sale.starts_at:
        return Phase.PREQUEUE
    if snapshot.public_left <= 0:
        return Phase.SOLD_OUT
    return Phase.OPEN


def draw_now(session: Session, *, ledger: Ledger, sale: Sale, now: datetime | None = None) -> None:
    """Make the draw of a sale whose start has passed (the worker calls this on time)."""
    ledger.draw(session, sale, now=_now(now))


def due_draws(session: Session, *, now: datetime | None = None) -> list[Sale]:
    return list(
        session.scalars(select(Sale).where(Sale.starts_at <= _now(now), Sale.drawn_at.is_(None)))
    )


def draw_record(session: Session, *, sale: Sale) -> lottery.DrawRecord | None:
    """The published draw (with the revealed seed), once it has been made."""
    draw = session.get(SaleDraw, sale.id)
    if draw is None:
        return None
    return lottery.DrawRecord(
        sale_id=sale.id,
        commitment=sale.commitment,
        seed_hex=sale.seed.hex(),
        entrants=json.loads(draw.entrants),
        order=json.loads(draw.drawn_order),
    )


# --- the queue ----------------------------------------------------------------------------------


def join_queue(
    session: Session, *, ledger: Ledger, sale_id: int, user: User, now: datetime | None = None
) -> Spot:
    sale = get_sale(session, sale_id=sale_id)
    return ledger.join(session, SaleTerms.of(sale), buyer_id=user.id, now=_now(now))


# --- purchases ----------------------------------------------------------------------------------


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
    now: datetime | None = None,
) -> Order:
    """Charge a reservation inside its window; paying twice returns the paid order."""
    now = _now(now)
    order = get_order(session, number=order_number, buyer_id=buyer_id)
    if order.status == OrderStatus.PAID:
        return order
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


# --- F-codes ------------------------------------------------------------------------------------


def issue_fcodes(session: Session, *, actor: User, sale_id: int) -> list[FCode]:
    """Give the F-code slice to the friends with the most contribution credit (ties: the
    earlier account), one code each, never more codes than the slice has units."""
    _require_team(actor)
    sale = get_sale(session, sale_id=sale_id)
    holders = set(session.scalars(select(FCode.user_id).where(FCode.sale_id == sale_id)))
    room = sale.fcode_stock - len(holders)
    if room <= 0:
        return []
    ranked = sorted(
        (
            (c.points, uid)
            for uid, c in community.contributions(session).items()
            if c.points > 0 and uid not in holders
        ),
        key=lambda item: (-item[0], item[1]),
    )[:room]
    codes = [
        FCode(code=_new_fcode(), sale_id=sale_id, user_id=uid, points=points)
        for points, uid in ranked
    ]
    session.add_all(codes)
    session.flush()
    return codes


def _new_fcode() -> str:
    # 16 characters of Crockford base32: unguessable, easy to read out and type.
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "F" + "".join(secrets.choice(alphabet) for _ in range(15))


def fcodes_for(session: Session, *, user_id: int) -> list[FCode]:
    return list(
        session.scalars(select(FCode).where(FCode.user_id == user_id).order_by(FCode.id.desc()))
    )


# --- referrals ----------------------------------------------------------------------------------


def mailbox(email: str) -> str:
    """An address reduced to its mailbox: no +tag, and no dots where the provider ignores them."""
    local, _, domain = email.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _credit_referrer(session: Session, *, order: Order) -> None:
    """Credit the referrer on the referred friend's first paid order, unless it looks like the
    same person: the same mailbox, or a card the referrer has paid with."""
    if order.referrer_id is None or order.referrer_id == order.buyer_id:
        return
    if session.scalar(select(ReferralCredit).where(ReferralCredit.referred_id == order.buyer_id)):
        return
    referrer = session.get(User, order.referrer_id)
    buyer = session.get(User, order.buyer_id)
    if referrer is None or buyer is None or mailbox(referrer.email) == mailbox(buyer.email):
        return
    same_card = session.scalar(
        select(func.count())
        .select_from(Order)
        .where(
            Order.buyer_id == referrer.id,
            Order.payment_fingerprint == order.payment_fingerprint,
        )
    )
    if same_card:
        return
    try:
        with session.begin_nested():
            session.add(
                ReferralCredit(referrer_id=referrer.id, referred_id=buyer.id, order_id=order.id)
            )
    except IntegrityError:
        return  # credited by a concurrent payment of another order of the same friend


def referral_count(session: Session, *, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ReferralCredit)
            .where(ReferralCredit.referrer_id == user_id)
        )
        or 0
    )


# --- what pages and the console show ------------------------------------------------------------


@dataclass(frozen=True)
class SaleView:
    sale: Sale
    snapshot: Snapshot
    phase: Phase
    spot: Spot | None
    admitted_upto: int
    orders: list[Order]

    @property
    def sellout_seconds(self) -> float | None:
        if self.snapshot.sold_out_at is None:
            return None
        return (self.snapshot.sold_out_at - self.sale.starts_at).total_seconds()

    @property
    def ahead(self) -> int | None:
        """Positions between this friend and the front of the admitted window."""
        if self.spot is None or self.spot.position is None:
            return None
        return max(0, self.spot.position - self.admitted_upto)


def sale_view(
    session: Session,
    *,
    ledger: Ledger,
    sale_id: int,
    viewer_id: int | None = None,
    now: datetime | None = None,
) -> SaleView:
    now = _now(now)
    sale = get_sale(session, sale_id=sale_id)
    if sale.drawn_at is None and now >= sale.starts_at:
        # The first look after the start makes the draw when no worker has yet.
        with contextlib.suppress(DrawPending):
            ledger.draw(session, sale, now=now)
    terms = SaleTerms.of(sale)
    snapshot = ledger.snapshot(session, terms)
    spot = ledger.spot(session, terms, buyer_id=viewer_id) if viewer_id is not None else None
    orders = (
        list(
            session.scalars(
                select(Order)
                .where(Order.sale_id == sale_id, Order.buyer_id == viewer_id)
                .order_by(Order.created_at)
            )
        )
        if viewer_id is not None
        else []
    )
    admitted = (
        terms.admitted_upto(released=snapshot.released, now=now) if now >= sale.starts_at else 0
    )
    return SaleView(
        sale=sale,
        snapshot=snapshot,
        phase=phase_of(sale, snapshot, now=now),
        spot=spot,
        admitted_upto=admitted,
        orders=orders,
    )


@dataclass(frozen=True)
class SaleStats:
    view: SaleView
    paid_units: int
    reserved_units: int
    curve: list[tuple[float, int]]  # (seconds after the start, units reserved by then)


def sale_stats(
    session: Session, *, ledger: Ledger, sale_id: int, now: datetime | None = None, points: int = 60
) -> SaleStats:
    """The console's live numbers: the ledger's counters and the sell-out curve from orders."""
    now = _now(now)
    view = sale_view(session, ledger=ledger, sale_id=sale_id, now=now)
    paid, reserved = live_units(session, sale_id=sale_id)
    rows = session.execute(
        select(Order.created_at, Order.quantity)
        .where(Order.sale_id == sale_id)
        .order_by(Order.created_at)
    ).all()
    curve: list[tuple[float, int]] = []
    if rows:
        start = view.sale.starts_at
        span = max((rows[-1][0] - start).total_seconds(), 1e-3)
        step = span / points
        total, index = 0, 0
        for k in range(1, points + 1):
            edge = start + timedelta(seconds=step * k)
            while index < len(rows) and rows[index][0] <= edge:
                total += rows[index][1]
                index += 1
            curve.append((step * k, total))
    return SaleStats(view=view, paid_units=paid, reserved_units=reserved, curve=curve)


def users_by_id(session: Session, ids: Sequence[int]) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(ids))))}
