"""Tables of the calls domain: numbers with their labels, friends' marks, label history (for
pack deltas), reporter agreement, packs, one-time codes and appeals."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canyu.accounts.models import User
from canyu.db import Base, utcnow


class Decision(StrEnum):
    """A team decision on a number; without one the crowd decides."""

    LABEL = "label"  # labelled with decision_category whatever the marks say
    CLEAR = "clear"  # never labelled (a verified business): new evidence goes to review


class AppealStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"  # label removed, number protected
    REJECTED = "rejected"  # label stays


class Number(Base):
    __tablename__ = "calls_numbers"
    __table_args__ = (
        Index("ix_calls_numbers_region_label", "region", "label"),
        Index("ix_calls_numbers_bucket_label", "hash_bucket", "label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    region: Mapped[str] = mapped_column(String(3))
    number_type: Mapped[str] = mapped_column(String(24))
    # First 32 bits of SHA-256(e164): devices look up by prefix of the hash.
    hash_bucket: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str | None] = mapped_column(String(16), default=None)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    marks_count: Mapped[int] = mapped_column(default=0)
    labelled_at: Mapped[datetime | None] = mapped_column(default=None)
    decision: Mapped[str | None] = mapped_column(String(8), default=None)
    decision_category: Mapped[str | None] = mapped_column(String(16), default=None)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # A protected number whose evidence reached the label score again: the team should look.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    needs_rescore: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Complaint feeds' evidence at the last rescore (canyu.calls.feeds): what makes a number
    # "suspicious" (warn) below a label, and what the range signal is computed from.
    feed_score: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallMark(Base):
    __tablename__ = "calls_marks"
    __table_args__ = (UniqueConstraint("number_id", "user_id", name="uq_calls_marks_number_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("calls_numbers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    # Hashed network (IPv4 /24, IPv6 /48) the mark came from; None when unknown (imports).
    network: Mapped[str | None] = mapped_column(String(32), default=None)
    source: Mapped[str] = mapped_column(String(8), default="portal")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    number: Mapped[Number] = relationship(lazy="joined")


class ReporterStats(Base):
    """A friend's agreement with the crowd, recomputed by the periodic job."""

    __tablename__ = "calls_reporter_stats"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agreed: Mapped[int] = mapped_column(default=0)
    disagreed: Mapped[int] = mapped_column(default=0)
    unconfirmed: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelEvent(Base):
    """A number's label changed (category, or None when removed): what pack deltas are made of."""

    __tablename__ = "calls_label_events"
    __table_args__ = (Index("ix_calls_label_events_region_at", "region", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("calls_numbers.id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(String(3))
    category: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PackRecord(Base):
    __tablename__ = "calls_packs"
    __table_args__ = (UniqueConstraint("region", "version", name="uq_calls_packs_region_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(3))
    version: Mapped[int]
    count: Mapped[int]
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # The moment the labels were read (deltas are computed from it) and when it was published.
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class OwnershipCode(Base):
    """A one-time code sent to a number, proving the friend who asked controls it."""

    __tablename__ = "calls_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("calls_numbers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(96))  # "salt$sha256"
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None] = mapped_column(default=None)


class Appeal(Base):
    __tablename__ = "calls_appeals"
    __table_args__ = (Index("ix_calls_appeals_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("calls_numbers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("calls_codes.id", ondelete="CASCADE"))
    business_name: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=AppealStatus.PENDING.value)
    label_at_appeal: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    note: Mapped[str] = mapped_column(Text, default="")

    number: Mapped[Number] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class Feed(Base):
    """A complaint feed: a regulator's or carrier's reports, with provenance, weight and decay
    (canyu.calls.feeds). Not a friend: its complaints never pass through the trust rules."""

    __tablename__ = "calls_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # "FTC", shown on number pages
    provenance: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(3))  # for numbers written without +country code
    category: Mapped[str] = mapped_column(String(16))  # what its labels say
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    half_life_days: Mapped[float] = mapped_column(Float, default=7.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedReport(Base):
    """Complaints of one feed about one number on one day."""

    __tablename__ = "calls_feed_reports"
    __table_args__ = (
        UniqueConstraint(
            "feed_id", "number_id", "day", name="uq_calls_feed_reports_feed_number_day"
        ),
        Index("ix_calls_feed_reports_number_day", "number_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("calls_feeds.id", ondelete="CASCADE"))
    number_id: Mapped[int] = mapped_column(ForeignKey("calls_numbers.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(default=0)


class FeedImport(Base):
    """One file imported into a feed (provenance; and what makes its zones' packs due)."""

    __tablename__ = "calls_feed_imports"
    __table_args__ = (Index("ix_calls_feed_imports_zone_at", "zone", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("calls_feeds.id", ondelete="CASCADE"))
    zone: Mapped[str] = mapped_column(String(3))
    file_name: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[date] = mapped_column(Date)
    complaints: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsReport(Base):
    """A friend's report from the phone about one SMS: spam the classifier let through, or a
    message it wrongly flagged. ``label`` is what the message really is; the next training run
    (``canyu calls publish-sms``) learns from these."""

    __tablename__ = "calls_sms_reports"
    __table_args__ = (Index("ix_calls_sms_reports_language_id", "language", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(4))  # "spam" or "ham"
    language: Mapped[str] = mapped_column(String(16))  # the model's language or region
    text: Mapped[str] = mapped_column(Text)
    model_version: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
