from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from canyu.accounts.models import User
from canyu.db import Base, utcnow


class Kind(StrEnum):
    BUG = "bug"
    IDEA = "idea"


class Status(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    PLANNED = "planned"
    SHIPPED = "shipped"
    DECLINED = "declined"
    DUPLICATE = "duplicate"


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_status_top", "status", "top_score"),
        Index("ix_posts_status_created", "status", "created_at"),
        Index("ix_posts_status_votes", "status", "vote_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    device_model: Mapped[str | None] = mapped_column(String(64), index=True)
    software_build: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    # Distinct voters on this post and on every post merged into it.
    vote_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)
    # log10(1 + votes) + age bonus: a time-invariant "top" score (see ranking.top_score).
    top_score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # "hidden" or "deleted" by the team, with the reason its author reads (community.moderation).
    moderation: Mapped[str | None] = mapped_column(String(8), default=None)
    moderation_reason: Mapped[str | None] = mapped_column(Text, default=None)

    author: Mapped[User] = relationship(lazy="joined")


class PostVector(Base):
    """A post's title embedding, computed once when the post is written (community.vectors),
    so server workers load it instead of each embedding every post at start."""

    __tablename__ = "post_vectors"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    # Which encoder made it: another encoder's vectors are recomputed, never mixed.
    encoder: Mapped[str] = mapped_column(String(40))
    # int8 codes, one byte a dimension; the vector is codes * scale.
    scale: Mapped[float]
    codes: Mapped[bytes] = mapped_column(LargeBinary)


class Vote(Base):
    __tablename__ = "votes"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    moderation: Mapped[str | None] = mapped_column(String(8), default=None)
    moderation_reason: Mapped[str | None] = mapped_column(Text, default=None)

    author: Mapped[User] = relationship(lazy="joined")


class StatusChange(Base):
    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Merge(Base):
    """A duplicate merge, kept so it can be undone exactly."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    source_status_before: Mapped[str] = mapped_column(String(16))
    source_reason_before: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(default=None)


class Notification(Base):
    """An in-app notice; ``payload`` holds the facts so each reader sees it in their language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class VoteCredit(Base):
    """An early vote, credited when its post was first accepted; kept even if the vote is taken
    back later, because credit is never taken away."""

    __tablename__ = "vote_credits"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follow(Base):
    """A friend following a post without voting for it: comments on it reach them. Authors
    follow their own posts, and commenters the posts they comment on, until they unfollow."""

    __tablename__ = "follows"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSubscription(Base):
    """A friend's email digest: on unless turned off; no row means on and never sent."""

    __tablename__ = "digest_subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(default=None)
