"""Releases rules: products."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.releases.models import (
    ProductKind,
    ReleaseProduct,
)
from canyu.releases.service.common import PRODUCT_KEY, _clean_text


def create_product(
    session: Session, *, actor: User | None, key: str, name: str, kind: str = "phone"
) -> ReleaseProduct:
    accounts.require_team(actor)
    if not PRODUCT_KEY.fullmatch(key or ""):
        raise InvalidInput(
            "A product key has 2 to 40 lowercase letters, digits or '-' (e.g. canyu-1s).",
            details={"field": "key"},
        )
    clean_name = _clean_text(name, field="name", maximum=80)
    if not clean_name:
        raise InvalidInput("A product needs a name.", details={"field": "name"})
    try:
        product_kind = ProductKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ProductKind)
        raise InvalidInput(f"Unknown kind {kind!r}; one of: {allowed}.") from None
    if session.scalar(select(ReleaseProduct.id).where(ReleaseProduct.key == key)) is not None:
        raise Conflict(f"ReleaseProduct {key!r} exists already.")
    product = ReleaseProduct(key=key, name=clean_name, kind=product_kind.value)
    session.add(product)
    session.flush()
    return product


def get_product(session: Session, *, key: str) -> ReleaseProduct:
    product = session.scalar(select(ReleaseProduct).where(ReleaseProduct.key == key))
    if product is None:
        raise NotFound(f"No product {key!r}.")
    return product


def list_products(session: Session) -> list[ReleaseProduct]:
    return list(session.scalars(select(ReleaseProduct).order_by(ReleaseProduct.key)))
