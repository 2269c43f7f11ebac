"""Shapes of the moderation, screenshot and conversation API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from canyu.accounts.bans import MAX_REASON
from canyu.accounts.schemas import UserOut
from canyu.community.conversations import MAX_MESSAGE
from canyu.community.moderation import MAX_REPORT, Action, Decision
from canyu.community.service import MAX_BODY, MAX_TITLE
from canyu.db import MAX_ID

Reason = Field(min_length=1, max_length=MAX_REASON, description="The person concerned reads it.")


class ModerateIn(BaseModel):
    action: Action
    reason: str = Reason
    title: str | None = Field(default=None, max_length=MAX_TITLE, description="For edit.")
    body: str | None = Field(default=None, max_length=MAX_BODY, description="For edit.")


class ModeratedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    moderation: str | None
    moderation_reason: str | None
    body: str


class ReasonIn(BaseModel):
    reason: str = Reason


class BanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    banned_at: datetime | None
    ban_reason: str | None


class ReportIn(BaseModel):
    reason: str = Field(default="", max_length=MAX_REPORT)


class FlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    target_kind: str
    target_id: int
    post_id: int
    reason: str
    created_at: datetime


class QueueItemOut(BaseModel):
    kind: str
    target_id: int
    post_id: int
    author: UserOut
    text: str
    reports: list[FlagOut]


class ReviewIn(BaseModel):
    decision: Decision
    reason: str = Reason


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor: UserOut | None
    target_kind: str
    target_id: int
    action: str
    reason: str
    before: dict[str, Any] | None
    created_at: datetime


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    post_id: int
    comment_id: int | None
    content_type: str
    width: int
    height: int
    size: int
    created_at: datetime
    url: str


class MessageIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_MESSAGE)


class StartIn(MessageIn):
    friend_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="The team's choice; the post's author if omitted.",
    )


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author: UserOut
    body: str
    created_at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    post_id: int
    friend: UserOut
    created_at: datetime
    last_message_at: datetime
    awaiting_team: bool


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]
