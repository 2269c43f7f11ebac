"""The demo world: what a visitor of ``canyu demo`` sees must be there and must add up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.community import service as community
from canyu.community.models import Comment, Merge, Notification, Post, Status, StatusChange, Vote
from canyu.db import Base, Database
from canyu.demo.world import DEMO_PASSWORD, DemoSummary, fill_demo_world
from canyu.errors import Conflict

pytestmark = pytest.mark.db


@dataclass
class World:
    db: Database
    summary: DemoSummary
    stages: dict[str, tuple[int, int]]
    started: datetime


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.db"
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    stages: dict[str, tuple[int, int]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        assert 0 <= done <= total
        stages[stage] = (done, total)

    started = datetime.now(UTC)
    with db.session() as session:
        summary = fill_demo_world(session, progress=progress)
    yield World(db, summary, stages, started)
    db.dispose()


def test_people_in_many_countries(world: World) -> None:
    with world.db.session() as session:
        friends = list(session.scalars(select(User).where(User.role == Role.FRIEND.value)))
        team = session.scalars(select(User.role).where(User.role != Role.FRIEND.value)).all()
    assert world.summary.friends == len(friends) >= 200
    countries = {f.country for f in friends}
    assert world.summary.countries == len(countries) >= 5
    assert {f.locale for f in friends} == {"en", "zh"}
    chinese = [f for f in friends if f.locale == "zh"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in f.display_name) for f in chinese)
    assert sorted(team) == ["admin", "team", "team"]


def test_posts_in_english_and_chinese(world: World) -> None:
    summary = world.summary
    with world.db.session() as session:
        total = session.scalar(select(func.count()).select_from(Post)) or 0
        kinds = set(session.scalars(select(Post.kind).distinct()))
        devices = set(session.scalars(select(Post.device_model).distinct()))
        zh_titles = list(session.scalars(select(Post.title).where(Post.language == "zh").limit(50)))
        oldest, newest = session.execute(
            select(func.min(Post.created_at), func.max(Post.created_at))
        ).one()
    assert summary.posts == total >= 500
    assert sum(summary.posts_by_language.values()) == summary.posts
    english, chinese = summary.posts_by_language["en"], summary.posts_by_language["zh"]
    assert english > chinese >= summary.posts * 0.3
    assert kinds == {"bug", "idea"}
    assert {"canyu 1", "canyu 1S", "canyu Note", "canyu Pad"} <= devices
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in title) for title in zh_titles)
    # Spread over about three weeks, all in the past, all timezone-aware UTC.
    assert oldest.tzinfo is not None
    assert newest.tzinfo is not None
    assert newest <= world.started
    assert newest - oldest > timedelta(days=14)
    assert world.started - oldest <= timedelta(days=22)


def test_every_status_is_in_use_with_readable_reasons(world: World) -> None:
    assert set(world.summary.statuses) == {s.value for s in Status}
    assert all(count > 0 for count in world.summary.statuses.values())
    with world.db.session() as session:
        declined = list(session.scalars(select(Post).where(Post.status == Status.DECLINED.value)))
        assert declined
        assert all(p.status_reason and len(p.status_reason) > 20 for p in declined)
        # Decisions went through the workflow, so each one left history and told people.
        shipped = session.scalars(
            select(Post).where(Post.status == Status.SHIPPED.value).limit(5)
        ).all()
        for post in shipped:
            history = [c.to_status for c in community.status_history(session, post_id=post.id)]
            assert history[-1] == Status.SHIPPED.value
        assert (session.scalar(select(func.count()).select_from(StatusChange)) or 0) > 0
        assert (session.scalar(select(func.count()).select_from(Notification)) or 0) > 0
        zh_reasons = session.scalars(
            select(StatusChange.reason)
            .join(Post, Post.id == StatusChange.post_id)
            .where(Post.language == "zh", StatusChange.to_status == Status.ACCEPTED.value)
        ).all()
        assert any(r and any("\u4e00" <= ch <= "\u9fff" for ch in r) for r in zh_reasons)


def test_merged_duplicates_count_each_voter_once(world: World) -> None:
    assert world.summary.duplicates_merged > 0
    with world.db.session() as session:
        merges = list(session.scalars(select(Merge).where(Merge.undone_at.is_(None))))
        assert len(merges) == world.summary.duplicates_merged
        overlap_seen = cross_language = False
        for record in merges:
            source = community.get_post(session, post_id=record.source_id)
            target = community.get_post(session, post_id=record.target_id)
            assert source.status == Status.DUPLICATE.value
            assert source.duplicate_of_id == target.id
            voters = community.voters_of(session, post=target)
            assert target.vote_count == len(voters)
            tree = community.merged_tree_ids(session, post_id=target.id)
            rows = session.scalar(
                select(func.count()).select_from(Vote).where(Vote.post_id.in_(tree))
            )
            overlap_seen |= (rows or 0) > len(voters)
            cross_language |= source.language != target.language
        assert overlap_seen, "some friend should have voted for both reports before the merge"
        assert cross_language, "an English and a Chinese report of one problem were merged"
        # Duplicates the team has not merged yet wait for triage; friends pointed at them.
        pointers = session.scalar(
            select(func.count())
            .select_from(Comment)
            .join(Post, Post.id == Comment.post_id)
            .where(Post.status == Status.NEW.value, Comment.body.like("%#%"))
        )
        assert (pointers or 0) > 0


def test_votes_are_zipf_like_and_comments_bilingual(world: World) -> None:
    with world.db.session() as session:
        counts = sorted(
            session.scalars(select(Post.vote_count).where(Post.status != Status.DUPLICATE.value)),
            reverse=True,
        )
        comments = list(session.scalars(select(Comment.body)))
        first_vote = session.scalar(select(func.min(Vote.created_at)))
        votes = session.scalar(select(func.count()).select_from(Vote))
    assert world.summary.votes == votes
    assert world.summary.votes > 1000
    assert counts[0] >= 5 * counts[len(counts) // 2]
    assert counts[len(counts) // 2] <= 5
    assert first_vote is not None
    assert world.started - first_vote > timedelta(days=14)
    assert world.summary.comments == len(comments) > 200
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in body) for body in comments)
    assert any(body.isascii() for body in comments)


def test_demo_logins_sign_in(world: World) -> None:
    logins = world.summary.logins
    assert [login.role for login in logins] == ["admin", "team", "team", "friend", "friend"]
    with world.db.session() as session:
        locales = set()
        for login in logins:
            assert login.password == DEMO_PASSWORD
            user = accounts.authenticate(session, email=login.email, password=login.password)
            assert user.role == login.role
            assert user.display_name == login.display_name
            if user.role == Role.FRIEND.value:
                locales.add(user.locale)
                # The demo friends wrote posts the team acted on: their inbox has news.
                assert community.list_notifications(session, user=user)
    assert locales == {"en", "zh"}


def test_progress_reports_every_stage(world: World) -> None:
    assert set(world.stages) == {"friends", "posts", "votes", "comments", "merges", "statuses"}
    assert all(done == total for done, total in world.stages.values())


def test_filling_twice_is_refused(world: World) -> None:
    with world.db.session() as session, pytest.raises(Conflict, match="already has accounts"):
        fill_demo_world(session)
    with world.db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == world.summary.friends + 3
