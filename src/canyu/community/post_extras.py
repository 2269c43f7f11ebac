"""What a post's page shows beyond the post itself: its screenshots, the moderation state, the
viewer's private threads with the team on it, and what the viewer has reported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.community import attachments, conversations
from canyu.community.models import Comment, Post
from canyu.community.team_models import Flag


def context(
    session: Session, *, post: Post, viewer: User | None, comments: Sequence[Comment]
) -> dict[str, Any]:
    reported: set[tuple[str, int]] = set()
    if viewer is not None:
        query = select(Flag.target_kind, Flag.target_id).where(
            Flag.reporter_id == viewer.id, Flag.post_id == post.id
        )
        reported = {(kind, target) for kind, target in session.execute(query)}
    return {
        "screenshots": attachments.on_post(session, post=post),
        "threads": conversations.on_post(session, post=post, viewer=viewer),
        "reported": reported,
        "comment_ids": {c.id for c in comments},
    }
