"""A small release world for the page tests: a product, a completed build, a build in rollout
with posts from friends, devices that installed it, failures, crashes and feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update

from canyu.accounts.models import Role, User
from canyu.community import service as community
from canyu.db import Database, utcnow
from canyu.devices import service as devices
from canyu.releases import health
from canyu.releases import service as releases
from canyu.releases.models import HealthSample, Rollout

from .fixtures import Shop, UserMaker


@dataclass
class ReleaseWorld:
    team: User
    friend: User
    voter: User
    rollout: Rollout
    build_id: int
    post_title: str


def seed(shop: Shop, database: Database, make_user: UserMaker, locale: str = "en") -> ReleaseWorld:
    friend = make_user(locale=locale)
    voter = make_user(locale="zh")
    team = shop.team
    shop.product()
    with database.session() as s:
        post = community.create_post(
            s, author=friend, kind="bug", title="Bluetooth drops in the car", body="Every day."
        )
        idea = community.create_post(
            s, author=voter, kind="idea", title="锁屏显示农历", body="谢谢"
        )
        community.vote(s, user=voter, post_id=post.id)
        for p in (post, idea):
            community.change_status(s, actor=team, post_id=p.id, status="planned")
    first = shop.build("4.11.18")
    done = shop.rollout(first, stages=(100,))
    with database.session() as s:
        s.execute(update(Rollout).where(Rollout.id == done.id).values(status="completed"))
    build = shop.build("4.11.22", post_ids=(post.id, idea.id))
    rollout = shop.rollout(
        build, stages=(1, 5, 20, 50, 100), thresholds=health.Thresholds(min_successes=10**6)
    )
    with database.session() as s:
        tokens = [
            releases.enrol_device(
                s,
                product_key="canyu-1s",
                hardware_id=f"page-{i}",
                country="CN",
                channel="stable",
                version="4.11.18",
            ).token
            for i in range(12)
        ]
        for i, token in enumerate(tokens):
            device = devices.authenticate(s, raw_token=token)
            releases.report(
                s,
                device=device,
                report_id=f"page-install-{i}",
                kind="install",
                version="4.11.22",
                success=i % 6 != 0,
                failure_code=None if i % 6 else "E_SPACE",
                offers=shop.runtime.offers,
            )
        # A history for the chart (replacing the start's own sample): the last three hours.
        s.execute(delete(HealthSample).where(HealthSample.rollout_id == rollout.id))
        start = utcnow() - timedelta(hours=3)
        s.execute(update(Rollout).where(Rollout.id == rollout.id).values(created_at=start))
        for step in range(6):
            s.add(
                HealthSample(
                    rollout_id=rollout.id,
                    stage_index=0 if step < 3 else 1,
                    percent=1.0 if step < 3 else 5.0,
                    successes=2 * step,
                    failures=step // 3,
                    crashes=0,
                    feedback=0,
                    created_at=start + timedelta(minutes=30 * step),
                )
            )
        row = releases.get_rollout(s, rollout_id=rollout.id)
        row.stage_index = 1
    assert team.role == Role.TEAM.value
    return ReleaseWorld(team, friend, voter, rollout, build.id, post.title)
