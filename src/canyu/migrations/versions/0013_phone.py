"""calls: friends' reports about SMS the classifier got wrong (from the phone)

Revision ID: 0013_phone
Revises: 0005_calls
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0013_phone"
down_revision: str | None = "0005_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls_sms_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=4), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calls_sms_reports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls_sms_reports")),
    )
    op.create_index(
        "ix_calls_sms_reports_language_id", "calls_sms_reports", ["language", "id"], unique=False
    )
    op.create_index(
        op.f("ix_calls_sms_reports_user_id"), "calls_sms_reports", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_calls_sms_reports_user_id"), table_name="calls_sms_reports")
    op.drop_index("ix_calls_sms_reports_language_id", table_name="calls_sms_reports")
    op.drop_table("calls_sms_reports")
