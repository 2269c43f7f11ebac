"""Tables of the IoT domain: pairing codes, each device's broker credentials, its telemetry and
the commands its owner sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from canyu.db import Base, utcnow

# Telemetry outgrows 32-bit ids in about a day at the benchmark's pace; SQLite's rowid is 64-bit
# already and autoincrements only as INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class PairingCode(Base):
    """A one-time code an owner gets (on the phone or the profile) and types into the device's
    set-up: short-lived, used once, kept only as a hash."""

    __tablename__ = "iot_pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Where the device will be used (the owner's country, or the phone's that asked).
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), default=None
    )


class BrokerCredential(Base):
    """A device's broker account: issued at pairing, gone with the device (revoked_at)."""

    __tablename__ = "iot_credentials"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(24), unique=True)
    # mosquitto_passwd's hash (canyu.iot.broker.password_hash); the password is shown once.
    password_hash: Mapped[str] = mapped_column(String(160))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class TelemetryRecord(Base):
    """One telemetry message as stored by the ingest (canyu.iot.ingest), in batches."""

    __tablename__ = "iot_telemetry"
    __table_args__ = (Index("ix_iot_telemetry_device", "device_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    state: Mapped[str | None] = mapped_column(String(8), default=None)
    mode: Mapped[str | None] = mapped_column(String(8), default=None)
    version: Mapped[str | None] = mapped_column(String(64), default=None)
    readings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The device's own clock (ms since 1970), when it sent one: how late the message arrived.
    sent_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)


class DeviceCommand(Base):
    """A command an owner sent to their device (power on/off, a mode)."""

    __tablename__ = "iot_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(16))
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
