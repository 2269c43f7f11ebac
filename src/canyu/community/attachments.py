"""Screenshots on posts and comments: who may add them, how many, and who may see them.

The cleaned bytes are stored in the database row (Attachment.data), in the same transaction as
the post or comment they belong to: a refused image or a failed commit leaves nothing, not a
file without a row nor a row without a file, and backups and deletions need no second store.
Screenshots are small after re-encoding (at most 2 MB, usually 100-300 kB).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from canyu.accounts.models import User
from canyu.community import images, moderation
from canyu.community.models import Comment, Post
from canyu.community.team_models import Attachment
from canyu.db import utcnow
from canyu.errors import Forbidden, InvalidInput, NotFound

MAX_PER_ITEM = 4


def attach(
    session: Session,
    *,
    uploader: User,
    post: Post,
    comment: Comment | None = None,
    files: Sequence[bytes],
) -> list[Attachment]:
    """Clean every image first, then add them all: one bad image refuses the whole upload."""
    author_id = comment.author_id if comment is not None else post.author_id
    if uploader.id != author_id and not uploader.is_team:
        raise Forbidden("Only the author or the team can add screenshots here.")
    if not files:
        return []
    query = select(func.count()).where(Attachment.post_id == post.id)
    query = query.where(
        Attachment.comment_id == comment.id
        if comment is not None
        else Attachment.comment_id.is_(None)
    )
    existing = int(session.scalar(query) or 0)
    if existing + len(files) > MAX_PER_ITEM:
        raise InvalidInput(
            f"At most {MAX_PER_ITEM} screenshots per post or comment.",
            details={"field": "screenshot"},
        )
    cleaned = [images.clean(raw) for raw in files]
    rows = [
        Attachment(
            post_id=post.id,
            comment_id=comment.id if comment is not None else None,
            uploader_id=uploader.id,
            content_type=image.content_type,
            width=image.width,
            height=image.height,
            size=len(image.data),
            sha256=image.sha256,
            data=image.data,
            created_at=utcnow(),
        )
        for image in cleaned
    ]
    session.add_all(rows)
    session.flush()
    return rows


def on_post(session: Session, *, post: Post) -> dict[int | None, list[Attachment]]:
    """The post's screenshots (key None) and its comments' (key: comment id), oldest first;
    the pages show those of the comments the viewer may read."""
    query = select(Attachment).where(Attachment.post_id == post.id).order_by(Attachment.id)
    grouped: dict[int | None, list[Attachment]] = {}
    for attachment in session.scalars(query):
        grouped.setdefault(attachment.comment_id, []).append(attachment)
    return grouped


def readable(session: Session, *, attachment_id: int, viewer: User | None) -> Attachment:
    """The screenshot with its bytes, for whoever may read the post or comment it is on."""
    attachment = session.scalar(
        select(Attachment).where(Attachment.id == attachment_id).options(undefer(Attachment.data))
    )
    missing = NotFound(f"No screenshot {attachment_id}.")
    if attachment is None:
        raise missing
    post = session.get(Post, attachment.post_id)
    if post is None or not moderation.may_see(post, viewer):
        raise missing
    if attachment.comment_id is not None:
        comment = session.get(Comment, attachment.comment_id)
        if comment is None or not moderation.may_see(comment, viewer):
            raise missing
    return attachment
