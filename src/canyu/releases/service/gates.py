"""Releases rules: health gates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.db import utcnow
from canyu.devices import service as devices
from canyu.errors import NotFound
from canyu.releases import health
from canyu.releases.models import (
    Rollout,
    RolloutEvent,
    RolloutStatus,
)
from canyu.releases.service.common import Runtime
from canyu.releases.service.rollouts import _changed, _event, step_forward
from canyu.releases.service.signals import _sample, _stage_state, baseline, rollout_counts


def evaluate(
    session: Session,
    *,
    rollout_id: int,
    runtime: Runtime | None = None,
    now: datetime | None = None,
) -> health.Decision:
    """Run the health gates of an active rollout and act on them: advance, complete or pause."""
    locked = session.scalar(
        select(Rollout).where(Rollout.id == rollout_id).with_for_update(of=Rollout)
    )
    if locked is None:
        raise NotFound(f"No rollout {rollout_id}.")
    rollout = locked
    if rollout.status != RolloutStatus.ACTIVE:
        return health.Decision(health.Action.HOLD, f"rollout is {rollout.status}")
    when = now or utcnow()
    total = rollout_counts(session, rollout=rollout, since_resume=False)
    judged = rollout_counts(session, rollout=rollout, since_resume=True)
    gates = health.Thresholds.from_dict(rollout.thresholds)
    decision = health.decide(
        judged,
        _stage_state(session, rollout, total.successes, when),
        gates,
        baseline(session, rollout=rollout),
    )
    acted = decision.action != health.Action.HOLD
    if decision.action == health.Action.PAUSE:
        rollout.status = RolloutStatus.PAUSED.value
        rollout.reason = decision.reason
        rollout.auto_paused = True
        _event(session, rollout, "auto_paused", reason=decision.reason, signals=decision.signals)
    elif decision.action in (health.Action.ADVANCE, health.Action.COMPLETE):
        step_forward(
            session,
            rollout,
            actor=None,
            reason=decision.reason,
            signals=decision.signals,
            now=when,
        )
    _watch_new_devices(session, rollout)
    _sample(session, rollout, counts=total, force=acted)
    if acted:
        _changed(session, rollout, runtime, push=decision.action == health.Action.ADVANCE)
    return decision


def _watch_new_devices(session: Session, rollout: Rollout) -> None:
    """Show the team a crowd of devices registered in the rollout's scope since it started
    (once per rollout): canyu.releases.health.device_surge says when it is one."""
    if session.scalar(
        select(RolloutEvent.id).where(
            RolloutEvent.rollout_id == rollout.id, RolloutEvent.kind == "new_devices"
        )
    ):
        return

    def in_scope(since: datetime | None = None) -> int:
        return devices.devices_in_scope(
            session,
            product_id=rollout.build.product_id,
            channels=rollout.channels,
            countries=rollout.countries,
            models=rollout.device_models,
            registered_since=since,
        )

    since = in_scope(rollout.created_at)
    if since < health.SURGE_MIN_DEVICES:
        return
    before = in_scope() - since
    why = health.device_surge(before=before, since=since)
    if why is not None:
        _event(
            session, rollout, "new_devices", reason=why, signals={"new": since, "before": before}
        )


def active_rollout_ids(session: Session) -> list[int]:
    return list(
        session.scalars(select(Rollout.id).where(Rollout.status == RolloutStatus.ACTIVE.value))
    )
