"""greetings: friends' greetings per festival and language, votes, built packs

Revision ID: 0008_greetings
Revises: 0006_devices_token_lookup
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from canyu.db import UTCDateTime

revision: str = "0008_greetings"
down_revision: str | None = "0006_devices_token_lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "greetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("festival_key", sa.String(48), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.String(400), nullable=False),
        sa.Column(
            "author_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "decided_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("reason", sa.String(200), nullable=True),
    )
    op.create_index("ix_greetings_author_id", "greetings", ["author_id"])
    op.create_index(
        "ix_greetings_festival_language", "greetings", ["festival_key", "language", "status"]
    )
    op.create_index("ix_greetings_status_created", "greetings", ["status", "created_at"])
    op.create_table(
        "greeting_votes",
        sa.Column(
            "greeting_id",
            sa.Integer(),
            sa.ForeignKey("greetings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_greeting_votes_user_id", "greeting_votes", ["user_id"])
    op.create_table(
        "greeting_packs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("greetings", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("built_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_greeting_packs_country_language", "greeting_packs", ["country", "language"])


def downgrade() -> None:
    op.drop_table("greeting_packs")
    op.drop_table("greeting_votes")
    op.drop_table("greetings")
