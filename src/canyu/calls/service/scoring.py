"""Calls rules: scoring."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, delete, func, select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.calls import feeds, reputation
from canyu.calls.models import (
    CallMark,
    Decision,
    Feed,
    FeedReport,
    LabelEvent,
    Number,
    ReporterStats,
)
from canyu.calls.reputation import Category
from canyu.calls.settings import CallsSettings
from canyu.db import utcnow


@cache
def _evidence_query() -> Select[*tuple[Any, ...]]:
    """Every mark on some numbers with what its reporter's trust needs, in one statement built
    once (the number ids are an expanding parameter)."""
    from canyu.devices.models import Device

    has_device = (
        select(Device.id)
        .where(Device.owner_id == CallMark.user_id, Device.revoked_at.is_(None))
        .exists()
    )
    return (
        select(
            CallMark.number_id,
            CallMark.user_id,
            CallMark.category,
            CallMark.created_at,
            CallMark.network,
            User.created_at,
            has_device,
            ReporterStats.agreed,
            ReporterStats.disagreed,
            ReporterStats.unconfirmed,
        )
        .join(User, User.id == CallMark.user_id)
        .outerjoin(ReporterStats, ReporterStats.user_id == CallMark.user_id)
        .where(CallMark.number_id.in_(bindparam("number_ids", expanding=True)))
    )


def _evidence(session: Session, number_ids: Sequence[int]) -> dict[int, list[reputation.Mark]]:
    rows = session.execute(_evidence_query(), {"number_ids": list(number_ids)}).all()
    out: dict[int, list[reputation.Mark]] = defaultdict(list)
    for (
        number_id,
        user_id,
        category,
        at,
        network,
        created,
        device,
        agreed,
        disagreed,
        unconfirmed,
    ) in rows:
        out[number_id].append(
            reputation.Mark(
                reporter=user_id,
                category=Category(category),
                at=at.timestamp(),
                account_age_days=(at - created).total_seconds() / reputation.DAY,
                has_device=bool(device),
                agreed=agreed or 0,
                disagreed=disagreed or 0,
                unconfirmed=unconfirmed or 0,
                network=network,
            )
        )
    return out


def _feed_evidence(
    session: Session, number_ids: Sequence[int], when: datetime
) -> dict[int, dict[Category, float]]:
    """Feeds' evidence per number and category as of ``when`` (later complaints not counted)."""
    rows = session.execute(
        select(
            FeedReport.number_id,
            FeedReport.day,
            FeedReport.count,
            Feed.category,
            Feed.weight,
            Feed.half_life_days,
        )
        .join(Feed, Feed.id == FeedReport.feed_id)
        .where(
            FeedReport.number_id.in_(bindparam("number_ids", expanding=True)),
            FeedReport.day <= when.date(),
        ),
        {"number_ids": list(number_ids)},
    ).all()
    out: dict[int, dict[Category, float]] = defaultdict(lambda: defaultdict(float))
    for number_id, day, count, category, weight, half_life in rows:
        out[number_id][Category(category)] += feeds.evidence(
            [(day, count)], as_of=when.date(), weight=weight, half_life_days=half_life
        )
    return out


def feed_label(
    evidence: dict[Category, float], *, settings: CallsSettings, labelled: bool
) -> Category | None:
    """The label feeds alone give: their evidence reaches ``feed_label_score`` (a label stays
    down to the same share of it as friends' labels do: hysteresis)."""
    needed = settings.feed_label_score
    if labelled:
        needed *= min(1.0, settings.unlabel_score / settings.label_score)
    if sum(evidence.values()) + 1e-9 < needed:
        return None
    rank = {c: i for i, c in enumerate(reputation.SEVERITY)}
    return max(evidence, key=lambda c: (round(evidence[c], 9), -rank[c]))


def rescore(
    session: Session,
    *,
    number: Number,
    settings: CallsSettings,
    now: datetime | None = None,
    evidence: list[reputation.Mark] | None = None,
    feed: dict[Category, float] | None = None,
) -> reputation.Assessment:
    """Score ``number`` from its marks and the feeds' complaints, and apply the label rules
    (team decisions first, then friends' marks with their trust rules, then feeds)."""
    when = now or utcnow()
    marks = evidence if evidence is not None else _evidence(session, [number.id]).get(number.id, [])
    if feed is None:
        feed = _feed_evidence(session, [number.id], when).get(number.id, {})
    crowd_labelled = number.label is not None and number.decision is None
    result = reputation.assess(
        marks, now=when.timestamp(), thresholds=settings.thresholds(), labelled=crowd_labelled
    )
    number.score = result.score
    number.feed_score = sum(feed.values())
    number.marks_count = len(marks)
    number.needs_rescore = False
    by_feed = feed_label(feed, settings=settings, labelled=crowd_labelled)
    if number.decision == Decision.LABEL:
        label: str | None = number.decision_category
    elif number.decision == Decision.CLEAR:
        label = None
        # A verified business is never labelled by the crowd; strong evidence asks the team.
        number.needs_review = result.label is not None or by_feed is not None
    elif result.label is not None:
        label = result.label.value
    else:
        label = by_feed.value if by_feed else None
    _set_label(session, number, label, when)
    return result


def _set_label(session: Session, number: Number, label: str | None, when: datetime) -> None:
    if number.label == label:
        return
    number.label = label
    number.labelled_at = when if label else None
    number.updated_at = when
    session.add(LabelEvent(number_id=number.id, region=number.region, category=label, at=when))


def rescore_dirty(
    session: Session,
    *,
    settings: CallsSettings,
    region: str | None = None,
    limit: int = 5_000,
    now: datetime | None = None,
) -> int:
    """Rescore numbers waiting for the job (busy numbers, imports); returns how many."""
    done = 0
    while True:
        query = select(Number).where(Number.needs_rescore.is_(True))
        if region is not None:
            query = query.where(Number.region == region)
        batch = list(session.scalars(query.order_by(Number.id).limit(min(limit - done, 500))))
        if not batch:
            return done
        ids = [n.id for n in batch]
        evidence = _evidence(session, ids)
        feed = _feed_evidence(session, ids, now or utcnow())
        for number in batch:
            rescore(
                session,
                number=number,
                settings=settings,
                now=now,
                evidence=evidence.get(number.id, []),
                feed=feed.get(number.id, {}),
            )
        session.flush()
        done += len(batch)
        if done >= limit:
            return done


def recompute_reporter_stats(
    session: Session, *, settings: CallsSettings, now: datetime | None = None
) -> int:
    """Agreement with the crowd per friend (see reputation.reporter_trust): marks on numbers
    labelled with the same category (agreed), on numbers the team cleared (disagreed), and older
    marks on numbers still unlabelled (unconfirmed). Returns the friends counted."""
    when = now or utcnow()
    cutoff = when - timedelta(days=settings.thresholds().unconfirmed_days)
    rows = session.execute(
        select(
            CallMark.user_id,
            func.sum(case((Number.label == CallMark.category, 1), else_=0)),
            func.sum(case((Number.decision == Decision.CLEAR.value, 1), else_=0)),
            func.sum(
                case(
                    (
                        Number.label.is_(None)
                        & Number.decision.is_(None)
                        & (CallMark.created_at < cutoff),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .join(Number, Number.id == CallMark.number_id)
        .group_by(CallMark.user_id)
    ).all()
    session.execute(delete(ReporterStats))
    session.add_all(
        ReporterStats(
            user_id=u,
            agreed=int(a or 0),
            disagreed=int(d or 0),
            unconfirmed=int(n or 0),
            updated_at=when,
        )
        for u, a, d, n in rows
    )
    session.flush()
    return len(rows)
