"""Store rules: sales."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.db import MAX_ID
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.store import lottery
from canyu.store.ledger import (
    Ledger,
    SaleTerms,
    Snapshot,
)
from canyu.store.models import (
    Listing,
    Sale,
    SaleDraw,
)
from canyu.store.service.catalogue import get_listing
from canyu.store.service.common import MAX_LEAD, MAX_QUANTITY, MAX_STOCK, _now, _text


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
    accounts.require_team(actor)
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
