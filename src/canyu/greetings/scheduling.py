"""The greetings domain's periodic job: rebuild every country's packs daily (each covers about a
year from the day it is built) and publish them through TUF. Scheduled by
canyu.greetings.install."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from fastapi import FastAPI

from canyu import jobs
from canyu.greetings import service

log = logging.getLogger("canyu.greetings")
EVERY = timedelta(days=1)


def publisher_for(app: object) -> service.TufPublisher | None:
    from canyu.releases.runtime import release_settings
    from canyu.releases.settings import get_release_settings

    release = release_settings(app) if isinstance(app, FastAPI) else get_release_settings()
    if not (release.keys_dir / "targets.pem").exists():
        return None
    return service.TufPublisher(release.tuf_dir, release.keys_dir, release.root_keys_dir)


def run_packs(context: jobs.JobContext) -> list[service.BuiltPack]:
    publisher = publisher_for(context.app)
    with context.database.session() as session:
        built = service.build_packs(session, publisher=publisher)
    log.info(
        "greeting packs: %d built, %d bytes%s",
        len(built),
        sum(b.size for b in built),
        "" if publisher is not None else " (not published: no TUF keys)",
    )
    return built


JOB = jobs.Job(
    "greetings-packs",
    run_packs,
    lambda _ctx: IntervalTrigger(seconds=EVERY.total_seconds()),
    first_run_after=timedelta(minutes=2),
)
