"""calls: complaint feeds (feeds, their reports per number and day, imports) and feed evidence

Revision ID: 0012_calls_feeds
Revises: 0005_calls
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0012_calls_feeds"
down_revision: str | None = "0005_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("half_life_days", sa.Float(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_feeds")),
        sa.UniqueConstraint("name", name=op.f("uq_calls_feeds_name")),
    )
    op.create_table(
        "calls_feed_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["calls_feeds.id"],
            name=op.f("fk_calls_feed_reports_feed_id_calls_feeds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["calls_numbers.id"],
            name=op.f("fk_calls_feed_reports_number_id_calls_numbers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_feed_reports")),
        sa.UniqueConstraint(
            "feed_id", "number_id", "day", name="uq_calls_feed_reports_feed_number_day"
        ),
    )
    op.create_index("ix_calls_feed_reports_number_day", "calls_feed_reports", ["number_id", "day"])
    op.create_table(
        "calls_feed_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=3), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["calls_feeds.id"],
            name=op.f("fk_calls_feed_imports_feed_id_calls_feeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_feed_imports")),
    )
    op.create_index("ix_calls_feed_imports_zone_at", "calls_feed_imports", ["zone", "at"])
    with op.batch_alter_table("calls_numbers") as batch:
        batch.add_column(sa.Column("feed_score", sa.Float(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("calls_numbers") as batch:
        batch.drop_column("feed_score")
    op.drop_index("ix_calls_feed_imports_zone_at", table_name="calls_feed_imports")
    op.drop_table("calls_feed_imports")
    op.drop_index("ix_calls_feed_reports_number_day", table_name="calls_feed_reports")
    op.drop_table("calls_feed_reports")
    op.drop_table("calls_feeds")
