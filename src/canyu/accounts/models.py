from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canyu.db import Base, utcnow


class Role(StrEnum):
    FRIEND = "friend"
    TEAM = "team"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    country: Mapped[str] = mapped_column(String(2), default="CN", index=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.FRIEND.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the friend followed the link mailed to this address (None: not yet; canyu.accounts.
    # tokens). Digests go only to confirmed addresses.
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set by the team (canyu.accounts.bans): a banned account cannot sign in and is told why.
    banned_at: Mapped[datetime | None] = mapped_column(default=None)
    ban_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def is_team(self) -> bool:
        return self.role in (Role.TEAM, Role.ADMIN)


class WebSession(Base):
    """A signed-in browser; the cookie holds a random token, the table holds its hash."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token for scripts and devices; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined")
