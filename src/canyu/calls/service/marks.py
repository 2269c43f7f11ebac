"""Calls rules: numbers and marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.calls import numbers
from canyu.calls.models import (
    CallMark,
    Number,
)
from canyu.calls.service.common import SOURCES, parse_category, parse_number
from canyu.calls.service.scoring import rescore
from canyu.calls.settings import CallsSettings
from canyu.db import utcnow
from canyu.errors import Conflict, InvalidInput, NotFound


def get_number(session: Session, *, e164: str) -> Number | None:
    return session.scalar(select(Number).where(Number.e164 == e164))


def _number_for(session: Session, phone: numbers.PhoneNumber) -> Number:
    existing = get_number(session, e164=phone.e164)
    if existing is not None:
        return existing
    number = Number(
        e164=phone.e164,
        region=phone.region,
        number_type=phone.number_type,
        hash_bucket=numbers.bucket_of(numbers.number_hash(phone.e164)),
        score=0.0,
        marks_count=0,
        needs_review=False,
        needs_rescore=False,
    )
    try:
        with session.begin_nested():
            session.add(number)
    except IntegrityError:
        # Someone else created it at the same moment.
        found = get_number(session, e164=phone.e164)
        if found is None:
            raise
        return found
    return number


@dataclass(frozen=True)
class MarkResult:
    mark: CallMark
    number: Number
    created: bool


def mark_number(
    session: Session,
    *,
    user: User,
    number: str,
    category: str,
    settings: CallsSettings,
    region: str | None = None,
    network: str | None = None,
    source: str = "portal",
    at: datetime | None = None,
    rescore_now: bool = True,
) -> MarkResult:
    """Create or change ``user``'s mark on ``number``, then rescore the number (in the request
    while it has few marks, else by the job). A Conflict (the same friend marking the number
    twice at once) leaves the transaction to be rolled back: callers that go on after an error
    wrap each call in a savepoint."""
    chosen = parse_category(category)
    phone = parse_number(number, region or user.country or settings.default_region)
    if source not in SOURCES:
        raise InvalidInput(f"Unknown source {source!r}.")
    when = at or utcnow()
    row = _number_for(session, phone)
    mark = session.scalar(
        select(CallMark).where(CallMark.number_id == row.id, CallMark.user_id == user.id)
    )
    created = mark is None
    if mark is None:
        mark = CallMark(
            number_id=row.id,
            user_id=user.id,
            category=chosen.value,
            network=network,
            source=source,
            created_at=when,
            updated_at=when,
        )
        session.add(mark)
        try:
            session.flush()
        except IntegrityError:
            # The same friend's other request won; the caller's transaction is rolled back.
            raise Conflict("You marked this number at the same moment twice; try again.") from None
        row.marks_count += 1
    else:
        mark.category = chosen.value
        mark.updated_at = when
        if network is not None:
            mark.network = network
    _after_marks_changed(session, row, settings, rescore_now=rescore_now)
    return MarkResult(mark, row, created)


def withdraw_mark(session: Session, *, user: User, number: str, settings: CallsSettings) -> None:
    phone = parse_number(number, user.country or settings.default_region)
    row = get_number(session, e164=phone.e164)
    mark = (
        session.scalar(
            select(CallMark).where(CallMark.number_id == row.id, CallMark.user_id == user.id)
        )
        if row is not None
        else None
    )
    if row is None or mark is None:
        raise NotFound(f"You have no mark on {phone.e164}.")
    session.delete(mark)
    row.marks_count = max(0, row.marks_count - 1)
    session.flush()
    _after_marks_changed(session, row, settings, rescore_now=True)


def _after_marks_changed(
    session: Session, number: Number, settings: CallsSettings, *, rescore_now: bool
) -> None:
    number.updated_at = utcnow()
    if rescore_now and number.marks_count < settings.sync_rescore_limit:
        rescore(session, number=number, settings=settings)
    else:
        number.needs_rescore = True


def list_marks(
    session: Session, *, user: User, limit: int = 50, offset: int = 0
) -> tuple[list[CallMark], int]:
    total = session.scalar(
        select(func.count()).select_from(CallMark).where(CallMark.user_id == user.id)
    )
    rows = session.scalars(
        select(CallMark)
        .where(CallMark.user_id == user.id)
        .order_by(CallMark.updated_at.desc(), CallMark.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total or 0)
