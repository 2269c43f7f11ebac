"""Store rules: what pages and the console show."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.store.ledger import (
    DrawPending,
    Ledger,
    SaleTerms,
    Snapshot,
    Spot,
    live_units,
)
from canyu.store.models import (
    Order,
    Sale,
)
from canyu.store.service.common import _now
from canyu.store.service.sales import Phase, get_sale, phase_of


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
