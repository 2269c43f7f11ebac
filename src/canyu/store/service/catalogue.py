"""Store rules: catalogue."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.db import MAX_ID
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.markets import service as markets
from canyu.store.models import (
    Listing,
    Product,
    Sku,
)
from canyu.store.money import local_currency
from canyu.store.service.common import _SLUG, MAX_STOCK, _text


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
    accounts.require_team(actor)
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
    accounts.require_team(actor)
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
    accounts.require_team(actor)
    country = accounts.check_country(country)
    markets.require_open_market(session, country=country)  # the store sells in opened markets
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
