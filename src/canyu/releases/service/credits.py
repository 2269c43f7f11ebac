"""Releases rules: changelogs and credits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.community import service as community
from canyu.community import workflow
from canyu.community.models import Post, Status
from canyu.db import utcnow
from canyu.errors import CanyuError
from canyu.releases import changelog as changelog_mod
from canyu.releases.models import (
    Build,
    CreditOptout,
)
from canyu.releases.service.builds import build_posts


def set_credit_optout(session: Session, *, user: User, opted_out: bool) -> bool:
    row = session.get(CreditOptout, user.id)
    if opted_out and row is None:
        session.add(CreditOptout(user_id=user.id))
    elif not opted_out and row is not None:
        session.delete(row)
    session.flush()
    return opted_out


def credit_opted_out(session: Session, *, user: User) -> bool:
    return session.get(CreditOptout, user.id) is not None


def changelog(session: Session, *, build: Build) -> changelog_mod.Changelog:
    posts = build_posts(session, build=build)
    voters_by_post = {p.id: community.voters_of(session, post=p) for p in posts}
    user_ids = {p.author_id for p in posts}.union(*voters_by_post.values()) if posts else set()
    names = {
        uid: name
        for uid, name in session.execute(
            select(User.id, User.display_name).where(User.id.in_(user_ids))
        )
    }
    optouts = set(
        session.scalars(select(CreditOptout.user_id).where(CreditOptout.user_id.in_(user_ids)))
    )

    def person(user_id: int) -> changelog_mod.Person:
        return changelog_mod.Person(user_id, names.get(user_id, "?"), user_id in optouts)

    return changelog_mod.assemble(
        changelog_mod.PostFacts(
            post_id=p.id,
            kind=p.kind,
            title=p.title,
            language=p.language,
            vote_count=p.vote_count,
            reporter=person(p.author_id),
            voters=[person(v) for v in sorted(voters_by_post[p.id])],
        )
        for p in posts
    )


def release_build(session: Session, *, actor: User, build: Build) -> list[Post]:
    """The build goes out: its posts become shipped, and their authors and voters are told."""
    if build.released_at is not None:
        return []
    build.released_at = utcnow()
    reason = f"Shipped in {build.product.name} {build.version} ({build.channel})."
    moved = []
    for post in build_posts(session, build=build):
        try:
            workflow.check_transition(Status(post.status), Status.SHIPPED, reason)
        except CanyuError:
            continue  # already shipped in an earlier build, or reopened meanwhile
        moved.append(
            community.change_status(
                session, actor=actor, post_id=post.id, status=Status.SHIPPED.value, reason=reason
            )
        )
    return moved
