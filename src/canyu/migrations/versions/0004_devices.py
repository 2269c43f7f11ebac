"""devices: the registry, install and crash reports, installed notices

Revision ID: 0004_devices
Revises: 0003_releases
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0004_devices"
down_revision: str | None = "0003_releases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("hardware_hash", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("current_version", sa.String(length=64), nullable=True),
        sa.Column("registered_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_devices_owner_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_devices_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("product_id", "hardware_hash", name="uq_devices_product_hardware"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_devices_token_hash")),
    )

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            "ix_devices_scope", ["product_id", "channel", "country"], unique=False
        )

    op.create_table(
        "installed_notices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["builds.id"],
            name=op.f("fk_installed_notices_build_id_builds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_installed_notices_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_installed_notices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "build_id", name=op.f("pk_installed_notices")),
    )

    op.create_table(
        "device_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("crashes", sa.Integer(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name=op.f("fk_device_reports_build_id_builds")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_reports_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rollout_id"], ["rollouts.id"], name=op.f("fk_device_reports_rollout_id_rollouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_reports")),
        sa.UniqueConstraint("device_id", "report_id", name="uq_device_reports_device_report"),
    )

    with op.batch_alter_table("device_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_device_reports_build_kind", ["build_id", "kind", "success"], unique=False
        )
        batch_op.create_index(
            "ix_device_reports_rollout_kind", ["rollout_id", "kind", "success"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("device_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_device_reports_rollout_kind")
        batch_op.drop_index("ix_device_reports_build_kind")

    op.drop_table("device_reports")

    op.drop_table("installed_notices")

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_scope")
        batch_op.drop_index(batch_op.f("ix_devices_owner_id"))

    op.drop_table("devices")
