"""The spam rule: a friend's post or comment that looks like spam joins the team's queue by
itself (the team decides; nothing is hidden by the rule alone)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.community.models import Comment, Post
from canyu.community.team_models import Flag
from canyu.db import utcnow

_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
MAX_LINKS = 2
REPEAT_WINDOW = timedelta(days=1)
# The rule's reasons, shown translated in the queue.
TOO_MANY_LINKS = "Three or more links."
REPEATED = "The same text was posted again within a day."


def signals(text: str) -> list[str]:
    """What in the text alone looks like spam."""
    return [TOO_MANY_LINKS] if len(_LINK.findall(text)) > MAX_LINKS else []


def _posted_before(
    session: Session, *, author: User, text: str, post: Post, comment: Comment | None
) -> bool:
    since = utcnow() - REPEAT_WINDOW
    if comment is None:
        query = select(Post.id).where(
            Post.author_id == author.id,
            Post.body == text,
            Post.id != post.id,
            Post.created_at >= since,
        )
    else:
        query = select(Comment.id).where(
            Comment.author_id == author.id,
            Comment.body == text,
            Comment.id != comment.id,
            Comment.created_at >= since,
        )
    return session.scalar(query.limit(1)) is not None


def screen(
    session: Session, *, author: User, post: Post, comment: Comment | None = None
) -> Flag | None:
    """Put a friend's new post or comment in the queue when the rule says so."""
    if author.is_team:
        return None
    text = comment.body if comment is not None else post.body
    reasons = signals(text if comment is not None else f"{post.title}\n{text}")
    if _posted_before(session, author=author, text=text, post=post, comment=comment):
        reasons.append(REPEATED)
    if not reasons:
        return None
    flag = Flag(
        target_kind="comment" if comment is not None else "post",
        target_id=comment.id if comment is not None else post.id,
        post_id=post.id,
        reporter_id=None,
        reason=" ".join(reasons),
        created_at=utcnow(),
    )
    session.add(flag)
    return flag
