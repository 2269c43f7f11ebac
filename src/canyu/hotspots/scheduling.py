"""The hotspots domain's periodic job: rebuild the packs of regions whose hotspots changed and
publish them through TUF (hourly; a region nobody touched keeps its pack). Scheduled by
canyu.hotspots.install."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from canyu import jobs
from canyu.hotspots import service
from canyu.releases import publishing
from canyu.releases.runtime import release_settings

log = logging.getLogger("canyu.hotspots")


def run_packs(context: jobs.JobContext) -> list[service.BuiltPack]:
    release = release_settings(context.app)
    publisher = publishing.publisher(service.TUF_PRODUCT, release)
    with context.database.session() as session:
        built = service.build_due_packs(
            session, pack_dir=release.tuf_dir.parent / "hotspot-packs", publisher=publisher
        )
    for pack in built:
        log.info(
            "hotspots pack %s v%d: %d hotspots, %d bytes%s",
            pack.region,
            pack.version,
            pack.count,
            pack.size,
            "" if pack.published else " (not published: no TUF keys)",
        )
    return built


def _hourly(_context: jobs.JobContext) -> IntervalTrigger:
    return IntervalTrigger(hours=1)


JOBS = (jobs.Job("hotspots-packs", run_packs, _hourly, first_run_after=timedelta(minutes=2)),)
