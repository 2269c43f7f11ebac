"""Calls rules: team decisions and appeals."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.calls.models import (
    Appeal,
    AppealStatus,
    Decision,
    Number,
    OwnershipCode,
)
from canyu.calls.sender import CodeSender
from canyu.calls.service.common import (
    MAX_BUSINESS,
    MAX_REASON,
    NotVerified,
    number_path,
    parse_category,
    parse_number,
)
from canyu.calls.service.marks import _number_for, get_number
from canyu.calls.service.scoring import rescore
from canyu.calls.settings import CallsSettings
from canyu.community import service as community
from canyu.db import utcnow
from canyu.errors import Conflict, InvalidInput, NotFound


def decide_number(
    session: Session,
    *,
    actor: User,
    number: str,
    decision: str,
    settings: CallsSettings,
    category: str | None = None,
) -> Number:
    """The team labels a number (``label`` with a category), clears it for good (``clear``), or
    gives it back to the crowd (``crowd``)."""
    accounts.require_team(actor)
    phone = parse_number(number, settings.default_region)
    row = _number_for(session, phone)
    if decision == Decision.LABEL:
        if category is None:
            raise InvalidInput("A label decision needs a category.", details={"field": "category"})
        row.decision = Decision.LABEL.value
        row.decision_category = parse_category(category).value
    elif decision == Decision.CLEAR:
        row.decision = Decision.CLEAR.value
        row.decision_category = None
    elif decision == "crowd":
        row.decision = None
        row.decision_category = None
    else:
        raise InvalidInput(
            f"Unknown decision {decision!r}; use label, clear or crowd.",
            details={"field": "decision"},
        )
    row.decided_by = actor.id
    row.needs_review = False
    session.flush()
    rescore(session, number=row, settings=settings)
    if row.decision == Decision.CLEAR:
        row.needs_review = False
    return row


def _code_hash(code_id_salt: str, code: str) -> str:
    return hashlib.sha256(f"{code_id_salt}:{code}".encode()).hexdigest()


@dataclass(frozen=True)
class CodeSent:
    e164: str
    expires_at: datetime


def request_code(
    session: Session,
    *,
    user: User,
    number: str,
    sender: CodeSender,
    settings: CallsSettings,
    region: str | None = None,
) -> CodeSent:
    """Send a 6-digit one-time code to ``number``; entering it proves control of the number."""
    phone = parse_number(number, region or user.country or settings.default_region)
    row = _number_for(session, phone)
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    salt = secrets.token_hex(8)
    record = OwnershipCode(
        number_id=row.id,
        user_id=user.id,
        code_hash=f"{salt}${_code_hash(salt, code)}",
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.code_ttl_minutes),
    )
    session.add(record)
    session.flush()
    sender.send(phone.e164, code, locale=user.locale)
    return CodeSent(phone.e164, record.expires_at)


def verify_code(
    session: Session,
    *,
    user: User,
    number: str,
    code: str,
    settings: CallsSettings,
    region: str | None = None,
) -> OwnershipCode:
    phone = parse_number(number, region or user.country or settings.default_region)
    row = get_number(session, e164=phone.e164)
    now = utcnow()
    record = (
        session.scalar(
            select(OwnershipCode)
            .where(OwnershipCode.number_id == row.id, OwnershipCode.user_id == user.id)
            .order_by(OwnershipCode.created_at.desc(), OwnershipCode.id.desc())
            .limit(1)
        )
        if row is not None
        else None
    )
    if record is None or record.expires_at <= now:
        raise InvalidInput(
            "No valid code for this number; ask for a new one.", details={"field": "code"}
        )
    if record.verified_at is not None:
        return record
    # The attempt is counted before the code is compared, in one statement (so concurrent
    # guesses cannot all read the same count), and committed at once: it must outlive the
    # error a wrong code raises, which rolls the request back, or codes could be guessed
    # without limit.
    attempts = session.execute(
        update(OwnershipCode)
        .where(
            OwnershipCode.id == record.id,
            OwnershipCode.attempts < settings.code_attempts,
            OwnershipCode.verified_at.is_(None),
        )
        .values(attempts=OwnershipCode.attempts + 1)
        .returning(OwnershipCode.attempts)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.commit()
    if attempts is None:
        session.refresh(record)
        if record.verified_at is not None:  # a concurrent request entered the right code
            return record
        raise InvalidInput("Too many wrong codes; ask for a new one.", details={"field": "code"})
    set_committed_value(record, "attempts", attempts)
    salt, _, expected = record.code_hash.partition("$")
    if not hmac.compare_digest(_code_hash(salt, code.strip()), expected):
        left = settings.code_attempts - attempts
        raise InvalidInput(
            f"Wrong code; {left} attempt{'s' if left != 1 else ''} left.",
            details={"field": "code", "attempts_left": left},
        )
    record.verified_at = now
    session.flush()
    return record


def file_appeal(
    session: Session,
    *,
    user: User,
    number: str,
    business_name: str,
    reason: str,
    settings: CallsSettings,
    region: str | None = None,
) -> Appeal:
    """An owner's appeal; needs a code verified for this friend and number in the last day."""
    phone = parse_number(number, region or user.country or settings.default_region)
    name = business_name.strip()
    text = reason.strip()
    if not 1 <= len(name) <= MAX_BUSINESS or "\x00" in name:
        raise InvalidInput(
            f"Give the name of the business or owner (1 to {MAX_BUSINESS} characters).",
            details={"field": "business_name"},
        )
    if not 1 <= len(text) <= MAX_REASON or "\x00" in text:
        raise InvalidInput(
            f"Say why the label is wrong (1 to {MAX_REASON} characters).",
            details={"field": "reason"},
        )
    row = get_number(session, e164=phone.e164)
    verified = (
        session.scalar(
            select(OwnershipCode)
            .where(
                OwnershipCode.number_id == row.id,
                OwnershipCode.user_id == user.id,
                OwnershipCode.verified_at.is_not(None),
                OwnershipCode.verified_at > utcnow() - timedelta(days=1),
            )
            .order_by(OwnershipCode.verified_at.desc())
            .limit(1)
        )
        if row is not None
        else None
    )
    if row is None or verified is None:
        raise NotVerified(
            "Prove that you control this number first: ask for a code and enter it.",
            details={"field": "code"},
        )
    pending = session.scalar(
        select(Appeal).where(
            Appeal.number_id == row.id, Appeal.status == AppealStatus.PENDING.value
        )
    )
    if pending is not None:
        raise Conflict("This number already has an appeal waiting for the team.")
    appeal = Appeal(
        number_id=row.id,
        user_id=user.id,
        code_id=verified.id,
        business_name=name,
        reason=text,
        status=AppealStatus.PENDING.value,
        label_at_appeal=row.label,
        created_at=utcnow(),
    )
    session.add(appeal)
    session.flush()
    return appeal


def appeal_queue(session: Session, *, status: str = AppealStatus.PENDING.value) -> list[Appeal]:
    if status not in {s.value for s in AppealStatus}:
        raise InvalidInput(f"Unknown appeal status {status!r}.")
    return list(
        session.scalars(
            select(Appeal).where(Appeal.status == status).order_by(Appeal.created_at, Appeal.id)
        )
    )


def review_queue(session: Session, *, limit: int = 100) -> list[Number]:
    """Protected numbers whose evidence reached the label score again."""
    return list(
        session.scalars(
            select(Number)
            .where(Number.needs_review.is_(True))
            .order_by(Number.score.desc())
            .limit(limit)
        )
    )


def decide_appeal(
    session: Session,
    *,
    actor: User,
    appeal_id: int,
    uphold: bool,
    settings: CallsSettings,
    note: str = "",
) -> Appeal:
    """Uphold: the label goes and the number is protected (a verified business). Reject: the
    label stays."""
    accounts.require_team(actor)
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"No appeal {appeal_id}.")
    if appeal.status != AppealStatus.PENDING:
        raise Conflict(f"Appeal {appeal_id} was already decided ({appeal.status}).")
    if len(note) > MAX_REASON or "\x00" in note:
        raise InvalidInput("The note is too long.", details={"field": "note"})
    appeal.status = (AppealStatus.UPHELD if uphold else AppealStatus.REJECTED).value
    appeal.decided_at = utcnow()
    appeal.decided_by = actor.id
    appeal.note = note.strip()
    if uphold:
        number = appeal.number
        number.decision = Decision.CLEAR.value
        number.decision_category = None
        number.decided_by = actor.id
        session.flush()
        rescore(session, number=number, settings=settings)
        number.needs_review = False
    community.tell_user(
        session,
        user_id=appeal.user_id,
        event="appeal",
        link=number_path(appeal.number.e164),
        number=appeal.number.e164,
        upheld=uphold,
        note=appeal.note,
    )
    session.flush()
    return appeal
