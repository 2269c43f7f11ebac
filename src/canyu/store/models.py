"""Store tables: the catalogue, flash sales, their queue and orders, F-codes and referrals.

The ``sales`` counters (``taken``, ``fcode_taken`` ...) and ``sale_entries`` are the embedded
SQL ledger; with Redis configured the ledger lives in Redis and these tables receive the
orders the worker writes (see ``ledger_redis`` and ``worker``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canyu.accounts.models import User
from canyu.db import Base, utcnow


class OrderStatus(StrEnum):
    RESERVED = "reserved"  # holds units until expires_at
    PAID = "paid"
    EXPIRED = "expired"  # not paid in time; its units went back to the sale


class Channel(StrEnum):
    QUEUE = "queue"
    FCODE = "fcode"


class Product(Base):
    __tablename__ = "store_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    skus: Mapped[list[Sku]] = relationship(
        back_populates="product", order_by="Sku.id", lazy="selectin"
    )


class Sku(Base):
    __tablename__ = "store_skus"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("store_products.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120))

    product: Mapped[Product] = relationship(back_populates="skus")
    listings: Mapped[list[Listing]] = relationship(
        back_populates="sku", order_by="Listing.country", lazy="selectin"
    )


class Listing(Base):
    """A SKU offered in one country: its price in local currency and the stock there."""

    __tablename__ = "store_listings"
    __table_args__ = (
        UniqueConstraint("sku_id", "country", name="uq_store_listings_sku_country"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("store_skus.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    stock: Mapped[int] = mapped_column(default=0)

    # Loaded on access: a sale's hot path needs the listing's price, not the catalogue.
    sku: Mapped[Sku] = relationship(back_populates="listings")


class Sale(Base):
    """A flash sale of one listing. Units are split into the public queue and an F-code slice."""

    __tablename__ = "store_sales"
    __table_args__ = (
        CheckConstraint("stock > 0", name="stock_positive"),
        CheckConstraint("fcode_stock >= 0 AND fcode_stock <= stock", name="fcode_slice"),
        CheckConstraint("buyer_limit >= 1", name="limit_positive"),
        # The embedded ledger's guarantee, enforced by the database as well as by the updates.
        CheckConstraint("taken >= 0 AND taken <= stock - fcode_stock", name="public_ledger"),
        CheckConstraint("fcode_taken >= 0 AND fcode_taken <= fcode_stock", name="fcode_ledger"),
        CheckConstraint("queue_opens_at < starts_at", name="queue_before_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("store_listings.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    queue_opens_at: Mapped[datetime]
    starts_at: Mapped[datetime] = mapped_column(index=True)
    stock: Mapped[int]
    fcode_stock: Mapped[int] = mapped_column(default=0)
    buyer_limit: Mapped[int] = mapped_column(default=1)
    hold_seconds: Mapped[int] = mapped_column(default=900)
    # Commit-reveal: the SHA-256 of the seed is public from creation, the seed after the draw.
    seed: Mapped[bytes] = mapped_column(LargeBinary(32))
    commitment: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Embedded ledger (SQL); with Redis these stay at zero and the worker copies the outcome.
    taken: Mapped[int] = mapped_column(default=0)
    fcode_taken: Mapped[int] = mapped_column(default=0)
    released: Mapped[int] = mapped_column(default=0)
    entrants: Mapped[int] = mapped_column(default=0)
    queue_length: Mapped[int] = mapped_column(default=0)
    drawn_at: Mapped[datetime | None] = mapped_column(default=None)
    sold_out_at: Mapped[datetime | None] = mapped_column(default=None)
    sold_out_units: Mapped[int | None] = mapped_column(default=None)

    listing: Mapped[Listing] = relationship(lazy="joined")

    @property
    def public_stock(self) -> int:
        return self.stock - self.fcode_stock


class SaleEntry(Base):
    """A friend in a sale's queue (embedded ledger): position and units held."""

    __tablename__ = "store_sale_entries"
    __table_args__ = (
        UniqueConstraint("sale_id", "user_id", name="uq_store_sale_entries_sale_user"),
        Index("ix_store_sale_entries_sale_position", "sale_id", "position"),
        CheckConstraint("held >= 0", name="held_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("store_sales.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Pre-queue entrants get theirs from the draw; later arrivals in order of arrival.
    position: Mapped[int | None] = mapped_column(default=None)
    held: Mapped[int] = mapped_column(default=0)


class SaleDraw(Base):
    """The published draw: who was in the pre-queue (sorted ids) and the order it gave."""

    __tablename__ = "store_sale_draws"

    sale_id: Mapped[int] = mapped_column(
        ForeignKey("store_sales.id", ondelete="CASCADE"), primary_key=True
    )
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    entrants: Mapped[str] = mapped_column(Text)  # JSON list of user ids, ascending
    drawn_order: Mapped[str] = mapped_column(Text)  # JSON list of user ids, position 1 first


class FCode(Base):
    """A single-use priority-purchase code for one sale, tied to one friend."""

    __tablename__ = "store_fcodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("store_sales.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    points: Mapped[int] = mapped_column(default=0)  # the credit it was issued for
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The order holding it; cleared again if that reservation expires unpaid.
    order_number: Mapped[str | None] = mapped_column(String(32), default=None)

    __table_args__ = (UniqueConstraint("sale_id", "user_id", name="uq_store_fcodes_sale_user"),)


class Order(Base):
    __tablename__ = "store_orders"
    __table_args__ = (
        UniqueConstraint(
            "sale_id", "buyer_id", "idempotency_key", name="uq_store_orders_idempotency"
        ),
        Index("ix_store_orders_sale_status_expires", "sale_id", "status", "expires_at"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Chosen by the server before the order reaches the database, so a 201 can name it.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("store_sales.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    quantity: Mapped[int]
    channel: Mapped[str] = mapped_column(String(8), default=Channel.QUEUE.value)
    fcode_id: Mapped[int | None] = mapped_column(ForeignKey("store_fcodes.id"), default=None)
    status: Mapped[str] = mapped_column(String(12), default=OrderStatus.RESERVED.value)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    expired_at: Mapped[datetime | None] = mapped_column(default=None)
    payment_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    payment_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    referrer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Where it goes: given at checkout (paying), in the sale's country.
    delivery_name: Mapped[str | None] = mapped_column(String(100), default=None)
    delivery_phone: Mapped[str | None] = mapped_column(String(32), default=None)
    delivery_line: Mapped[str | None] = mapped_column(String(200), default=None)
    delivery_city: Mapped[str | None] = mapped_column(String(100), default=None)
    delivery_postcode: Mapped[str | None] = mapped_column(String(16), default=None)
    delivery_country: Mapped[str | None] = mapped_column(String(2), default=None)

    sale: Mapped[Sale] = relationship(lazy="joined")
    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id], lazy="raise")

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


class ReferralCredit(Base):
    """A referrer credited once per referred friend, when that friend's first order is paid."""

    __tablename__ = "store_referral_credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    referred_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    order_id: Mapped[int] = mapped_column(ForeignKey("store_orders.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
