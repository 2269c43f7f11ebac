"""Tables of the releases domain: products, builds, payloads, the train, rollouts, health, and
the install and crash reports devices send about the builds they were offered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canyu.accounts.models import User
from canyu.db import Base, utcnow


class Channel(StrEnum):
    DEVELOPER = "developer"
    BETA = "beta"
    STABLE = "stable"


class ProductKind(StrEnum):
    PHONE = "phone"
    TABLET = "tablet"
    WEARABLE = "wearable"
    IOT = "iot"


class RolloutStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    HALTED = "halted"
    ROLLED_BACK = "rolled_back"
    COMPLETED = "completed"


LIVE_STATUSES = (RolloutStatus.ACTIVE.value, RolloutStatus.PAUSED.value)


class ReleaseProduct(Base):
    """A device model (a phone, a pad, an IoT device type) with its own update repository."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # URL/topic-safe slug
    name: Mapped[str] = mapped_column(String(80))  # as friends write it in feedback
    kind: Mapped[str] = mapped_column(String(16), default=ProductKind.PHONE.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Build(Base):
    __tablename__ = "builds"
    __table_args__ = (
        UniqueConstraint(
            "product_id", "channel", "version", name="uq_builds_product_channel_version"
        ),
        Index("ix_builds_product_channel", "product_id", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    channel: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(64))  # normalised PEP 440
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the build first goes out to devices; its posts move to "shipped" then.
    released_at: Mapped[datetime | None] = mapped_column(default=None)

    product: Mapped[ReleaseProduct] = relationship(lazy="joined")
    payloads: Mapped[list[BuildPayload]] = relationship(
        back_populates="build", order_by="BuildPayload.id", lazy="selectin"
    )


class BuildPayload(Base):
    """An update file of a build; the bytes live in the product's TUF repository as a target."""

    __tablename__ = "build_payloads"
    __table_args__ = (UniqueConstraint("build_id", "filename", name="uq_build_payloads_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(128))
    target_name: Mapped[str] = mapped_column(String(255))
    length: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    build: Mapped[Build] = relationship(back_populates="payloads")


class TrainItem(Base):
    """A planned post the team put on a product's next weekly train (before the cut)."""

    __tablename__ = "train_items"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attached_at: Mapped[datetime] = mapped_column(default=utcnow)


class BuildPost(Base):
    """A post whose fix or feature is in a build (its changelog is written from these)."""

    __tablename__ = "build_posts"

    build_id: Mapped[int] = mapped_column(
        ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CreditOptout(Base):
    """A friend who prefers not to be named in changelogs (still counted, never named)."""

    __tablename__ = "release_credit_optouts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rollout(Base):
    __tablename__ = "rollouts"
    __table_args__ = (Index("ix_rollouts_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id"), index=True)
    # What devices in the cohort are offered on roll back: the last completed build.
    previous_build_id: Mapped[int | None] = mapped_column(ForeignKey("builds.id"))
    status: Mapped[str] = mapped_column(String(16), default=RolloutStatus.ACTIVE.value)
    stages: Mapped[list[float]] = mapped_column(JSON)
    stage_index: Mapped[int] = mapped_column(default=0)
    stage_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Successful installs counted when the current stage began (a stage needs its own).
    stage_base_successes: Mapped[int] = mapped_column(default=0)
    channels: Mapped[list[str]] = mapped_column(JSON)
    countries: Mapped[list[str]] = mapped_column(JSON)  # empty: every country
    device_models: Mapped[list[str]] = mapped_column(JSON)  # empty: every model of the product
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Counts when the team last resumed it: pausing gates judge what happened since then.
    gate_base: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)  # why it is paused, halted or rolled back
    auto_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    build: Mapped[Build] = relationship(foreign_keys=[build_id], lazy="joined")
    previous_build: Mapped[Build | None] = relationship(foreign_keys=[previous_build_id])

    @property
    def percent(self) -> float:
        return float(self.stages[self.stage_index])


class RolloutEvent(Base):
    """The rollout's history: started, advanced, paused (by whom or by which gate), resumed..."""

    __tablename__ = "rollout_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(
        ForeignKey("rollouts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    stage_index: Mapped[int]
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Who moved it (None: the health gates), named in the history.
    actor: Mapped[User | None] = relationship(lazy="joined")


class HealthSample(Base):
    """Cumulative health counts at one moment: the rollout page's chart over time."""

    __tablename__ = "rollout_health_samples"
    __table_args__ = (Index("ix_rollout_health_samples_rollout_at", "rollout_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"))
    stage_index: Mapped[int]
    percent: Mapped[float]
    successes: Mapped[int]
    failures: Mapped[int]
    crashes: Mapped[int]
    feedback: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- what devices report about the builds they were offered ---------------------------------


class DeviceReport(Base):
    """An install result or a crash count; ``report_id`` comes from the device, so retries of
    the same report are recognised and counted once."""

    __tablename__ = "device_reports"
    __table_args__ = (
        UniqueConstraint("device_id", "report_id", name="uq_device_reports_device_report"),
        Index("ix_device_reports_rollout_kind", "rollout_id", "kind", "success"),
        Index("ix_device_reports_build_kind", "build_id", "kind", "success"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    report_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # "install" or "crash"
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id"))
    rollout_id: Mapped[int | None] = mapped_column(ForeignKey("rollouts.id"))
    success: Mapped[bool | None] = mapped_column(Boolean)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    crashes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstalledNotice(Base):
    """A friend was told that a build with their post is on their phone (told once per build)."""

    __tablename__ = "installed_notices"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    build_id: Mapped[int] = mapped_column(
        ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
