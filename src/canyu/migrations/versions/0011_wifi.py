"""store: the delivery address an order is paid with

Revision ID: 0011_wifi
Revises: 0002_store
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_wifi"
down_revision: str | None = "0002_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("delivery_name", 100),
    ("delivery_phone", 32),
    ("delivery_line", 200),
    ("delivery_city", 100),
    ("delivery_postcode", 16),
    ("delivery_country", 2),
)


def upgrade() -> None:
    with op.batch_alter_table("store_orders") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("store_orders") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
