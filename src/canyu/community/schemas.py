from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from canyu.accounts.schemas import UserOut
from canyu.community.models import Kind, Status
from canyu.community.service import MAX_BODY, MAX_COMMENT, MAX_TITLE
from canyu.db import MAX_ID

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


class PostIn(BaseModel):
    kind: Kind
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    device_model: str | None = Field(default=None, max_length=64)
    software_build: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8, description="Detected when omitted.")


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Kind
    title: str
    body: str
    device_model: str | None
    software_build: str | None
    language: str
    status: Status
    status_reason: str | None
    duplicate_of_id: int | None
    vote_count: int
    comment_count: int
    author: UserOut
    created_at: datetime


class SimilarOut(BaseModel):
    post: PostOut
    score: float = Field(description="0 to 1; higher is more similar.")
    likely_duplicate: bool = Field(
        description="The score passes the threshold calibrated so that at least half of the "
        "posts so marked are the same problem; pages show only these."
    )


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_COMMENT)


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    post_id: int
    body: str
    author: UserOut
    created_at: datetime


class StatusIn(BaseModel):
    status: Status
    reason: str | None = Field(default=None, max_length=2000)


class BulkStatusIn(StatusIn):
    post_ids: list[RowId] = Field(min_length=1, max_length=100)


class MergeIn(BaseModel):
    target_id: RowId


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: Status
    to_status: Status
    reason: str | None
    created_at: datetime


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    post_id: int | None
    kind: str
    payload: dict[str, Any]
    text: str
    created_at: datetime
    read_at: datetime | None


class MarkRead(BaseModel):
    ids: list[RowId] | None = Field(
        default=None, max_length=1000, description="Omit to mark everything read."
    )


class HonourOut(BaseModel):
    user: UserOut
    points: int
    posts_accepted: int
    posts_shipped: int
    early_votes: int


class HonourRollOut(BaseModel):
    formula: str
    entries: list[HonourOut]


class FollowOut(BaseModel):
    post_id: int
    following: bool


class DigestPreference(BaseModel):
    enabled: bool = Field(
        description="Whether the weekly email digest is sent (to a confirmed address)."
    )
