"""markets: indicator figures per country and year, imported plans, opened markets

Revision ID: 0007_markets
Revises: 0006_devices_token_lookup
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0007_markets"
down_revision: str | None = "0006_devices_token_lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "markets_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("imported_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_markets_figures")),
        sa.UniqueConstraint("iso3", "indicator", "year", name=op.f("uq_markets_figures_iso3")),
    )
    with op.batch_alter_table("markets_figures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_markets_figures_indicator"), ["indicator"], unique=False
        )

    op.create_table(
        "markets_plan_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("first_sale", sa.String(length=7), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_markets_plan_entries")),
        sa.UniqueConstraint("plan", "iso3", name=op.f("uq_markets_plan_entries_plan")),
    )
    with op.batch_alter_table("markets_plan_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_markets_plan_entries_plan"), ["plan"], unique=False)

    op.create_table(
        "markets_openings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_markets_openings_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_markets_openings")),
        sa.UniqueConstraint("iso3", name=op.f("uq_markets_openings_iso3")),
    )


def downgrade() -> None:
    op.drop_table("markets_openings")
    with op.batch_alter_table("markets_plan_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_markets_plan_entries_plan"))

    op.drop_table("markets_plan_entries")
    with op.batch_alter_table("markets_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_markets_figures_indicator"))

    op.drop_table("markets_figures")
