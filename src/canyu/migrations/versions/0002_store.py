"""store: catalogue, flash sales, queue entries, draws, F-codes, orders, referral credits

Revision ID: 0002_store
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0002_store"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("store",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_zh", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_store_products_slug")),
    )

    op.create_table(
        "store_skus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["store_products.id"],
            name=op.f("fk_store_skus_product_id_store_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_skus")),
        sa.UniqueConstraint("code", name=op.f("uq_store_skus_code")),
    )
    with op.batch_alter_table("store_skus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_store_skus_product_id"), ["product_id"], unique=False)

    op.create_table(
        "store_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_store_listings_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_store_listings_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["store_skus.id"],
            name=op.f("fk_store_listings_sku_id_store_skus"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_listings")),
        sa.UniqueConstraint("sku_id", "country", name="uq_store_listings_sku_country"),
    )

    op.create_table(
        "store_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("queue_opens_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("starts_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("fcode_stock", sa.Integer(), nullable=False),
        sa.Column("buyer_limit", sa.Integer(), nullable=False),
        sa.Column("hold_seconds", sa.Integer(), nullable=False),
        sa.Column("seed", sa.LargeBinary(length=32), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("fcode_taken", sa.Integer(), nullable=False),
        sa.Column("released", sa.Integer(), nullable=False),
        sa.Column("entrants", sa.Integer(), nullable=False),
        sa.Column("queue_length", sa.Integer(), nullable=False),
        sa.Column("drawn_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sold_out_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sold_out_units", sa.Integer(), nullable=True),
        sa.CheckConstraint("buyer_limit >= 1", name=op.f("ck_store_sales_limit_positive")),
        sa.CheckConstraint(
            "fcode_stock >= 0 AND fcode_stock <= stock", name=op.f("ck_store_sales_fcode_slice")
        ),
        sa.CheckConstraint(
            "fcode_taken >= 0 AND fcode_taken <= fcode_stock",
            name=op.f("ck_store_sales_fcode_ledger"),
        ),
        sa.CheckConstraint(
            "queue_opens_at < starts_at", name=op.f("ck_store_sales_queue_before_start")
        ),
        sa.CheckConstraint("stock > 0", name=op.f("ck_store_sales_stock_positive")),
        sa.CheckConstraint(
            "taken >= 0 AND taken <= stock - fcode_stock", name=op.f("ck_store_sales_public_ledger")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_store_sales_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["store_listings.id"],
            name=op.f("fk_store_sales_listing_id_store_listings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_sales")),
    )
    with op.batch_alter_table("store_sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_store_sales_listing_id"), ["listing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_store_sales_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "store_fcodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("issued_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["store_sales.id"],
            name=op.f("fk_store_fcodes_sale_id_store_sales"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_store_fcodes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_fcodes")),
        sa.UniqueConstraint("code", name=op.f("uq_store_fcodes_code")),
        sa.UniqueConstraint("sale_id", "user_id", name="uq_store_fcodes_sale_user"),
    )
    with op.batch_alter_table("store_fcodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_store_fcodes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "store_sale_draws",
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("drawn_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entrants", sa.Text(), nullable=False),
        sa.Column("drawn_order", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["store_sales.id"],
            name=op.f("fk_store_sale_draws_sale_id_store_sales"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sale_id", name=op.f("pk_store_sale_draws")),
    )

    op.create_table(
        "store_sale_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.CheckConstraint("held >= 0", name=op.f("ck_store_sale_entries_held_not_negative")),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["store_sales.id"],
            name=op.f("fk_store_sale_entries_sale_id_store_sales"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_store_sale_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_sale_entries")),
        sa.UniqueConstraint("sale_id", "user_id", name="uq_store_sale_entries_sale_user"),
    )
    with op.batch_alter_table("store_sale_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_store_sale_entries_sale_position", ["sale_id", "position"], unique=False
        )

    op.create_table(
        "store_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("fcode_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expired_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payment_ref", sa.String(length=64), nullable=True),
        sa.Column("payment_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("referrer_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_store_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_store_orders_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["fcode_id"], ["store_fcodes.id"], name=op.f("fk_store_orders_fcode_id_store_fcodes")
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["users.id"],
            name=op.f("fk_store_orders_referrer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["store_sales.id"], name=op.f("fk_store_orders_sale_id_store_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_store_orders_number")),
        sa.UniqueConstraint(
            "sale_id", "buyer_id", "idempotency_key", name="uq_store_orders_idempotency"
        ),
    )
    with op.batch_alter_table("store_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_store_orders_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(
            "ix_store_orders_sale_status_expires", ["sale_id", "status", "expires_at"], unique=False
        )

    op.create_table(
        "store_referral_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("referred_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["store_orders.id"],
            name=op.f("fk_store_referral_credits_order_id_store_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referred_id"],
            ["users.id"],
            name=op.f("fk_store_referral_credits_referred_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["users.id"],
            name=op.f("fk_store_referral_credits_referrer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_referral_credits")),
        sa.UniqueConstraint("referred_id", name=op.f("uq_store_referral_credits_referred_id")),
    )
    with op.batch_alter_table("store_referral_credits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_store_referral_credits_referrer_id"), ["referrer_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("store_referral_credits")
    op.drop_table("store_orders")
    op.drop_table("store_sale_entries")
    op.drop_table("store_sale_draws")
    op.drop_table("store_fcodes")
    op.drop_table("store_sales")
    op.drop_table("store_listings")
    op.drop_table("store_skus")
    op.drop_table("store_products")
