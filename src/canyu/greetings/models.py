"""Tables of the greetings domain: friends' greetings per festival and language, their votes,
and the packs built from the approved ones."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canyu.accounts.models import User
from canyu.db import Base, utcnow


class GreetingStatus(StrEnum):
    PENDING = "pending"  # in the team's queue
    APPROVED = "approved"  # may ship in packs
    REJECTED = "rejected"


class Greeting(Base):
    __tablename__ = "greetings"
    __table_args__ = (
        Index("ix_greetings_festival_language", "festival_key", "language", "status"),
        Index("ix_greetings_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    festival_key: Mapped[str] = mapped_column(String(48))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(400))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=GreetingStatus.PENDING.value)
    votes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str | None] = mapped_column(String(200), default=None)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")


class GreetingVote(Base):
    __tablename__ = "greeting_votes"

    greeting_id: Mapped[int] = mapped_column(
        ForeignKey("greetings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GreetingPack(Base):
    """One built pack of a country and language (the newest version is what phones get)."""

    __tablename__ = "greeting_packs"
    __table_args__ = (Index("ix_greeting_packs_country_language", "country", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int]
    greetings: Mapped[int]
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    published: Mapped[bool] = mapped_column(default=False)
