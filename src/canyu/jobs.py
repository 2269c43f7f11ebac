"""Periodic jobs inside `canyu serve`: a thin layer over APScheduler 3's BackgroundScheduler.

A domain schedules its jobs in its ``install(app)`` (canyu.lifecycle.schedule); the app's
lifespan starts them::

    lifecycle.schedule(app, Job("calls-packs", build_packs, lambda ctx: IntervalTrigger(hours=1)))

Each job gets a :class:`JobContext` (the database, the settings, the app). Jobs run in worker
threads, one instance of each at a time; a run missed while the server was down is run once.

With several workers or servers on one database, exactly one process runs the jobs: the one
holding the database's jobs lock (:class:`Leadership`: a PostgreSQL advisory lock on a
connection of its own, a file lock beside a SQLite file). Every process keeps its schedule; at
each run a process without the lock tries to take it (the holder died: its lock went with it),
and skips the run if it cannot.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from pydantic_settings import BaseSettings, SettingsConfigDict

from canyu.config import Settings
from canyu.db import Database, make_engine

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


# pg_try_advisory_lock's key for canyu's periodic jobs (any constant shared by all processes).
ADVISORY_KEY = 0x63616E79  # "cany"


class Leadership:
    """Whether this process is the one that runs the jobs for its database (see the module's
    docstring). ``held()`` takes the lock when it is free, and checks that it is still held."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._file: Any = None
        self._connection: Any = None
        self._engine: Any = None

    def held(self) -> bool:
        with self._lock:
            try:
                return self._held()
            except Exception:
                log.warning("jobs lock: database unavailable; skipping this run", exc_info=True)
                self._drop()
                return False

    def _held(self) -> bool:
        if self.url.startswith("postgresql"):
            return self._postgres()
        path = self.url.split("///", 1)[1] if "///" in self.url else ""
        if not path or path.startswith(":memory:"):
            return True  # one process's own database
        if self._file is None:
            handle = open(f"{path}.jobs.lock", "a+b")  # noqa: SIM115 - held for life
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._file = handle
            log.info("jobs lock taken by process %d (%s.jobs.lock)", os.getpid(), path)
        return True

    def _postgres(self) -> bool:
        from sqlalchemy import text

        if self._connection is not None:
            self._connection.execute(text("SELECT 1"))  # still connected: still the holder
            return True
        if self._engine is None:
            self._engine = make_engine(self.url, pooled=False)
        connection = self._engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        if not got.scalar():
            connection.close()
            return False
        connection.commit()
        self._connection = connection
        log.info("jobs lock taken by process %d (advisory lock %d)", os.getpid(), ADVISORY_KEY)
        return True

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("jobs lock connection already closed")
            self._connection = None

    def release(self) -> None:
        with self._lock:
            self._drop()
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
                self._file = None


class JobRunner:
    def __init__(self, context: JobContext, jobs: list[Job]) -> None:
        self.context = context
        self.leadership = Leadership(context.database.url)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        for job in jobs:
            options: dict[str, Any] = {}
            if job.first_run_after is not None:
                options["next_run_time"] = datetime.now(UTC) + job.first_run_after
            self.scheduler.add_job(
                _run,
                job.trigger(context),
                args=(job, context, self.leadership),
                id=job.id,
                name=job.id,
                **options,
            )

    def start(self) -> JobRunner:
        self.scheduler.start()
        return self

    def next_runs(self) -> dict[str, datetime | None]:
        return {j.id: j.next_run_time for j in self.scheduler.get_jobs()}

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.leadership.release()


def _run(job: Job, context: JobContext, leadership: Leadership | None = None) -> None:
    if leadership is not None and not leadership.held():
        return  # another process holds the jobs lock and runs this
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
