"""The periodic jobs: the weekly train (cut on schedule, skipped on public holidays), the gates
and the TUF timestamp refresher, run by APScheduler inside the server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from canyu import jobs, lifecycle
from canyu.community import service as community
from canyu.config import Settings
from canyu.db import Database
from canyu.releases import scheduling
from canyu.releases import service as releases
from canyu.releases.runtime import configure
from canyu.releases.settings import ReleaseSettings
from canyu.releases.train import TrainSchedule
from canyu.releases.tuf_repo import TufRepository

from .fixtures import Shop, UserMaker


def test_the_weekly_train_cuts_each_product_and_skips_holidays(
    shop: Shop, database: Database, make_user: UserMaker
) -> None:
    shop.product()
    shop.product("canyu-pad", "canyu Pad")
    friend = make_user()
    with database.session() as s:
        post = community.create_post(
            s, author=friend, kind="idea", title="Dark mode", body="Please."
        )
        community.change_status(s, actor=shop.team, post_id=post.id, status="planned")
        releases.train_attach(s, actor=shop.team, product_key="canyu-1s", post_id=post.id)
    schedule = TrainSchedule()
    national_day = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)  # Friday 17:00 in Shanghai
    with database.session() as s:
        run = releases.scheduled_train(s, schedule=schedule, now=national_day)
    assert run.skipped_holiday is not None
    assert run.builds == []
    with database.session() as s:
        run = releases.scheduled_train(s, schedule=schedule, now=national_day + timedelta(days=7))
        assert [(b.product.key, b.version, b.channel) for b in run.builds] == [
            ("canyu-1s", "1.0.0", "developer")
        ]
        assert run.nothing_planned == ["canyu-pad"]
        assert [p.id for p in releases.build_posts(s, build=run.builds[0])] == [post.id]


def test_the_server_runs_the_jobs_on_their_schedules(
    database: Database, settings: Settings, release_settings: ReleaseSettings
) -> None:
    from fastapi import FastAPI

    app = FastAPI()
    app.state.settings = settings
    configure(app, release_settings)
    context = jobs.JobContext(database=database, settings=settings, app=app)
    runner = jobs.JobRunner(context, list(scheduling.JOBS))
    try:
        runner.start()
        nexts = runner.next_runs()
        assert {"releases-weekly-train", "releases-health-gates", "releases-tuf-timestamp"} <= set(
            nexts
        )
        train = nexts["releases-weekly-train"]
        assert train is not None
        local = train.astimezone(TrainSchedule().zone)
        assert (local.weekday(), local.hour, local.minute) == (4, 17, 0)
        gates = nexts["releases-health-gates"]
        assert gates is not None
        assert gates - datetime.now(UTC) <= timedelta(seconds=16)
    finally:
        runner.shutdown()


def test_the_timestamp_refresher_re_signs_before_expiry(
    database: Database, settings: Settings, release_settings: ReleaseSettings
) -> None:
    from fastapi import FastAPI

    signed_at = datetime.now(UTC) - timedelta(hours=20)  # its 1-day timestamp expires in 4 h
    TufRepository.create(
        "canyu-1s",
        release_settings.tuf_dir,
        release_settings.keys_dir,
        release_settings.root_keys_dir,
        clock=lambda: signed_at,
    )
    timestamp = release_settings.tuf_dir / "canyu-1s" / "metadata" / "timestamp.json"
    before = json.loads(timestamp.read_text())["signed"]
    app = FastAPI()
    app.state.settings = settings
    configure(app, release_settings)
    resigned = scheduling.run_tuf_refresh(
        jobs.JobContext(database=database, settings=settings, app=app)
    )
    assert "timestamp" in resigned["canyu-1s"]
    after = json.loads(timestamp.read_text())["signed"]
    assert after["version"] == before["version"] + 1
    assert after["expires"] > before["expires"]
    # Right after, nothing is due.
    assert not any(
        scheduling.run_tuf_refresh(
            jobs.JobContext(database=database, settings=settings, app=app)
        ).values()
    )


def test_each_domain_schedules_its_jobs_when_installed(app: FastAPI) -> None:
    """Jobs come from the domains' install(app), not from importing a module."""
    ids = [job.id for job in lifecycle.of(app).jobs]
    assert set(ids) >= {
        "releases-weekly-train",
        "releases-health-gates",
        "releases-tuf-timestamp",
        "calls-packs",
        "calls-rescore",
        "calls-reporter-stats",
        "greetings-packs",
        "hotspots-packs",
    }
    assert len(ids) == len(set(ids))
