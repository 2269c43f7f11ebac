"""devices: a hash index on the token hash for the check-in's lookup, on PostgreSQL only

Revision ID: 0006_devices_token_lookup
Revises: 0004_devices
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_devices_token_lookup"
down_revision: str | None = "0004_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# canyu.devices.models.Device says why. SQLite has no hash indexes: its lookups keep using the
# unique constraint's index. Building it blocks writes to devices (registrations, sightings)
# for about 2 s per million devices on the 2-core dev machine.


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_devices_token_lookup", "devices", ["token_hash"], postgresql_using="hash"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_devices_token_lookup", table_name="devices")
