"""Tables of the devices domain: the registry of devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from canyu.db import POSTGRESQL_ONLY, Base, utcnow


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("product_id", "hardware_hash", name="uq_devices_product_hardware"),
        Index("ix_devices_scope", "product_id", "channel", "country"),
        # Every check-in looks its device up by token hash. On PostgreSQL a hash index finds it
        # in fewer pages than the unique constraint's B-tree (32 MB against 119 MB for a
        # million devices), which stay in the server's cache where the B-tree's did not
        # (docs/benchmarks.md has the figures). The B-tree stays: it keeps the tokens unique.
        # PostgreSQL only: SQLite has no hash indexes (see canyu.migrate.include_object).
        Index(
            "ix_devices_token_lookup",
            "token_hash",
            postgresql_using="hash",
            info={POSTGRESQL_ONLY: True},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the device token; the token itself is shown to the device once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # Hardware variant (defaults to the product key); rollouts may be restricted to some.
    model: Mapped[str] = mapped_column(String(40))
    # SHA-256 of (product, hardware id): the raw serial is never stored. Also the cohort key.
    hardware_hash: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    current_version: Mapped[str | None] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class DeviceKey(Base):
    """A device's attestation key, enrolled by its factory before the device ever registers
    (canyu.devices.attestation): such a device registers only with a statement signed by it."""

    __tablename__ = "device_keys"
    __table_args__ = (
        UniqueConstraint("product_id", "hardware_hash", name="uq_device_keys_product_hardware"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    hardware_hash: Mapped[str] = mapped_column(String(64))
    # The Ed25519 public key's 32 raw bytes, in hex.
    public_key: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The signed time of the last registration accepted: a statement is never accepted twice.
    last_signed_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
