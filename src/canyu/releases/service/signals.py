"""Releases rules: health signals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from canyu.community.models import Post
from canyu.db import utcnow
from canyu.devices import service as devices
from canyu.releases import health
from canyu.releases.models import (
    Build,
    DeviceReport,
    HealthSample,
    Rollout,
    RolloutEvent,
)
from canyu.releases.service.common import SAMPLE_EVERY


def report_counts(session: Session, *, rollout_id: int) -> tuple[int, int, int]:
    """(successful installs, failed installs, crashes) reported within a rollout."""
    installs = {
        success: count
        for success, count in session.execute(
            select(DeviceReport.success, func.count())
            .where(DeviceReport.rollout_id == rollout_id, DeviceReport.kind == "install")
            .group_by(DeviceReport.success)
        )
    }
    crashes = session.scalar(
        select(func.coalesce(func.sum(DeviceReport.crashes), 0)).where(
            DeviceReport.rollout_id == rollout_id, DeviceReport.kind == "crash"
        )
    )
    return int(installs.get(True, 0)), int(installs.get(False, 0)), int(crashes or 0)


def build_installs(session: Session, *, build_id: int) -> int:
    """Devices that installed a build successfully (its exposure)."""
    query = select(func.count(func.distinct(DeviceReport.device_id))).where(
        DeviceReport.build_id == build_id,
        DeviceReport.kind == "install",
        DeviceReport.success.is_(True),
    )
    return int(session.scalar(query) or 0)


def feedback_count(session: Session, *, build: Build) -> int:
    """Posts friends wrote about this build (its version, on this product or no model named)."""
    product = build.product
    query = select(func.count(Post.id)).where(
        Post.software_build == build.version,
        or_(Post.device_model.is_(None), Post.device_model.in_([product.name, product.key])),
    )
    return int(session.scalar(query) or 0)


def rollout_counts(
    session: Session, *, rollout: Rollout, since_resume: bool = True
) -> health.Counts:
    successes, failures, crashes = report_counts(session, rollout_id=rollout.id)
    counts = health.Counts(
        successes, failures, crashes, feedback_count(session, build=rollout.build)
    )
    if not since_resume or not rollout.gate_base:
        return counts
    base = rollout.gate_base
    return health.Counts(
        counts.successes - base.get("successes", 0),
        counts.failures - base.get("failures", 0),
        counts.crashes - base.get("crashes", 0),
        counts.feedback - base.get("feedback", 0),
    )


def baseline(session: Session, *, rollout: Rollout) -> health.Baseline | None:
    """The previous build's feedback and exposure, if it has enough installs to compare with."""
    previous = rollout.previous_build
    if previous is None:
        return None
    installs = build_installs(session, build_id=previous.id)
    if installs < health.Thresholds.from_dict(rollout.thresholds).min_sample:
        return None
    return health.Baseline(previous.version, installs, feedback_count(session, build=previous))


def _stage_state(
    session: Session, rollout: Rollout, successes: int, now: datetime
) -> health.StageState:
    stages = tuple(float(s) for s in rollout.stages)
    in_scope = devices.devices_in_scope(
        session,
        product_id=rollout.build.product_id,
        channels=rollout.channels,
        countries=rollout.countries,
        models=rollout.device_models,
    )
    before = stages[rollout.stage_index - 1] if rollout.stage_index else 0.0
    new_devices = round(in_scope * (stages[rollout.stage_index] - before) / 100.0)
    return health.StageState(
        index=rollout.stage_index,
        stages=stages,
        stage_successes=successes - rollout.stage_base_successes,
        stage_new_devices=new_devices,
        stage_age_seconds=(now - rollout.stage_started_at).total_seconds(),
    )


def _sample(session: Session, rollout: Rollout, *, counts: health.Counts, force: bool) -> None:
    if not force:
        last = session.scalar(
            select(func.max(HealthSample.created_at)).where(HealthSample.rollout_id == rollout.id)
        )
        if last is not None and utcnow() - last < SAMPLE_EVERY:
            return
    session.add(
        HealthSample(
            rollout_id=rollout.id,
            stage_index=rollout.stage_index,
            percent=rollout.percent,
            successes=counts.successes,
            failures=counts.failures,
            crashes=counts.crashes,
            feedback=counts.feedback,
            created_at=utcnow(),
        )
    )


def rollout_events(session: Session, *, rollout_id: int) -> list[RolloutEvent]:
    query = (
        select(RolloutEvent)
        .where(RolloutEvent.rollout_id == rollout_id)
        .order_by(RolloutEvent.created_at, RolloutEvent.id)
    )
    return list(session.scalars(query))


def health_samples(session: Session, *, rollout_id: int, limit: int = 500) -> list[HealthSample]:
    query = (
        select(HealthSample)
        .where(HealthSample.rollout_id == rollout_id)
        .order_by(HealthSample.created_at.desc(), HealthSample.id.desc())
        .limit(limit)
    )
    return list(reversed(session.scalars(query).all()))
