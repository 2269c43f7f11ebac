"""Moderation by the team: edit, hide, delete or restore a post or comment with a reason; ban an
account; the spam queue (friends' reports and the spam rule's, community.spam). Every step is
recorded (ModerationAction: who, when, what, why) and its author is told.

Hidden and deleted posts leave the lists and the similar-post suggestions; their pages are
shown only to the author (with "hidden by the team: reason") and the team, and take no votes or
comments. A deleted post's or comment's text is no longer shown to its author either; the
record keeps it for the team.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import bans
from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community import service
from canyu.community.models import Comment, Post
from canyu.community.team_models import Flag, ModerationAction
from canyu.db import utcnow
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.i18n import gettext_for
from canyu.mail import Email, queue_email

MAX_REPORT = 500
HIDDEN = "hidden"
DELETED = "deleted"


class Action(StrEnum):
    EDIT = "edit"
    HIDE = "hide"
    DELETE = "delete"
    RESTORE = "restore"


class Decision(StrEnum):
    """What the team decides on a reported post or comment."""

    DISMISS = "dismiss"  # not spam: the reports are closed, the text stays
    HIDE = "hide"
    DELETE = "delete"


def parse_action(value: str) -> Action:
    try:
        return Action(value)
    except ValueError:
        raise InvalidInput(
            f"Unknown action {value!r}; one of: {', '.join(a.value for a in Action)}."
        ) from None


def parse_decision(value: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        raise InvalidInput(
            f"Unknown decision {value!r}; one of: {', '.join(d.value for d in Decision)}."
        ) from None


# --- who sees what -----------------------------------------------------------------------


def may_see(item: Post | Comment, viewer: User | None) -> bool:
    return item.moderation is None or (
        viewer is not None and (viewer.is_team or viewer.id == item.author_id)
    )


def visible_post(session: Session, *, post_id: int, viewer: User | None) -> Post:
    """The post, or "no post" to whoever may not see it (a hidden post's existence is private)."""
    post = service.get_post(session, post_id=post_id)
    if not may_see(post, viewer):
        raise NotFound(f"No post {post_id}.")
    return post


def visible_comments(comments: Sequence[Comment], viewer: User | None) -> list[Comment]:
    return [c for c in comments if may_see(c, viewer)]


def get_comment(session: Session, *, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    return comment


# --- the record and the author's notice -------------------------------------------------------


def _record(
    session: Session,
    *,
    actor: User,
    kind: str,
    target_id: int,
    action: str,
    reason: str,
    before: dict[str, Any] | None = None,
) -> ModerationAction:
    entry = ModerationAction(
        actor_id=actor.id,
        target_kind=kind,
        target_id=target_id,
        action=action,
        reason=reason,
        before=before,
        created_at=utcnow(),
    )
    session.add(entry)
    return entry


def _tell_author(
    session: Session, *, author_id: int, post: Post, action: Action, kind: str, reason: str
) -> None:
    service.tell(
        session,
        user_id=author_id,
        posts=[post],
        event="moderation",
        action=action.value,
        target=kind,
        reason=reason,
    )


def history(session: Session, *, limit: int = 50) -> list[ModerationAction]:
    query = select(ModerationAction).order_by(
        ModerationAction.created_at.desc(), ModerationAction.id.desc()
    )
    return list(session.scalars(query.limit(limit)))


# --- posts and comments ------------------------------------------------------------------------


def _apply(
    item: Post | Comment, action: Action, *, title: str | None, body: str | None
) -> dict[str, Any]:
    """Change the item; returns what it was, for the record."""
    before: dict[str, Any] = {"moderation": item.moderation, "reason": item.moderation_reason}
    if action == Action.EDIT:
        if isinstance(item, Post):
            before |= {"title": item.title, "body": item.body}
            item.title = service.clean_text(
                title or item.title, field="title", maximum=service.MAX_TITLE
            )
            item.body = service.clean_text(
                item.body if body is None else body, field="body", maximum=service.MAX_BODY
            )
        else:
            before |= {"body": item.body}
            item.body = service.clean_text(
                item.body if body is None else body, field="comment", maximum=service.MAX_COMMENT
            )
    elif action == Action.RESTORE:
        if item.moderation is None:
            raise Conflict("It is not hidden or deleted.")
        item.moderation = item.moderation_reason = None
    else:
        state = HIDDEN if action == Action.HIDE else DELETED
        if item.moderation == state or item.moderation == DELETED:
            raise Conflict(f"It is already {item.moderation}.")
        item.moderation = state
    return before


def _moderate(
    session: Session,
    *,
    actor: User,
    item: Post | Comment,
    post: Post,
    action: str,
    reason: str,
    title: str | None,
    body: str | None,
) -> None:
    """One step on a post or comment: change it, record it, close its reports, tell its
    author. The callers have checked that the actor is on the team."""
    chosen = parse_action(action)
    clean = bans.check_reason(reason)
    kind = "post" if isinstance(item, Post) else "comment"
    was_shown = item.moderation is None
    before = _apply(item, chosen, title=title, body=body)
    if chosen in (Action.HIDE, Action.DELETE):
        item.moderation_reason = clean
    if isinstance(item, Comment):
        # The count friends see is of the comments they can read.
        post.comment_count += int(item.moderation is None) - int(was_shown)
    _record(
        session,
        actor=actor,
        kind=kind,
        target_id=item.id,
        action=chosen.value,
        reason=clean,
        before=before,
    )
    _close_reports(session, actor=actor, kind=kind, target_id=item.id, resolution=chosen.value)
    if item.author_id != actor.id:
        _tell_author(
            session, author_id=item.author_id, post=post, action=chosen, kind=kind, reason=clean
        )
    session.flush()


def moderate_post(
    session: Session,
    *,
    actor: User,
    post_id: int,
    action: str,
    reason: str,
    title: str | None = None,
    body: str | None = None,
) -> Post:
    accounts.require_team(actor)
    post = service.get_post(session, post_id=post_id)
    _moderate(
        session,
        actor=actor,
        item=post,
        post=post,
        action=action,
        reason=reason,
        title=title,
        body=body,
    )
    return post


def moderate_comment(
    session: Session,
    *,
    actor: User,
    comment_id: int,
    action: str,
    reason: str,
    body: str | None = None,
) -> Comment:
    accounts.require_team(actor)
    comment = get_comment(session, comment_id=comment_id)
    post = service.get_post(session, post_id=comment.post_id)
    _moderate(
        session,
        actor=actor,
        item=comment,
        post=post,
        action=action,
        reason=reason,
        title=None,
        body=body,
    )
    return comment


# --- bans ------------------------------------------------------------------------------------


def ban_account(session: Session, *, actor: User, user_id: int, reason: str) -> User:
    """Ban a friend: their sessions end, sign-in and API tokens are refused with the reason,
    and an email tells them (they can no longer read notices)."""
    user = accounts.get_user(session, user_id=user_id)
    bans.ban(session, actor=actor, user=user, reason=reason)
    assert user.ban_reason is not None
    _record(
        session, actor=actor, kind="user", target_id=user.id, action="ban", reason=user.ban_reason
    )
    _ = gettext_for(user.locale)
    queue_email(
        session,
        Email(
            to=user.email,
            subject=_("canyu: your account was banned"),
            body=_("The team banned your canyu account. Reason: {reason}").format(
                reason=user.ban_reason
            ),
        ),
    )
    session.flush()
    return user


def unban_account(session: Session, *, actor: User, user_id: int, reason: str) -> User:
    clean = bans.check_reason(reason)
    user = accounts.get_user(session, user_id=user_id)
    bans.unban(session, actor=actor, user=user)
    _record(session, actor=actor, kind="user", target_id=user.id, action="unban", reason=clean)
    session.flush()
    return user


def banned_accounts(session: Session) -> list[User]:
    query = select(User).where(User.banned_at.is_not(None)).order_by(User.banned_at.desc())
    return list(session.scalars(query))


# --- the spam queue ----------------------------------------------------------------------------


def report(
    session: Session, *, reporter: User, kind: str, target_id: int, reason: str = ""
) -> Flag:
    """A friend reports a post or comment as spam; reporting it again changes nothing."""
    text = reason.strip() or "Reported as spam."
    if len(text) > MAX_REPORT or "\x00" in text:
        raise InvalidInput(f"A report has at most {MAX_REPORT} characters.")
    if kind == "post":
        post = visible_post(session, post_id=target_id, viewer=reporter)
        author_id = post.author_id
    elif kind == "comment":
        comment = get_comment(session, comment_id=target_id)
        post = visible_post(session, post_id=comment.post_id, viewer=reporter)
        if not may_see(comment, reporter):
            raise NotFound(f"No comment {target_id}.")
        author_id = comment.author_id
    else:
        raise InvalidInput("Report a post or a comment.")
    if author_id == reporter.id:
        raise Conflict("You cannot report your own writing.")
    existing = session.scalar(
        select(Flag).where(
            Flag.target_kind == kind, Flag.target_id == target_id, Flag.reporter_id == reporter.id
        )
    )
    if existing is not None:
        return existing
    flag = Flag(
        target_kind=kind,
        target_id=target_id,
        post_id=post.id,
        reporter_id=reporter.id,
        reason=text,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():  # the same report twice at once: one row
            session.add(flag)
    except IntegrityError:
        found = session.scalar(
            select(Flag).where(
                Flag.target_kind == kind,
                Flag.target_id == target_id,
                Flag.reporter_id == reporter.id,
            )
        )
        assert found is not None
        return found
    return flag


@dataclass(frozen=True)
class QueueItem:
    """One reported post or comment with every open report on it."""

    kind: str
    post: Post
    comment: Comment | None
    flags: list[Flag]

    @property
    def target_id(self) -> int:
        return self.comment.id if self.comment is not None else self.post.id

    @property
    def author(self) -> User:
        return self.comment.author if self.comment is not None else self.post.author

    @property
    def text(self) -> str:
        return self.comment.body if self.comment is not None else self.post.body


def queue(session: Session, *, actor: User, limit: int = 50) -> list[QueueItem]:
    """Open reports, grouped by what they report, most reported first."""
    accounts.require_team(actor)
    flags = list(
        session.scalars(
            select(Flag).where(Flag.resolved_at.is_(None)).order_by(Flag.created_at, Flag.id)
        )
    )
    grouped: dict[tuple[str, int], list[Flag]] = {}
    for flag in flags:
        grouped.setdefault((flag.target_kind, flag.target_id), []).append(flag)
    items = []
    for (kind, target_id), found in grouped.items():
        post = service.get_post(session, post_id=found[0].post_id)
        comment = session.get(Comment, target_id) if kind == "comment" else None
        items.append(QueueItem(kind=kind, post=post, comment=comment, flags=found))
    items.sort(key=lambda i: (-len(i.flags), i.flags[0].created_at))
    return items[:limit]


def _close_reports(
    session: Session, *, actor: User, kind: str, target_id: int, resolution: str
) -> int:
    result = session.execute(
        update(Flag)
        .where(Flag.target_kind == kind, Flag.target_id == target_id, Flag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution=resolution, resolved_by_id=actor.id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def review(
    session: Session, *, actor: User, kind: str, target_id: int, decision: str, reason: str
) -> int:
    """Decide on a reported post or comment; every open report on it is closed. Returns how
    many reports were closed."""
    accounts.require_team(actor)
    chosen = parse_decision(decision)
    open_reports = session.scalars(
        select(Flag.id).where(
            Flag.target_kind == kind, Flag.target_id == target_id, Flag.resolved_at.is_(None)
        )
    ).all()
    if not open_reports:
        raise NotFound(f"No open reports on {kind} {target_id}.")
    if chosen == Decision.DISMISS:
        clean = bans.check_reason(reason)
        _record(
            session, actor=actor, kind=kind, target_id=target_id, action="dismiss", reason=clean
        )
        closed = _close_reports(
            session, actor=actor, kind=kind, target_id=target_id, resolution="dismiss"
        )
        session.flush()
        return closed
    if kind == "post":
        moderate_post(session, actor=actor, post_id=target_id, action=chosen.value, reason=reason)
    else:
        moderate_comment(
            session, actor=actor, comment_id=target_id, action=chosen.value, reason=reason
        )
    return len(open_reports)


def open_report_count(session: Session) -> int:
    query = select(func.count(func.distinct(Flag.target_kind + ":" + cast(Flag.target_id, String))))
    return int(session.scalar(query.where(Flag.resolved_at.is_(None))) or 0)
