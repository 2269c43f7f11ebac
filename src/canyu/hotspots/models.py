"""Tables of the hotspots domain: hotspots (indexed by H3 cell), where each came from, owners'
claims, friends' confirmations and the packs built from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from canyu.db import Base, utcnow


class Status(StrEnum):
    ACTIVE = "active"  # listed, in packs unless failing
    SUGGESTED = "suggested"  # a friend's suggestion, waiting for the team or an owner
    REJECTED = "rejected"


class ClaimStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"


class Outcome(StrEnum):
    WORKED = "worked"
    FAILED = "failed"
    LOGIN = "login"  # it worked after a login page


class Hotspot(Base):
    __tablename__ = "hotspots"
    __table_args__ = (
        # The near query: ranges of res-15 H3 cells (a coarse cell's children are one range).
        # It covers the first pass of the query (position and filters), so the thousand rows
        # of a dense kilometre are ordered from the index alone.
        Index("ix_hotspots_cell", "cell", "lat", "lon", "status", "failing", "free", "kind"),
        Index("ix_hotspots_region_status", "region", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger)  # H3 res 15 (about 0.9 m^2), as an integer
    region: Mapped[str] = mapped_column(String(16))  # H3 res 3 cell (hex): the pack it goes in
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    ssid: Mapped[str] = mapped_column(String(32))
    ssid_key: Mapped[str] = mapped_column(String(32))  # casefolded, for merging
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(12), default="open")
    free: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(12), default=Status.ACTIVE.value)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    suggested_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    password: Mapped[str | None] = mapped_column(String(63), default=None)
    passpoint: Mapped[str | None] = mapped_column(Text, default=None)
    portal_url: Mapped[str | None] = mapped_column(String(500), default=None)
    portal_api: Mapped[str | None] = mapped_column(String(500), default=None)
    # Trust-weighted, exponentially fading counts of friends' outcomes (as of counts_at).
    ok_weight: Mapped[float] = mapped_column(Float, default=0.0)
    fail_weight: Mapped[float] = mapped_column(Float, default=0.0)
    login_weight: Mapped[float] = mapped_column(Float, default=0.0)
    counts_at: Mapped[datetime | None] = mapped_column(default=None)
    confirmations: Mapped[int] = mapped_column(default=0)
    success_class: Mapped[int] = mapped_column(SmallInteger, default=0)
    failing: Mapped[bool] = mapped_column(Boolean, default=False)
    last_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_worked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HotspotSource(Base):
    """Where a hotspot came from: one row per source that lists it (merged duplicates keep
    every provenance), with the licence it came under."""

    __tablename__ = "hotspot_sources"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_hotspot_sources_source_external"),
        Index("ix_hotspot_sources_hotspot", "hotspot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    licence: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class Claim(Base):
    __tablename__ = "hotspot_claims"
    __table_args__ = (
        UniqueConstraint("hotspot_id", "user_id", name="uq_hotspot_claims_hotspot_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))  # the portal page or website showing the code
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=ClaimStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)


class Confirmation(Base):
    __tablename__ = "hotspot_confirmations"
    __table_args__ = (
        Index("ix_hotspot_confirmations_user_at", "user_id", "at"),
        Index("ix_hotspot_confirmations_hotspot_user_at", "hotspot_id", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(8))
    weight: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PackRecord(Base):
    __tablename__ = "hotspot_packs"
    __table_args__ = (
        UniqueConstraint("region", "version", name="uq_hotspot_packs_region_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column()
    count: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    published: Mapped[bool] = mapped_column(Boolean, default=False)


__all__ = [
    "Claim",
    "ClaimStatus",
    "Confirmation",
    "Hotspot",
    "HotspotSource",
    "Outcome",
    "PackRecord",
    "Status",
]
