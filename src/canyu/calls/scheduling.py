"""The calls domain's periodic jobs: rescoring busy numbers, rebuilding and publishing packs,
and recomputing friends' agreement with the crowd. Scheduled by canyu.calls.install."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from canyu import jobs
from canyu.calls import service
from canyu.calls.settings import CallsSettings, get_calls_settings
from canyu.releases import publishing

log = logging.getLogger("canyu.calls")


def calls_settings(app: Any) -> CallsSettings:
    settings: CallsSettings | None = getattr(getattr(app, "state", None), "calls_settings", None)
    return settings or get_calls_settings()


def run_packs(context: jobs.JobContext) -> list[service.BuiltPack]:
    """Rebuild the packs of regions whose labels changed, and publish them through TUF."""
    settings = calls_settings(context.app)
    publisher = publishing.publisher_of(context.app, settings.tuf_product)
    with context.database.session() as session:
        built = service.build_due_packs(session, settings=settings, publisher=publisher)
    for pack in built:
        log.info(
            "calls pack %s v%d: %d numbers, %d bytes%s",
            pack.region,
            pack.version,
            pack.count,
            pack.size,
            "" if pack.published else " (not published: no TUF keys)",
        )
    return built


def run_rescore(context: jobs.JobContext) -> int:
    with context.database.session() as session:
        return service.rescore_dirty(session, settings=calls_settings(context.app))


def run_reporter_stats(context: jobs.JobContext) -> int:
    with context.database.session() as session:
        return service.recompute_reporter_stats(session, settings=calls_settings(context.app))


def _every(minutes: float) -> BaseTrigger:
    return IntervalTrigger(seconds=max(1.0, minutes * 60))


JOBS = (
    jobs.Job(
        "calls-packs",
        run_packs,
        lambda ctx: _every(calls_settings(ctx.app).pack_interval_minutes),
        first_run_after=timedelta(seconds=30),
    ),
    jobs.Job(
        "calls-rescore",
        run_rescore,
        lambda ctx: _every(calls_settings(ctx.app).rescore_interval_seconds / 60),
    ),
    jobs.Job("calls-reporter-stats", run_reporter_stats, lambda _ctx: _every(60)),
)
