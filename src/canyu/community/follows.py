"""Following a post without voting for it, and the notice a comment sends to its followers.

Authors follow their posts and commenters the posts they comment on (as GitHub subscribes
them), until they unfollow. A comment is told to the followers of the whole merged tree it
lands in (a duplicate's followers hear about the canonical post, as its voters count there),
never to its own writer. Comment notices stay in the app; the weekly digest carries them by
email (canyu.community.digest), so a busy thread does not fill an inbox.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.community.models import Comment, Follow, Notification, Post
from canyu.db import utcnow


def follow(session: Session, *, user: User, post: Post) -> None:
    """Follow a post; following it again changes nothing, also twice at once."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Follow)
        .values(post_id=post.id, user_id=user.id, created_at=utcnow())
        .on_conflict_do_nothing()
    )


def unfollow(session: Session, *, user: User, post: Post) -> None:
    """Stop following; unfollowing a post one does not follow changes nothing."""
    session.execute(delete(Follow).where(Follow.post_id == post.id, Follow.user_id == user.id))


def is_following(session: Session, *, user: User, post: Post) -> bool:
    query = select(Follow.post_id).where(Follow.post_id == post.id, Follow.user_id == user.id)
    return session.scalar(query) is not None


def followers(session: Session, *, post_ids: Iterable[int]) -> set[int]:
    ids = list(post_ids)
    query = select(Follow.user_id).where(Follow.post_id.in_(ids)).distinct()
    return set(session.scalars(query))


def tell_followers(
    session: Session, *, comment: Comment, post: Post, author: User, tree: Iterable[int]
) -> list[Notification]:
    """A notice to every follower of the posts in ``tree`` (the merged tree the comment's post
    belongs to), about ``comment`` on ``post``; the comment's author follows from now on."""
    follow(session, user=author, post=post)
    recipients = followers(session, post_ids=tree) - {author.id}
    payload = {
        "event": "comment",
        "post_id": post.id,
        "post_title": post.title,
        "by": author.display_name,
        "comment_id": comment.id,
    }
    created = [
        Notification(
            user_id=user_id,
            post_id=post.id,
            kind="comment",
            payload=payload,
            created_at=comment.created_at,
        )
        for user_id in sorted(recipients)
    ]
    session.add_all(created)
    return created
