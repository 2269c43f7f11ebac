"""releases: products, builds, payloads, the weekly train, rollouts and their health

Revision ID: 0003_releases
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import canyu.db

revision: str = "0003_releases"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("releases",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("key", name=op.f("uq_products_key")),
    )

    op.create_table(
        "builds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_builds_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_builds_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_builds")),
        sa.UniqueConstraint(
            "product_id", "channel", "version", name="uq_builds_product_channel_version"
        ),
    )

    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.create_index("ix_builds_product_channel", ["product_id", "channel"], unique=False)

    op.create_table(
        "release_credit_optouts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_release_credit_optouts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_release_credit_optouts")),
    )

    op.create_table(
        "build_payloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=128), nullable=False),
        sa.Column("target_name", sa.String(length=255), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["builds.id"],
            name=op.f("fk_build_payloads_build_id_builds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_build_payloads")),
        sa.UniqueConstraint("build_id", "filename", name="uq_build_payloads_file"),
    )

    with op.batch_alter_table("build_payloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_build_payloads_build_id"), ["build_id"], unique=False)

    op.create_table(
        "build_posts",
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["builds.id"],
            name=op.f("fk_build_posts_build_id_builds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_build_posts_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("build_id", "post_id", name=op.f("pk_build_posts")),
    )

    with op.batch_alter_table("build_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_build_posts_post_id"), ["post_id"], unique=False)

    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("previous_build_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("stage_started_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stage_base_successes", sa.Integer(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("device_models", sa.JSON(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("gate_base", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("auto_paused", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", canyu.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name=op.f("fk_rollouts_build_id_builds")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rollouts_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["previous_build_id"], ["builds.id"], name=op.f("fk_rollouts_previous_build_id_builds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
    )

    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollouts_build_id"), ["build_id"], unique=False)
        batch_op.create_index("ix_rollouts_status", ["status"], unique=False)

    op.create_table(
        "train_items",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("attached_by_id", sa.Integer(), nullable=True),
        sa.Column("attached_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attached_by_id"], ["users.id"], name=op.f("fk_train_items_attached_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_train_items_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_train_items_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", "post_id", name=op.f("pk_train_items")),
    )

    with op.batch_alter_table("train_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_train_items_post_id"), ["post_id"], unique=False)

    op.create_table(
        "rollout_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_rollout_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_events_rollout_id_rollouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_events")),
    )

    with op.batch_alter_table("rollout_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rollout_events_rollout_id"), ["rollout_id"], unique=False
        )

    op.create_table(
        "rollout_health_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Double(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("crashes", sa.Integer(), nullable=False),
        sa.Column("feedback", sa.Integer(), nullable=False),
        sa.Column("created_at", canyu.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_health_samples_rollout_id_rollouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_health_samples")),
    )

    with op.batch_alter_table("rollout_health_samples", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollout_health_samples_rollout_at", ["rollout_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rollout_health_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_rollout_health_samples_rollout_at")

    op.drop_table("rollout_health_samples")

    with op.batch_alter_table("rollout_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollout_events_rollout_id"))

    op.drop_table("rollout_events")

    with op.batch_alter_table("train_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_train_items_post_id"))

    op.drop_table("train_items")

    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.drop_index("ix_rollouts_status")
        batch_op.drop_index(batch_op.f("ix_rollouts_build_id"))

    op.drop_table("rollouts")

    with op.batch_alter_table("build_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_build_posts_post_id"))

    op.drop_table("build_posts")

    with op.batch_alter_table("build_payloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_build_payloads_build_id"))

    op.drop_table("build_payloads")

    op.drop_table("release_credit_optouts")

    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_index("ix_builds_product_channel")

    op.drop_table("builds")

    op.drop_table("products")
