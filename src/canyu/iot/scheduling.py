"""The IoT domain's periodic jobs: render the broker's files again (devices revoked by the team
or by themselves drop out of them), and forget old telemetry. Scheduled by canyu.iot.install."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from canyu import jobs
from canyu.db import utcnow
from canyu.iot import service
from canyu.iot.runtime import runtime_for


def sync_broker(context: jobs.JobContext) -> bool:
    runtime = runtime_for(context.app)
    with context.database.session() as session:
        return runtime.sync_broker(session)


def forget_telemetry(context: jobs.JobContext) -> int:
    keep = timedelta(days=runtime_for(context.app).settings.keep_days)
    with context.database.session() as session:
        gone = service.forget_telemetry(session, older_than=utcnow() - keep)
        session.commit()
    return gone


JOBS = (
    jobs.Job(
        "iot-broker-sync",
        sync_broker,
        lambda ctx: IntervalTrigger(seconds=runtime_for(ctx.app).settings.broker_sync_seconds),
        first_run_after=timedelta(seconds=1),
    ),
    jobs.Job("iot-telemetry-retention", forget_telemetry, lambda _ctx: IntervalTrigger(days=1)),
)
