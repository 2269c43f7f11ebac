"""calls: numbers and labels, marks, label events, reporter stats, packs, codes, appeals

Revision ID: 0005_calls
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0005_calls"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("calls",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("built_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_packs")),
        sa.UniqueConstraint("region", "version", name="uq_calls_packs_region_version"),
    )
    op.create_table(
        "calls_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("number_type", sa.String(length=24), nullable=False),
        sa.Column("hash_bucket", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("marks_count", sa.Integer(), nullable=False),
        sa.Column("labelled_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=8), nullable=True),
        sa.Column("decision_category", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("needs_rescore", sa.Boolean(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_calls_numbers_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_numbers")),
        sa.UniqueConstraint("e164", name=op.f("uq_calls_numbers_e164")),
    )
    with op.batch_alter_table("calls_numbers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calls_numbers_bucket_label", ["hash_bucket", "label"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_calls_numbers_needs_rescore"), ["needs_rescore"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_calls_numbers_needs_review"), ["needs_review"], unique=False
        )
        batch_op.create_index("ix_calls_numbers_region_label", ["region", "label"], unique=False)

    op.create_table(
        "calls_reporter_stats",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agreed", sa.Integer(), nullable=False),
        sa.Column("disagreed", sa.Integer(), nullable=False),
        sa.Column("unconfirmed", sa.Integer(), nullable=False),
        sa.Column("updated_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calls_reporter_stats_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calls_reporter_stats")),
    )
    op.create_table(
        "calls_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=96), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["calls_numbers.id"],
            name=op.f("fk_calls_codes_number_id_calls_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calls_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_codes")),
    )
    with op.batch_alter_table("calls_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_codes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "calls_label_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["calls_numbers.id"],
            name=op.f("fk_calls_label_events_number_id_calls_numbers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_label_events")),
    )
    with op.batch_alter_table("calls_label_events", schema=None) as batch_op:
        batch_op.create_index("ix_calls_label_events_region_at", ["region", "at"], unique=False)

    op.create_table(
        "calls_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["calls_numbers.id"],
            name=op.f("fk_calls_marks_number_id_calls_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calls_marks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_marks")),
        sa.UniqueConstraint("number_id", "user_id", name="uq_calls_marks_number_user"),
    )
    with op.batch_alter_table("calls_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_marks_user_id"), ["user_id"], unique=False)

    op.create_table(
        "calls_appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("business_name", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("label_at_appeal", sa.String(length=16), nullable=True),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["calls_codes.id"],
            name=op.f("fk_calls_appeals_code_id_calls_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_calls_appeals_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["calls_numbers.id"],
            name=op.f("fk_calls_appeals_number_id_calls_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calls_appeals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_appeals")),
    )
    with op.batch_alter_table("calls_appeals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calls_appeals_status_created", ["status", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_calls_appeals_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls_appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_appeals_user_id"))
        batch_op.drop_index("ix_calls_appeals_status_created")

    op.drop_table("calls_appeals")
    with op.batch_alter_table("calls_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_marks_user_id"))

    op.drop_table("calls_marks")
    with op.batch_alter_table("calls_label_events", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_label_events_region_at")

    op.drop_table("calls_label_events")
    with op.batch_alter_table("calls_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_codes_user_id"))

    op.drop_table("calls_codes")
    op.drop_table("calls_reporter_stats")
    with op.batch_alter_table("calls_numbers", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_numbers_region_label")
        batch_op.drop_index(batch_op.f("ix_calls_numbers_needs_review"))
        batch_op.drop_index(batch_op.f("ix_calls_numbers_needs_rescore"))
        batch_op.drop_index("ix_calls_numbers_bucket_label")

    op.drop_table("calls_numbers")
    op.drop_table("calls_packs")
