"""community: each post's stored title vector (post_vectors), so workers never re-embed

Revision ID: 0015_dedup
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_dedup"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_vectors",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("encoder", sa.String(length=40), nullable=False),
        sa.Column("scale", sa.Double(), nullable=False),
        sa.Column("codes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_vectors_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_vectors")),
    )


def downgrade() -> None:
    op.drop_table("post_vectors")
