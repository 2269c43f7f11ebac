"""devices: attestation keys enrolled by the factory (canyu release provision)

Revision ID: 0010_device_keys
Revises: 0006_devices_token_lookup
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0010_device_keys"
down_revision: str | None = "0006_devices_token_lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("hardware_hash", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_signed_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_device_keys_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_keys")),
        sa.UniqueConstraint("product_id", "hardware_hash", name="uq_device_keys_product_hardware"),
    )


def downgrade() -> None:
    op.drop_table("device_keys")
