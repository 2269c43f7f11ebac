"""The store's part of `canyu demo`: a phone on sale in every demo country and an upcoming
flash sale whose pre-queue is open, with F-codes for the top contributors."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.db import utcnow
from canyu.store import service
from canyu.store.ledger import Ledger, SqlLedger
from canyu.store.models import Sale

# (country, price in local currency, stock): what the phone costs where the demo friends live.
DEMO_LISTINGS = (
    ("CN", "1999", 50_000),
    ("IN", "14999", 30_000),
    ("ID", "2999000", 20_000),
    ("MY", "1199", 8_000),
    ("SG", "399", 5_000),
    ("PH", "14999", 8_000),
    ("US", "299", 10_000),
    ("ES", "279", 6_000),
)


def add_demo_sale(
    session: Session,
    *,
    team: User,
    ledger: Ledger | None = None,
    now: datetime | None = None,
    starts_in: timedelta = timedelta(minutes=30),
) -> Sale:
    """The catalogue and a CN flash sale starting in ``starts_in`` (its queue opens an hour
    before, so it is open when the demo starts). Call after the community data exists, so
    the F-codes go to the demo's real top contributors."""
    now = now or utcnow()
    ledger = ledger or SqlLedger()
    product = service.create_product(
        session,
        actor=team,
        slug="canyu-one",
        name="canyu One",
        name_zh="参与一号",
        description="The phone our friends helped design: 6.5-inch screen, two-day battery, "
        "new software every week.",
        description_zh="朋友们帮助设计的手机：6.5 英寸屏幕，两天续航，每周更新软件。",
    )
    for code, label, extra in (
        ("ONE-8-256", "8 GB + 256 GB", Decimal("0")),
        ("ONE-12-512", "12 GB + 512 GB", Decimal("0.25")),
    ):
        sku = service.add_sku(session, actor=team, product=product, code=code, label=label)
        for country, price, stock in DEMO_LISTINGS:
            amount = Decimal(price) * (1 + extra)
            service.set_listing(
                session,
                actor=team,
                sku=sku,
                country=country,
                price=amount.quantize(Decimal("1")),
                stock=stock,
            )
    listing = product.skus[0].listings[0]  # CN, the base model
    sale = service.create_sale(
        session,
        actor=team,
        ledger=ledger,
        listing_id=listing.id,
        title="canyu One · 首发",
        starts_at=now + starts_in,
        stock=10_000,
        fcode_stock=50,
        prequeue_minutes=60,
        now=now,
    )
    service.issue_fcodes(session, actor=team, sale_id=sale.id)
    return sale
