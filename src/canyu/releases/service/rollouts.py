"""Releases rules: rollouts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.db import utcnow
from canyu.devices import service as devices
from canyu.devices.push import Message, publish_after_commit
from canyu.devices.topics import topic
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.markets import service as markets
from canyu.releases import health
from canyu.releases.models import (
    LIVE_STATUSES,
    Build,
    Rollout,
    RolloutEvent,
    RolloutStatus,
)
from canyu.releases.service.common import (
    DEFAULT_STAGES,
    MAX_REASON,
    Runtime,
    _clean_text,
    parse_channel,
)
from canyu.releases.service.credits import release_build
from canyu.releases.service.signals import _sample, rollout_counts


def _event(
    session: Session,
    rollout: Rollout,
    kind: str,
    *,
    actor: User | None = None,
    reason: str | None = None,
    signals: dict[str, Any] | None = None,
) -> RolloutEvent:
    event = RolloutEvent(
        rollout_id=rollout.id,
        kind=kind,
        stage_index=rollout.stage_index,
        reason=reason,
        actor_id=actor.id if actor else None,
        signals=signals or {},
        created_at=utcnow(),
    )
    session.add(event)
    return event


def _check_countries(session: Session, countries: Iterable[str]) -> list[str]:
    """A rollout targets opened markets only (canyu.markets)."""
    codes = sorted({accounts.check_country(c) for c in countries})
    for code in codes:
        markets.require_open_market(session, country=code)
    return codes


def previous_build(session: Session, *, build: Build) -> Build | None:
    """The build devices go back to: the newest completed rollout's build on this channel."""
    query = (
        select(Build)
        .join(Rollout, Rollout.build_id == Build.id)
        .where(
            Build.product_id == build.product_id,
            Build.channel == build.channel,
            Build.id != build.id,
            Rollout.status == RolloutStatus.COMPLETED.value,
        )
        .order_by(Rollout.completed_at.desc(), Rollout.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def start_rollout(
    session: Session,
    *,
    actor: User,
    build_id: int,
    stages: Sequence[float] = DEFAULT_STAGES,
    channels: Sequence[str] | None = None,
    countries: Sequence[str] = (),
    device_models: Sequence[str] = (),
    thresholds: health.Thresholds | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    """Start offering a build in stages; the build is released (its posts shipped) now."""
    accounts.require_team(actor)
    build = session.get(Build, build_id)
    if build is None:
        raise NotFound(f"No build {build_id} to roll out.")
    checked_stages = health.check_stages(list(stages))
    chosen_channels = sorted({parse_channel(c).value for c in (channels or [build.channel])})
    chosen_countries = _check_countries(session, countries)
    models = sorted({m.strip() for m in device_models if m.strip()})
    if any(len(m) > 40 for m in models):
        raise InvalidInput("A device model has at most 40 characters.")
    if not build.payloads:
        raise Conflict(f"Build {build.version} has no payload to install; upload one first.")
    live = session.scalars(
        select(Rollout)
        .join(Build, Build.id == Rollout.build_id)
        .where(Build.product_id == build.product_id, Rollout.status.in_(LIVE_STATUSES))
    ).all()
    for other in live:
        if set(other.channels) & set(chosen_channels):
            raise Conflict(
                f"Rollout {other.id} of {other.build.version} is still {other.status} on "
                f"{', '.join(sorted(set(other.channels) & set(chosen_channels)))}; finish, halt "
                "or roll it back first.",
                details={"rollout_id": other.id},
            )
    gates = thresholds or health.Thresholds()
    previous = previous_build(session, build=build)
    rollout = Rollout(
        build_id=build.id,
        previous_build_id=previous.id if previous else None,
        status=RolloutStatus.ACTIVE.value,
        stages=list(checked_stages),
        stage_index=0,
        stage_started_at=utcnow(),
        stage_base_successes=0,
        channels=chosen_channels,
        countries=chosen_countries,
        device_models=models,
        thresholds=gates.as_dict(),
        gate_base={},
        created_by_id=actor.id,
    )
    session.add(rollout)
    session.flush()
    release_build(session, actor=actor, build=build)
    _event(
        session,
        rollout,
        "started",
        actor=actor,
        reason=f"{checked_stages[0]:g}%",
        signals={"to": checked_stages[0]},
    )
    _sample(session, rollout, counts=health.Counts(0, 0, 0, 0), force=True)
    _changed(session, rollout, runtime, push=True)
    return rollout


def get_rollout(session: Session, *, rollout_id: int) -> Rollout:
    rollout = session.get(Rollout, rollout_id)
    if rollout is None:
        raise NotFound(f"No rollout {rollout_id}.")
    return rollout


def list_rollouts(
    session: Session, *, build_id: int | None = None, limit: int = 50
) -> list[Rollout]:
    query = select(Rollout).order_by(Rollout.id.desc()).limit(limit)
    if build_id is not None:
        query = query.where(Rollout.build_id == build_id)
    return list(session.scalars(query))


def _reason(reason: str | None) -> str | None:
    text = _clean_text(reason, field="reason", maximum=MAX_REASON)
    return text or None


def _changed(session: Session, rollout: Rollout, runtime: Runtime | None, *, push: bool) -> None:
    session.flush()
    if runtime is None:
        return
    runtime.offers.invalidate()
    if push:
        publish_after_commit(session, runtime.pusher, push_messages(session, rollout=rollout))
    # Other sessions' offers must see the change too once it commits.
    from sqlalchemy import event

    event.listen(session, "after_commit", lambda _s: runtime.offers.invalidate(), once=True)


def push_messages(session: Session, *, rollout: Rollout) -> list[Message]:
    """One message per product/channel/country topic the rollout reaches."""
    build = rollout.build
    messages: list[Message] = []
    for channel in rollout.channels:
        countries = rollout.countries or devices.countries_in_scope(
            session, product_id=build.product_id, channel=channel
        )
        for country in countries:
            messages.append(
                (
                    topic(build.product.key, channel, country),
                    {
                        "event": "check-in",
                        "rollout": rollout.id,
                        "status": rollout.status,
                        "version": build.version,
                        "percent": rollout.percent,
                    },
                )
            )
    return messages


def _team_action(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    allowed_from: Sequence[str],
    verb: str,
) -> Rollout:
    accounts.require_team(actor)
    rollout = get_rollout(session, rollout_id=rollout_id)
    if rollout.status not in allowed_from:
        raise Conflict(
            f"Cannot {verb} a rollout that is {rollout.status.replace('_', ' ')}.",
            details={"status": rollout.status},
        )
    return rollout


def pause(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    rollout = _team_action(
        session,
        actor=actor,
        rollout_id=rollout_id,
        allowed_from=[RolloutStatus.ACTIVE],
        verb="pause",
    )
    text = _reason(reason) or f"paused by {actor.display_name}"
    rollout.status = RolloutStatus.PAUSED.value
    rollout.reason = text
    rollout.auto_paused = False
    _event(session, rollout, "paused", actor=actor, reason=text)
    _changed(session, rollout, runtime, push=False)
    return rollout


def resume(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    rollout = _team_action(
        session,
        actor=actor,
        rollout_id=rollout_id,
        allowed_from=[RolloutStatus.PAUSED],
        verb="resume",
    )
    counts = rollout_counts(session, rollout=rollout, since_resume=False)
    rollout.status = RolloutStatus.ACTIVE.value
    rollout.reason = None
    rollout.auto_paused = False
    # The gates judge what happens from now on; what made them pause has been looked at.
    rollout.gate_base = {
        "successes": counts.successes,
        "failures": counts.failures,
        "crashes": counts.crashes,
        "feedback": counts.feedback,
    }
    _event(session, rollout, "resumed", actor=actor, reason=_reason(reason))
    _changed(session, rollout, runtime, push=True)
    return rollout


def halt(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    rollout = _team_action(
        session, actor=actor, rollout_id=rollout_id, allowed_from=LIVE_STATUSES, verb="halt"
    )
    text = _reason(reason) or f"halted by {actor.display_name}"
    rollout.status = RolloutStatus.HALTED.value
    rollout.reason = text
    _event(session, rollout, "halted", actor=actor, reason=text)
    _changed(session, rollout, runtime, push=False)
    return rollout


def roll_back(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    """Devices that installed this build are offered the previous build."""
    rollout = _team_action(
        session,
        actor=actor,
        rollout_id=rollout_id,
        allowed_from=[*LIVE_STATUSES, RolloutStatus.HALTED, RolloutStatus.COMPLETED],
        verb="roll back",
    )
    if rollout.previous_build is None or not rollout.previous_build.payloads:
        raise Conflict("There is no earlier completed build with a payload to roll back to.")
    text = _reason(reason) or f"rolled back by {actor.display_name}"
    rollout.status = RolloutStatus.ROLLED_BACK.value
    rollout.reason = text
    _event(
        session,
        rollout,
        "rolled_back",
        actor=actor,
        reason=text,
        signals={"to": rollout.previous_build.version},
    )
    _changed(session, rollout, runtime, push=True)
    return rollout


def step_forward(
    session: Session,
    rollout: Rollout,
    *,
    actor: User | None,
    reason: str | None,
    signals: dict[str, Any],
    now: datetime | None = None,
) -> str:
    """Move a rollout to its next stage, or complete it at the last one, and record the move in
    its history (every stage change is an event, whoever made it): "advanced" or "completed"."""
    now = now or utcnow()
    before = rollout.percent
    if rollout.stage_index >= len(rollout.stages) - 1:
        rollout.status = RolloutStatus.COMPLETED.value
        rollout.completed_at = now
        rollout.reason = None
        kind = "completed"
    else:
        rollout.stage_index += 1
        rollout.stage_started_at = now
        rollout.stage_base_successes = rollout_counts(
            session, rollout=rollout, since_resume=False
        ).successes
        kind = "advanced"
    moved = {"from": before, "to": rollout.percent} if kind == "advanced" else {}
    _event(session, rollout, kind, actor=actor, reason=reason, signals=signals | moved)
    return kind


def advance(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    """The team moves an active rollout to its next stage now, without waiting for the gates
    (or completes it at its last stage)."""
    rollout = _team_action(
        session,
        actor=actor,
        rollout_id=rollout_id,
        allowed_from=[RolloutStatus.ACTIVE],
        verb="advance",
    )
    kind = step_forward(session, rollout, actor=actor, reason=_reason(reason), signals={})
    _changed(session, rollout, runtime, push=kind == "advanced")
    return rollout
