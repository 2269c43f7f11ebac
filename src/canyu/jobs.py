"""Periodic jobs inside `canyu serve`: a thin layer over APScheduler 3's BackgroundScheduler.

A domain schedules its jobs in its ``install(app)`` (canyu.lifecycle.schedule); the app's
lifespan starts them::

    lifecycle.schedule(app, Job("calls-packs", build_packs, lambda ctx: IntervalTrigger(hours=1)))

Each job gets a :class:`JobContext` (the database, the settings, the app). Jobs run in worker
threads, one instance of each at a time; a run missed while the server was down is run once.
With several servers, every server runs the jobs: they must be safe to run twice (the train cuts
once per product per week because versions only grow; gates and TUF refreshes are idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from pydantic_settings import BaseSettings, SettingsConfigDict

from canyu.config import Settings
from canyu.db import Database

log = logging.getLogger("canyu.jobs")


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANYU_JOBS_", env_file=".env", extra="ignore")

    # Set CANYU_JOBS_ENABLED=false on servers that must not run periodic jobs.
    enabled: bool = True


@dataclass(frozen=True)
class JobContext:
    database: Database
    settings: Settings
    app: Any = None  # the FastAPI app, for jobs that share its in-process state


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[JobContext], object]
    trigger: Callable[[JobContext], BaseTrigger]
    # First run this long after start (None: when the trigger first fires).
    first_run_after: timedelta | None = None


class JobRunner:
    def __init__(self, context: JobContext, jobs: list[Job]) -> None:
        self.context = context
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        for job in jobs:
            options: dict[str, Any] = {}
            if job.first_run_after is not None:
                options["next_run_time"] = datetime.now(UTC) + job.first_run_after
            self.scheduler.add_job(
                _run, job.trigger(context), args=(job, context), id=job.id, name=job.id, **options
            )

    def start(self) -> JobRunner:
        self.scheduler.start()
        return self

    def next_runs(self) -> dict[str, datetime | None]:
        return {j.id: j.next_run_time for j in self.scheduler.get_jobs()}

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def _run(job: Job, context: JobContext) -> None:
    try:
        job.func(context)
    except Exception:
        log.exception("job %s failed", job.id)


def start(context: JobContext, jobs: list[Job]) -> JobRunner | None:
    """Start these jobs; None when CANYU_JOBS_ENABLED is false."""
    if not JobSettings().enabled:
        return None
    runner = JobRunner(context, jobs).start()
    log.info("jobs started: %s", ", ".join(sorted(j.id for j in jobs)) or "none")
    return runner
