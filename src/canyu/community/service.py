"""Feedback rules: posts, votes, comments, statuses, merges, notifications, credits.

Every function takes the session first and keyword arguments after it; none knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community import follows, notices, ranking, spam, vectors, workflow
from canyu.community.credits import Contribution
from canyu.community.language import SUPPORTED as SUPPORTED_LANGUAGES
from canyu.community.language import detect_language
from canyu.community.models import (
    Comment,
    Kind,
    Merge,
    Notification,
    Post,
    Status,
    StatusChange,
    Vote,
    VoteCredit,
)
from canyu.db import MAX_ID, utcnow
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.i18n import gettext_for
from canyu.mail import Email, queue_email

MAX_TITLE = 200
MAX_BODY = 10_000
MAX_COMMENT = 5_000
MAX_PAGE = 100


class Sort(StrEnum):
    HOT = "hot"  # votes, decaying with age (ranking.top_score)
    TOP = "top"  # most votes of all time
    NEW = "new"
    TRENDING = "trending"


@dataclass(frozen=True)
class PostFilters:
    kind: Kind | None = None
    status: Status | None = None
    language: str | None = None
    device_model: str | None = None
    include_duplicates: bool = False


def _no_nul(value: str | None, *, field: str) -> None:
    # PostgreSQL cannot store NUL in text; refuse it on every backend alike.
    if value is not None and "\x00" in value:
        raise InvalidInput(f"The {field} contains a NUL character.", details={"field": field})


def _text(value: str, *, field: str, maximum: int, minimum: int = 1) -> str:
    cleaned = value.strip()
    if not minimum <= len(cleaned) <= maximum:
        raise InvalidInput(
            f"The {field} has {minimum} to {maximum} characters (got {len(cleaned)}).",
            details={"field": field},
        )
    _no_nul(cleaned, field=field)
    return cleaned


# The same checks for the team's edits (community.moderation).
clean_text = _text


def _optional(value: str | None, *, field: str, maximum: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _text(value, field=field, maximum=maximum)


def parse_kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise InvalidInput(f"Unknown kind {value!r}; one of: bug, idea.") from None


# --- posts -------------------------------------------------------------------------------


def create_post(
    session: Session,
    *,
    author: User,
    kind: str,
    title: str,
    body: str,
    device_model: str | None = None,
    software_build: str | None = None,
    language: str | None = None,
    created_at: datetime | None = None,
) -> Post:
    post_kind = parse_kind(kind)
    clean_title = _text(title, field="title", maximum=MAX_TITLE)
    clean_body = _text(body, field="body", maximum=MAX_BODY)
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise InvalidInput(
            f"Unsupported language {language!r}; one of: {', '.join(sorted(SUPPORTED_LANGUAGES))}."
        )
    when = created_at or utcnow()
    post = Post(
        author_id=author.id,
        kind=post_kind.value,
        title=clean_title,
        body=clean_body,
        device_model=_optional(device_model, field="device model", maximum=64),
        software_build=_optional(software_build, field="software build", maximum=64),
        language=language or detect_language(f"{clean_title}\n{clean_body}"),
        status=Status.NEW.value,
        created_at=when,
        top_score=ranking.top_score(0, when),
    )
    session.add(post)
    session.flush()
    follows.follow(session, user=author, post=post)
    spam.screen(session, author=author, post=post)
    # Embedded once here, so no server worker embeds it again (community.vectors).
    vectors.store(session, [(post.id, post.title, post.body)])
    return post


def get_post(session: Session, *, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"No post {post_id}.")
    return post


def canonical(session: Session, *, post: Post) -> Post:
    """Follow duplicate links to the post that collects the votes."""
    seen = {post.id}
    while post.duplicate_of_id is not None:
        post = get_post(session, post_id=post.duplicate_of_id)
        if post.id in seen:  # defensive: merges refuse cycles, but never loop forever
            break
        seen.add(post.id)
    return post


def merged_tree_ids(session: Session, *, post_id: int) -> list[int]:
    """The post and every post merged into it, directly or through other merges."""
    ids, frontier = [post_id], [post_id]
    while frontier:
        frontier = list(session.scalars(select(Post.id).where(Post.duplicate_of_id.in_(frontier))))
        ids.extend(frontier)
    return ids


def list_posts(
    session: Session,
    *,
    sort: Sort = Sort.HOT,
    filters: PostFilters = PostFilters(),
    limit: int = 20,
    offset: int = 0,
) -> list[Post]:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit is 1 to {MAX_PAGE}.")
    if offset < 0:
        raise InvalidInput("offset is 0 or more.")
    _no_nul(filters.language, field="language")
    _no_nul(filters.device_model, field="device model")
    # Posts the team hid or deleted are shown only to their authors and the team, one by one.
    query: Select[tuple[Post]] = select(Post)
    query = query.where(Post.moderation.is_(None))
    if filters.kind:
        query = query.where(Post.kind == filters.kind.value)
    if filters.status:
        query = query.where(Post.status == filters.status.value)
    elif not filters.include_duplicates:
        query = query.where(Post.status != Status.DUPLICATE.value)
    if filters.language:
        query = query.where(Post.language == filters.language)
    if filters.device_model:
        query = query.where(Post.device_model == filters.device_model)
    if sort == Sort.NEW:
        query = query.order_by(Post.created_at.desc(), Post.id.desc())
    elif sort == Sort.HOT:
        query = query.order_by(Post.top_score.desc(), Post.id.desc())
    elif sort == Sort.TOP:
        query = query.order_by(Post.vote_count.desc(), Post.top_score.desc(), Post.id.desc())
    else:
        since = utcnow() - timedelta(days=ranking.TRENDING_DAYS)
        recent = (
            select(Vote.post_id, func.count().label("recent"))
            .where(Vote.created_at >= since)
            .group_by(Vote.post_id)
            .subquery()
        )
        query = query.outerjoin(recent, recent.c.post_id == Post.id).order_by(
            func.coalesce(recent.c.recent, 0).desc(), Post.top_score.desc(), Post.id.desc()
        )
    return list(session.scalars(query.limit(limit).offset(offset)))


def device_models(session: Session) -> list[str]:
    query = select(Post.device_model).where(Post.device_model.is_not(None)).distinct()
    return sorted(m for m in session.scalars(query) if m)


# --- votes --------------------------------------------------------------------------------


def _recount(session: Session, *, post: Post) -> None:
    ids = merged_tree_ids(session, post_id=post.id)
    voters = session.scalar(
        select(func.count(func.distinct(Vote.user_id))).where(Vote.post_id.in_(ids))
    )
    post.vote_count = int(voters or 0)
    post.top_score = ranking.top_score(post.vote_count, post.created_at)


def _closed_if_moderated(post: Post) -> None:
    if post.moderation is not None:
        raise Conflict(f"The team {post.moderation} this post; it takes no votes or comments.")


def _votable(session: Session, *, post_id: int) -> Post:
    post = get_post(session, post_id=post_id)
    _closed_if_moderated(post)
    if post.status == Status.DUPLICATE:
        target = canonical(session, post=post)
        raise Conflict(
            f"Post {post.id} was merged into post {target.id}; vote there.",
            details={"canonical_id": target.id},
        )
    return post


def has_voted(session: Session, *, user: User, post_ids: Iterable[int]) -> set[int]:
    ids = list(post_ids)
    if not ids:
        return set()
    query = select(Vote.post_id).where(Vote.user_id == user.id, Vote.post_id.in_(ids))
    return set(session.scalars(query))


def voters_of(session: Session, *, post: Post) -> set[int]:
    ids = merged_tree_ids(session, post_id=post.id)
    return set(session.scalars(select(Vote.user_id).where(Vote.post_id.in_(ids)).distinct()))


def vote(session: Session, *, user: User, post_id: int, created_at: datetime | None = None) -> Post:
    """Vote for a post; voting again changes nothing, also when the same vote arrives twice at
    once (one INSERT ... ON CONFLICT DO NOTHING: no error, the same answer)."""
    post = _votable(session, post_id=post_id)
    values = {"post_id": post.id, "user_id": user.id, "created_at": created_at or utcnow()}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = session.execute(
        insert(Vote).values(**values).on_conflict_do_nothing().returning(Vote.post_id)
    ).first()
    if added is not None:
        # Votes on one post are counted one at a time (PostgreSQL: the post's row lock), so
        # concurrent voters do not each write a count that misses the other.
        session.execute(select(Post.id).where(Post.id == post.id).with_for_update())
        _recount(session, post=post)
    else:  # voted already, perhaps by a request at the same moment: counted there
        session.refresh(post)
    return post


def unvote(session: Session, *, user: User, post_id: int) -> Post:
    """Take a vote back; taking back a vote that is not there changes nothing."""
    post = _votable(session, post_id=post_id)
    session.execute(delete(Vote).where(Vote.post_id == post.id, Vote.user_id == user.id))
    session.flush()
    _recount(session, post=post)
    return post


# --- comments -----------------------------------------------------------------------------


def add_comment(
    session: Session, *, author: User, post_id: int, body: str, created_at: datetime | None = None
) -> Comment:
    post = get_post(session, post_id=post_id)
    _closed_if_moderated(post)
    comment = Comment(
        post_id=post.id,
        author_id=author.id,
        body=_text(body, field="comment", maximum=MAX_COMMENT),
        created_at=created_at or utcnow(),
    )
    session.add(comment)
    post.comment_count += 1
    session.flush()
    tree = merged_tree_ids(session, post_id=canonical(session, post=post).id)
    follows.tell_followers(session, comment=comment, post=post, author=author, tree=tree)
    spam.screen(session, author=author, post=post, comment=comment)
    return comment


def comments_for(session: Session, *, post: Post) -> list[Comment]:
    """Comments on the post and on every post merged into it, oldest first."""
    ids = merged_tree_ids(session, post_id=post.id)
    query = select(Comment).where(Comment.post_id.in_(ids)).order_by(Comment.created_at, Comment.id)
    return list(session.scalars(query))


# --- statuses, merges, notifications --------------------------------------------------------


def _notify(
    session: Session, *, post: Post, actor: User | None, event: str, **facts: object
) -> list[Notification]:
    """Tell the author and every voter (merged posts included), but not the one who acted."""
    recipients = voters_of(session, post=post) | {post.author_id}
    if actor is not None:
        recipients.discard(actor.id)
    payload = {"event": event, "post_id": post.id, "post_title": post.title, **facts}
    created = [
        Notification(user_id=user_id, post_id=post.id, kind=event, payload=payload)
        for user_id in sorted(recipients)
    ]
    session.add_all(created)
    for user in session.scalars(select(User).where(User.id.in_(recipients))):
        _ = gettext_for(user.locale)
        queue_email(
            session,
            Email(
                to=user.email,
                subject=_("canyu: update on “{title}”").format(title=post.title),
                body=notices.describe(payload, _),
            ),
        )
    return created


def tell(
    session: Session, *, user_id: int, posts: Sequence[Post], event: str, **facts: object
) -> list[Notification]:
    """A notification to one friend about each of these posts, from another domain's event
    (a build with their post is on their phone); the portal shows it, no email is sent."""
    created = [
        Notification(
            user_id=user_id,
            post_id=post.id,
            kind=event,
            payload={"event": event, "post_id": post.id, "post_title": post.title, **facts},
            created_at=utcnow(),
        )
        for post in posts
    ]
    session.add_all(created)
    session.flush()
    return created


def tell_user(
    session: Session, *, user_id: int, event: str, link: str, **facts: object
) -> Notification:
    """A notification to one friend about something that is not a post (a decision on their
    spam-call appeal): ``link`` is the local page it is about; no email is sent."""
    created = Notification(
        user_id=user_id,
        post_id=None,
        kind=event,
        payload={"event": event, "link": link, **facts},
        created_at=utcnow(),
    )
    session.add(created)
    session.flush()
    return created


# What a higher domain does when the team moves a post (releases boards a planned post on its
# product's next train): community cannot import those domains, so they register here.
StatusHook = Callable[[Session, Post, User], None]
_status_hooks: list[StatusHook] = []


def on_status_change(hook: StatusHook) -> None:
    """Call ``hook(session, post, actor)`` after every status change the team makes."""
    if hook not in _status_hooks:
        _status_hooks.append(hook)


def _record_status(
    session: Session, *, post: Post, to: Status, reason: str | None, actor: User | None
) -> None:
    session.add(
        StatusChange(
            post_id=post.id,
            from_status=post.status,
            to_status=to.value,
            reason=reason,
            actor_id=actor.id if actor else None,
            created_at=utcnow(),
        )
    )
    post.status = to.value
    post.status_reason = reason


def change_status(
    session: Session, *, actor: User, post_id: int, status: str, reason: str | None = None
) -> Post:
    accounts.require_team(actor)
    target = workflow.parse_status(status)
    post = get_post(session, post_id=post_id)
    _no_nul(reason, field="reason")
    clean_reason = reason.strip() if reason and reason.strip() else None
    workflow.check_transition(Status(post.status), target, clean_reason)
    previous = post.status
    if target.value in _CREDITED and not _was_ever_accepted(session, post_id=post.id):
        _credit_early_votes(session, post=post)
    _record_status(session, post=post, to=target, reason=clean_reason, actor=actor)
    _notify(
        session,
        post=post,
        actor=actor,
        event="status",
        to=target.value,
        reason=clean_reason,
        **{"from": previous},
    )
    session.flush()
    for hook in _status_hooks:
        hook(session, post, actor)
    return post


def bulk_change_status(
    session: Session,
    *,
    actor: User,
    post_ids: Sequence[int],
    status: str,
    reason: str | None = None,
) -> list[Post]:
    """All or nothing: every post moves, or none does and the error names the ones that cannot."""
    accounts.require_team(actor)
    if not post_ids:
        raise InvalidInput("Choose at least one post.")
    if len(post_ids) > MAX_PAGE:
        raise InvalidInput(f"At most {MAX_PAGE} posts at once.")
    target = workflow.parse_status(status)
    _no_nul(reason, field="reason")
    problems: dict[int, str] = {}
    for post_id in dict.fromkeys(post_ids):
        post = session.get(Post, post_id)
        if post is None:
            problems[post_id] = "no such post"
            continue
        try:
            workflow.check_transition(Status(post.status), target, reason)
        except (Conflict, InvalidInput) as exc:
            problems[post_id] = exc.message
    if problems:
        raise Conflict(
            f"{len(problems)} of the posts cannot move; nothing changed.",
            details={str(k): v for k, v in problems.items()},
        )
    return [
        change_status(session, actor=actor, post_id=post_id, status=status, reason=reason)
        for post_id in dict.fromkeys(post_ids)
    ]


def status_history(session: Session, *, post_id: int) -> list[StatusChange]:
    query = (
        select(StatusChange)
        .where(StatusChange.post_id == post_id)
        .order_by(StatusChange.created_at, StatusChange.id)
    )
    return list(session.scalars(query))


def merge(session: Session, *, actor: User, source_id: int, target_id: int) -> Merge:
    """Mark ``source`` a duplicate of ``target``; its distinct voters count for the target."""
    accounts.require_team(actor)
    if source_id == target_id:
        raise InvalidInput("A post cannot be merged into itself.")
    source = get_post(session, post_id=source_id)
    target = get_post(session, post_id=target_id)
    if source.status == Status.DUPLICATE:
        raise Conflict(f"Post {source.id} is already merged into post {source.duplicate_of_id}.")
    if target.status == Status.DUPLICATE:
        raise Conflict(
            f"Post {target.id} is itself merged into post {target.duplicate_of_id}; merge there."
        )
    record = Merge(
        source_id=source.id,
        target_id=target.id,
        source_status_before=source.status,
        source_reason_before=source.status_reason,
        actor_id=actor.id,
        created_at=utcnow(),
    )
    session.add(record)
    reason = f"#{target.id}"
    _notify(
        session,
        post=source,
        actor=actor,
        event="merged",
        target_id=target.id,
        target_title=target.title,
    )
    _record_status(session, post=source, to=Status.DUPLICATE, reason=reason, actor=actor)
    source.duplicate_of_id = target.id
    session.flush()
    _recount(session, post=target)
    return record


def undo_merge(session: Session, *, actor: User, source_id: int) -> Post:
    """Reopen a merged post exactly as it was; the target loses only the voters it gained."""
    accounts.require_team(actor)
    source = get_post(session, post_id=source_id)
    record = session.scalar(
        select(Merge)
        .where(Merge.source_id == source.id, Merge.undone_at.is_(None))
        .order_by(Merge.id.desc())
    )
    if source.status != Status.DUPLICATE or record is None:
        raise Conflict(f"Post {source.id} is not merged into another post.")
    target = get_post(session, post_id=record.target_id)
    record.undone_at = utcnow()
    source.duplicate_of_id = None
    _record_status(
        session,
        post=source,
        to=Status(record.source_status_before),
        reason=record.source_reason_before,
        actor=actor,
    )
    session.flush()
    _recount(session, post=target)
    _recount(session, post=source)
    _notify(session, post=source, actor=actor, event="unmerged")
    return source


def merged_into(session: Session, *, post_id: int) -> list[Post]:
    """Posts merged directly into this one."""
    query = select(Post).where(Post.duplicate_of_id == post_id).order_by(Post.id)
    return list(session.scalars(query))


def list_notifications(
    session: Session, *, user: User, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list(session.scalars(query))


def unread_count(session: Session, *, user: User) -> int:
    query = select(func.count()).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    return int(session.scalar(query) or 0)


def mark_notifications_read(
    session: Session, *, user: User, ids: Sequence[int] | None = None
) -> int:
    """Mark the given notifications (or all of them) read; returns how many changed."""
    condition = and_(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        condition = and_(condition, Notification.id.in_(list(ids)))
    result = session.execute(update(Notification).where(condition).values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


# --- credits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HonourEntry:
    user: User
    contribution: Contribution


_CREDITED = (Status.ACCEPTED.value, Status.PLANNED.value, Status.SHIPPED.value)


def _was_ever_accepted(session: Session, *, post_id: int) -> bool:
    query = select(StatusChange.id).where(
        StatusChange.post_id == post_id, StatusChange.to_status.in_(_CREDITED)
    )
    return session.scalar(query.limit(1)) is not None


def _credit_early_votes(session: Session, *, post: Post) -> None:
    """Record every voter (merged duplicates included) as an early supporter, once per post."""
    voters = voters_of(session, post=post) - {post.author_id}
    session.add_all(VoteCredit(post_id=post.id, user_id=user_id) for user_id in sorted(voters))


def contributions(
    session: Session, *, user_ids: Iterable[int] | None = None
) -> dict[int, Contribution]:
    """Credit per friend, from the status history (what happened, never undone)."""
    first_accepted = (
        select(StatusChange.post_id)
        .where(StatusChange.to_status.in_(_CREDITED))
        .distinct()
        .subquery()
    )
    shipped = (
        select(StatusChange.post_id)
        .where(StatusChange.to_status == Status.SHIPPED.value)
        .distinct()
        .subquery()
    )
    accepted_q = (
        select(Post.author_id, func.count())
        .join(first_accepted, first_accepted.c.post_id == Post.id)
        .group_by(Post.author_id)
    )
    shipped_q = (
        select(Post.author_id, func.count())
        .join(shipped, shipped.c.post_id == Post.id)
        .group_by(Post.author_id)
    )
    votes_q = select(VoteCredit.user_id, func.count()).group_by(VoteCredit.user_id)
    wanted = set(user_ids) if user_ids is not None else None
    counts: dict[int, list[int]] = {}
    for column, query in enumerate((accepted_q, shipped_q, votes_q)):
        for user_id, count in session.execute(query):
            if wanted is None or user_id in wanted:
                counts.setdefault(user_id, [0, 0, 0])[column] = int(count)
    return {uid: Contribution(*c) for uid, c in counts.items()}


def honour_roll(session: Session, *, limit: int = 50) -> list[HonourEntry]:
    scores = contributions(session)
    ranked = sorted(scores.items(), key=lambda item: (-item[1].points, item[0]))[:limit]
    users = {
        u.id: u for u in session.scalars(select(User).where(User.id.in_([i for i, _ in ranked])))
    }
    return [HonourEntry(users[uid], c) for uid, c in ranked if c.points > 0]


def posts_by_author(session: Session, *, user: User, limit: int = 50) -> list[Post]:
    query = (
        select(Post).where(Post.author_id == user.id).order_by(Post.created_at.desc()).limit(limit)
    )
    return list(session.scalars(query))


def search_titles(session: Session, *, text: str, limit: int = 20) -> list[Post]:
    """Plain substring search for the console's merge picker."""
    _no_nul(text, field="search")
    pattern = f"%{text.strip()}%"
    as_id = int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_ID else -1
    query = (
        select(Post)
        .where(or_(Post.title.ilike(pattern), Post.id == as_id))
        .where(Post.status != Status.DUPLICATE.value)
        .limit(limit)
    )
    return list(session.scalars(query))
