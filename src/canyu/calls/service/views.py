"""Calls rules: what a number looks like."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from canyu.calls.models import (
    Appeal,
    AppealStatus,
    CallMark,
    Decision,
    Number,
    PackRecord,
)
from canyu.calls.service.common import CATEGORIES, parse_number
from canyu.calls.service.marks import get_number
from canyu.calls.settings import CallsSettings


@dataclass(frozen=True)
class NumberSummary:
    e164: str
    formatted: str
    region: str
    number_type: str
    label: str | None
    marks: int
    by_category: dict[str, int]
    protected: bool
    decision: str | None
    needs_review: bool
    known: bool
    score: float = 0.0
    appeals: list[Appeal] = field(default_factory=list)


def summarise(
    session: Session, *, number: str, region: str | None, settings: CallsSettings
) -> NumberSummary:
    phone = parse_number(number, region or settings.default_region)
    row = get_number(session, e164=phone.e164)
    if row is None:
        return NumberSummary(
            phone.e164,
            phone.formatted(),
            phone.region,
            phone.number_type,
            None,
            0,
            {},
            False,
            None,
            False,
            False,
        )
    counts = dict(
        session.execute(
            select(CallMark.category, func.count())
            .where(CallMark.number_id == row.id)
            .group_by(CallMark.category)
        ).all()
    )
    appeals = list(
        session.scalars(
            select(Appeal).where(Appeal.number_id == row.id).order_by(Appeal.created_at.desc())
        )
    )
    return NumberSummary(
        row.e164,
        phone.formatted(),
        row.region,
        row.number_type,
        row.label,
        sum(counts.values()),
        {c: int(counts[c]) for c in CATEGORIES if c in counts},
        row.decision == Decision.CLEAR,
        row.decision,
        row.needs_review,
        True,
        row.score,
        appeals,
    )


def label_reporters(session: Session, *, number: Number) -> int:
    """Friends whose mark agrees with the label ("fraud — marked by 1,234 friends")."""
    if number.label is None:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(CallMark)
            .where(CallMark.number_id == number.id, CallMark.category == number.label)
        )
        or 0
    )


def first_publication_after(
    session: Session, *, region: str, labelled_at: datetime
) -> datetime | None:
    """When the first pack read after ``labelled_at`` was published."""
    return session.scalar(
        select(func.min(PackRecord.published_at)).where(
            PackRecord.region == region,
            PackRecord.published.is_(True),
            PackRecord.built_at >= labelled_at,
        )
    )


def stats(session: Session) -> dict[str, int]:
    labelled = session.scalar(
        select(func.count()).select_from(Number).where(Number.label.is_not(None))
    )
    return {
        "numbers": int(session.scalar(select(func.count()).select_from(Number)) or 0),
        "labelled": int(labelled or 0),
        "marks": int(session.scalar(select(func.count()).select_from(CallMark)) or 0),
        "pending_appeals": int(
            session.scalar(
                select(func.count())
                .select_from(Appeal)
                .where(Appeal.status == AppealStatus.PENDING.value)
            )
            or 0
        ),
    }
