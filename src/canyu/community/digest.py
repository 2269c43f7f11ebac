"""The weekly email digest: what happened on the posts a friend follows or wrote (their unread
notices since the last digest) and the most-voted new posts, in their language, with a link
that turns it off without signing in (canyu.accounts.tokens).

Only confirmed addresses get it, and only friends who have not turned it off. A periodic job
(``JOB``, scheduled by canyu.community.install) looks every hour for friends whose week is up;
a week with nothing to tell sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from canyu import jobs
from canyu.accounts.models import User
from canyu.accounts.tokens import Links, Purpose, redeem
from canyu.community import notices
from canyu.community.models import DigestSubscription, Notification, Post, Status
from canyu.db import utcnow
from canyu.i18n import gettext_for
from canyu.mail import Email, queue_email

log = logging.getLogger("canyu.community")
EVERY = timedelta(days=7)
MAX_NOTICES = 20
MAX_POPULAR = 5
UNSUBSCRIBE_PATH = "/digest/unsubscribe"
_BATCH = 500


def is_enabled(session: Session, *, user: User) -> bool:
    row = session.get(DigestSubscription, user.id)
    return row is None or row.enabled


def set_enabled(session: Session, *, user: User, enabled: bool) -> None:
    row = session.get(DigestSubscription, user.id)
    if row is None:
        session.add(DigestSubscription(user_id=user.id, enabled=enabled))
    else:
        row.enabled = enabled


def unsubscribe_owner(session: Session, *, links: Links, token: str) -> User:
    """Whose digest an unsubscribe link turns off (InvalidInput when it is not genuine)."""
    return redeem(session, links.secret_key, Purpose.UNSUBSCRIBE, token)


@dataclass(frozen=True)
class Digest:
    user: User
    notices: list[Notification]
    popular: list[Post]


def compose(session: Session, *, user: User, since: datetime) -> Digest:
    """What the digest would tell ``user`` about the time since ``since``."""
    found = session.scalars(
        select(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
            Notification.created_at > since,
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(MAX_NOTICES)
    )
    popular = session.scalars(
        select(Post)
        .where(Post.created_at > since, Post.status != Status.DUPLICATE.value, Post.vote_count > 0)
        .order_by(Post.vote_count.desc(), Post.id.desc())
        .limit(MAX_POPULAR)
    )
    return Digest(user, list(found), list(popular))


def render(digest: Digest, *, links: Links) -> Email:
    user = digest.user
    _ = gettext_for(user.locale)
    lines = [_("Hello {name},").format(name=user.display_name), ""]
    if digest.notices:
        lines += [_("On posts you follow or wrote:"), ""]
        for notice in digest.notices:
            lines.append(f"- {notices.describe(notice.payload, _)}")
            lines.append(f"  {links.page(f'/posts/{notice.post_id}')}")
        lines.append("")
    if digest.popular:
        lines += [_("Most voted new posts this week:"), ""]
        for post in digest.popular:
            votes = _("{num} votes").format(num=post.vote_count)
            lines.append(f"- {post.title} ({votes})")
            lines.append(f"  {links.page(f'/posts/{post.id}')}")
        lines.append("")
    unsubscribe = links.url(UNSUBSCRIBE_PATH, Purpose.UNSUBSCRIBE, user)
    lines += [
        _("You get this digest once a week. Turn it off with one click:"),
        unsubscribe,
        _("or on your profile: {url}").format(url=links.page("/profile")),
    ]
    return Email(
        to=user.email,
        subject=_("canyu: your week of feedback"),
        body="\n".join(lines) + "\n",
        # RFC 8058: mail apps show their own "unsubscribe" button, which posts to the link.
        headers=(
            ("List-Unsubscribe", f"<{unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )


def send_digests(session: Session, *, links: Links, now: datetime | None = None) -> int:
    """Queue a digest for every friend whose week is up; returns how many were queued. Each
    friend's week restarts now even when there was nothing to tell (nothing is lost: the next
    digest starts where this one would have)."""
    now = now or utcnow()
    due_before = now - EVERY
    sent = 0
    last_id = 0
    while True:
        users = list(
            session.scalars(
                select(User)
                .outerjoin(DigestSubscription, DigestSubscription.user_id == User.id)
                .where(
                    User.id > last_id,
                    User.email_verified_at.is_not(None),
                    or_(DigestSubscription.user_id.is_(None), DigestSubscription.enabled),
                    or_(
                        DigestSubscription.last_sent_at.is_(None),
                        DigestSubscription.last_sent_at <= due_before,
                    ),
                )
                .order_by(User.id)
                .limit(_BATCH)
            )
        )
        if not users:
            return sent
        for user in users:
            row = session.get(DigestSubscription, user.id)
            since = row.last_sent_at if row and row.last_sent_at else due_before
            digest = compose(session, user=user, since=since)
            if digest.notices or digest.popular:
                queue_email(session, render(digest, links=links))
                sent += 1
            if row is None:
                session.add(DigestSubscription(user_id=user.id, enabled=True, last_sent_at=now))
            else:
                row.last_sent_at = now
        session.flush()
        last_id = users[-1].id


def run(context: jobs.JobContext) -> int:
    settings = context.settings
    with context.database.session() as session:
        links = Links(settings.resolved_secret_key(), settings.base_url)
        sent = send_digests(session, links=links)
    log.info("feedback digests: %d queued", sent)
    return sent


JOB = jobs.Job(
    "feedback-digest",
    run,
    lambda _ctx: IntervalTrigger(hours=1),
    first_run_after=timedelta(minutes=5),
)
