"""The releases domain's periodic jobs: the weekly train, the health gates, the TUF timestamps."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from canyu import jobs
from canyu.errors import InvalidInput
from canyu.releases import service
from canyu.releases.runtime import evaluate_all, release_settings, runtime_for
from canyu.releases.settings import ReleaseSettings, get_release_settings
from canyu.releases.train import TrainSchedule
from canyu.releases.tuf_repo import refresh_all

log = logging.getLogger("canyu.releases")


def schedule_from(settings: ReleaseSettings) -> TrainSchedule:
    try:
        hour, minute = (int(part) for part in settings.train_time.split(":"))
        at = time(hour, minute)
    except ValueError:
        raise InvalidInput(f"train_time must be HH:MM, got {settings.train_time!r}.") from None
    return TrainSchedule(
        weekday=settings.train_weekday,
        at=at,
        timezone=settings.train_timezone,
        country=settings.train_country,
    )


def _settings(context: jobs.JobContext) -> ReleaseSettings:
    return release_settings(context.app) if context.app is not None else get_release_settings()


def run_train(context: jobs.JobContext) -> service.TrainRun:
    settings = _settings(context)
    with context.database.session() as session:
        run = service.scheduled_train(
            session,
            schedule=schedule_from(settings),
            now=datetime.now(UTC),
            products=settings.train_products,
        )
        log.info(
            "weekly train: %s",
            run.skipped_holiday or [f"{b.product.key} {b.version}" for b in run.builds],
        )
        return run


def train_trigger(context: jobs.JobContext) -> BaseTrigger:
    return schedule_from(_settings(context)).trigger()


def run_gates(context: jobs.JobContext) -> dict[int, str]:
    runtime = runtime_for(context.app) if context.app is not None else service.Runtime()
    return evaluate_all(context.database, runtime)


def gates_trigger(context: jobs.JobContext) -> BaseTrigger:
    return IntervalTrigger(seconds=_settings(context).gate_job_seconds)


def run_tuf_refresh(context: jobs.JobContext) -> dict[str, list[str]]:
    settings = _settings(context)
    resigned = refresh_all(settings.tuf_dir, settings.keys_dir)
    if any(resigned.values()):
        log.info("TUF metadata re-signed: %s", resigned)
    return resigned


def tuf_trigger(context: jobs.JobContext) -> BaseTrigger:
    return IntervalTrigger(minutes=_settings(context).tuf_refresh_minutes)


JOBS = (
    jobs.Job("releases-weekly-train", run_train, train_trigger),
    jobs.Job("releases-health-gates", run_gates, gates_trigger),
    jobs.Job(
        "releases-tuf-timestamp", run_tuf_refresh, tuf_trigger, first_run_after=timedelta(minutes=1)
    ),
)
