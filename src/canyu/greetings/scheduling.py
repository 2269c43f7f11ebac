"""The greetings domain's periodic job: rebuild every country's packs daily (each covers about a
year from the day it is built) and publish them through TUF. Scheduled by
canyu.greetings.install."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from canyu import jobs
from canyu.greetings import service
from canyu.releases import publishing

log = logging.getLogger("canyu.greetings")
EVERY = timedelta(days=1)


def run_packs(context: jobs.JobContext) -> list[service.BuiltPack]:
    publisher = publishing.publisher_of(context.app, service.TUF_PRODUCT)
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
