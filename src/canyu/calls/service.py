"""The rules of the calls domain: marks, scoring, labels, private lookups, appeals, packs.

Plain keyword-only functions that take a session and return values; no HTTP. The pure parts
(scoring, pack format, number parsing) live in reputation.py, pack.py and numbers.py.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Select, bindparam, case, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.calls import numbers, reputation
from canyu.calls.models import (
    Appeal,
    AppealStatus,
    CallMark,
    Decision,
    LabelEvent,
    Number,
    OwnershipCode,
    PackRecord,
    ReporterStats,
)
from canyu.calls.pack import Pack, make_delta
from canyu.calls.reputation import Category
from canyu.calls.sender import CodeSender
from canyu.calls.settings import CallsSettings
from canyu.db import utcnow
from canyu.errors import CanyuError, Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger("canyu.calls")

CATEGORIES = tuple(c.value for c in Category)
SOURCES = ("portal", "device", "import")
MAX_REASON = 2_000
MAX_BUSINESS = 120
# How far back label events are read beyond a base pack's build time: commits can land after
# the moment they were stamped. Extra keys in a delta are harmless.
EVENT_MARGIN = timedelta(minutes=10)
DELTA_SPANS: tuple[tuple[str, timedelta], ...] = (
    ("prev", timedelta(0)),
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(days=7)),
)


class NotVerified(CanyuError):
    status_code = 403
    code = "not_verified"


# --- input ------------------------------------------------------------------------------------


def parse_category(value: str) -> Category:
    try:
        return Category(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown category {value!r}; use one of {', '.join(CATEGORIES)}.",
            details={"field": "category", "allowed": list(CATEGORIES)},
        ) from None


def parse_number(raw: str, region: str | None = None) -> numbers.PhoneNumber:
    if region is not None and not numbers.is_region(region):
        raise InvalidInput(
            f"Unknown region {region!r}; use an ISO 3166 alpha-2 code such as CN or IN.",
            details={"field": "region"},
        )
    try:
        return numbers.normalise(raw, region)
    except numbers.InvalidNumber as exc:
        raise InvalidInput(
            f"{exc.raw!r} is not a valid phone number: {exc.reason}.",
            details={"field": "number", "reason": exc.reason},
        ) from None


def parse_region(region: str) -> str:
    code = region.strip().upper()
    if not numbers.is_region(code) and code != numbers.NON_GEOGRAPHIC:
        raise InvalidInput(f"Unknown region {region!r}; use an ISO 3166 alpha-2 code.")
    return code


def network_id(ip: str | None, secret: str) -> str | None:
    """A keyed hash of the client's network (IPv4 /24, IPv6 /48); None if not an IP address.
    The address itself is never stored."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return hmac.new(secret.encode(), str(network).encode(), hashlib.sha256).hexdigest()[:16]


# --- numbers and marks ------------------------------------------------------------------------


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


# --- scoring ----------------------------------------------------------------------------------


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


def rescore(
    session: Session,
    *,
    number: Number,
    settings: CallsSettings,
    now: datetime | None = None,
    evidence: list[reputation.Mark] | None = None,
) -> reputation.Assessment:
    """Score ``number`` from its marks and apply the label rules (team decisions first)."""
    when = now or utcnow()
    marks = evidence if evidence is not None else _evidence(session, [number.id]).get(number.id, [])
    crowd_labelled = number.label is not None and number.decision is None
    result = reputation.assess(
        marks, now=when.timestamp(), thresholds=settings.thresholds(), labelled=crowd_labelled
    )
    number.score = result.score
    number.marks_count = len(marks)
    number.needs_rescore = False
    if number.decision == Decision.LABEL:
        label: str | None = number.decision_category
    elif number.decision == Decision.CLEAR:
        label = None
        # A verified business is never labelled by the crowd; strong evidence asks the team.
        number.needs_review = result.label is not None
    else:
        label = result.label.value if result.label else None
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
        evidence = _evidence(session, [n.id for n in batch])
        for number in batch:
            rescore(
                session,
                number=number,
                settings=settings,
                now=now,
                evidence=evidence.get(number.id, []),
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


# --- what a number looks like -----------------------------------------------------------------


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


# --- private lookups --------------------------------------------------------------------------

_labelled_cache: dict[str, tuple[float, int]] = {}
_cache_lock = threading.Lock()


def labelled_total(session: Session, *, max_age: float = 60.0) -> int:
    key = str(session.get_bind().engine.url)
    with _cache_lock:
        cached = _labelled_cache.get(key)
        if cached and time.monotonic() - cached[0] < max_age:
            return cached[1]
    total = int(
        session.scalar(select(func.count()).select_from(Number).where(Number.label.is_not(None)))
        or 0
    )
    with _cache_lock:
        _labelled_cache[key] = (time.monotonic(), total)
    return total


def prefix_length(session: Session, *, settings: CallsSettings, max_age: float = 60.0) -> int:
    """The longest prefix (hex characters) that still leaves ``lookup_min_bucket`` labelled
    numbers per bucket on average, within the configured bounds."""
    total = labelled_total(session, max_age=max_age)
    length = settings.lookup_prefix_min
    while (
        length < settings.lookup_prefix_max
        and total / 16 ** (length + 1) >= settings.lookup_min_bucket
    ):
        length += 1
    return length


@dataclass(frozen=True)
class BucketEntry:
    hash: str
    category: str
    reporters: int


def lookup_bucket(
    session: Session, *, prefix: str, settings: CallsSettings, max_age: float = 60.0
) -> list[BucketEntry]:
    """Every labelled number whose SHA-256 starts with ``prefix``, as hashes. Nothing about the
    request is logged: the prefix is all the server ever learns about the number."""
    expected = prefix_length(session, settings=settings, max_age=max_age)
    cleaned = prefix.strip().lower()
    if len(cleaned) != expected or any(c not in "0123456789abcdef" for c in cleaned):
        raise InvalidInput(
            f"A lookup prefix is exactly {expected} hexadecimal characters of SHA-256(E.164).",
            details={"field": "prefix", "prefix_length": expected},
        )
    low, high = numbers.bucket_range(cleaned)
    rows = session.execute(
        select(Number.e164, Number.label, Number.marks_count).where(
            Number.hash_bucket >= low, Number.hash_bucket < high, Number.label.is_not(None)
        )
    ).all()
    entries = [
        BucketEntry(numbers.number_hash(e164), label, count) for e164, label, count in rows if label
    ]
    return sorted((e for e in entries if e.hash.startswith(cleaned)), key=lambda e: e.hash)


# --- team decisions and appeals ---------------------------------------------------------------


def _require_team(actor: User) -> None:
    if not actor.is_team:
        raise Forbidden("Only team members can do this.")


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
    _require_team(actor)
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
    if record.attempts >= settings.code_attempts:
        raise InvalidInput("Too many wrong codes; ask for a new one.", details={"field": "code"})
    record.attempts += 1
    salt, _, expected = record.code_hash.partition("$")
    if not hmac.compare_digest(_code_hash(salt, code.strip()), expected):
        # The failed attempt must outlive the error (which rolls the request back), or codes
        # could be guessed without limit: commit it now.
        session.commit()
        left = settings.code_attempts - record.attempts
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
    _require_team(actor)
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
    session.flush()
    return appeal


# --- offline packs ----------------------------------------------------------------------------


class PackPublisher(Protocol):
    def publish(self, files: Sequence[tuple[str, bytes]]) -> None:
        """Publish ``(target name, content)`` pairs in this order, signed."""


@dataclass(frozen=True)
class BuiltPack:
    region: str
    version: int
    count: int
    size: int
    sha256: str
    published: bool
    deltas: dict[str, int]  # target name -> size
    seconds: float


def target_names(region: str) -> dict[str, str]:
    names = {"pack": f"{region}/pack.cyp", "index": f"{region}/index.json"}
    names.update({span: f"{region}/delta-{span}.cyd" for span, _ in DELTA_SPANS})
    return names


def regions_due(session: Session) -> list[str]:
    """Regions whose labels changed since their last pack (or that never had one)."""
    last = (
        select(PackRecord.region, func.max(PackRecord.built_at).label("built"))
        .group_by(PackRecord.region)
        .subquery()
    )
    rows = session.execute(
        select(LabelEvent.region)
        .outerjoin(last, last.c.region == LabelEvent.region)
        .where((last.c.built.is_(None)) | (LabelEvent.at > last.c.built))
        .distinct()
    ).all()
    return sorted(r[0] for r in rows)


def _keys_since(session: Session, region: str, since: datetime) -> np.ndarray:
    rows = session.execute(
        select(Number.e164)
        .join(LabelEvent, LabelEvent.number_id == Number.id)
        .where(LabelEvent.region == region, LabelEvent.at > since - EVENT_MARGIN)
        .distinct()
    ).all()
    return np.array([numbers.pack_key(r[0]) for r in rows], dtype=np.uint64)


def build_pack(
    session: Session,
    *,
    region: str,
    settings: CallsSettings,
    publisher: PackPublisher | None,
    now: datetime | None = None,
) -> BuiltPack:
    """Build the next pack of ``region`` from its labelled numbers, with deltas from the
    previous version and from the versions of about an hour, a day and a week ago; publish pack,
    deltas, then the index (so an index never names files not yet there)."""
    started = time.perf_counter()
    code = parse_region(region)
    when = now or utcnow()
    rescore_dirty(session, settings=settings, region=code, limit=1_000_000)
    rows = session.execute(
        select(Number.e164, Number.label).where(Number.region == code, Number.label.is_not(None))
    ).all()
    horizon = when - timedelta(days=settings.pack_history_days)
    previous = list(
        session.scalars(
            select(PackRecord)
            .where(PackRecord.region == code, PackRecord.built_at >= horizon)
            .order_by(PackRecord.version.desc())
        )
    )
    latest = session.scalar(select(func.max(PackRecord.version)).where(PackRecord.region == code))
    version = (latest or 0) + 1
    pack = Pack.from_entries(
        code,
        version,
        int(when.timestamp()),
        ((numbers.pack_key(e164), Category(label)) for e164, label in rows if label),
    )
    data = pack.encode()
    sha = hashlib.sha256(data).hexdigest()
    names = target_names(code)
    files: list[tuple[str, bytes]] = [(names["pack"], data)]
    deltas: list[dict[str, Any]] = []
    used: set[int] = set()
    for span, age in DELTA_SPANS:
        base = next((p for p in previous if p.built_at <= when - age), None)
        if base is None or base.version in used:
            continue
        used.add(base.version)
        delta = make_delta(
            pack, _keys_since(session, code, base.built_at), base_version=base.version
        )
        files.append((names[span], delta))
        deltas.append({"name": names[span], "base_version": base.version, "size": len(delta)})
    index = {
        "format": 1,
        "region": code,
        "version": version,
        "created": pack.created,
        "count": pack.count,
        "size": len(data),
        "sha256": sha,
        "pack": names["pack"],
        "deltas": deltas,
    }
    files.append((names["index"], json.dumps(index, sort_keys=True).encode()))
    published_at = None
    if publisher is not None:
        publisher.publish(files)
        published_at = utcnow()
    out_dir = settings.pack_dir / code
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "pack.cyp").write_bytes(data)
    (out_dir / "index.json").write_bytes(files[-1][1])
    session.add(
        PackRecord(
            region=code,
            version=version,
            count=pack.count,
            size=len(data),
            sha256=sha,
            built_at=when,
            published=published_at is not None,
            published_at=published_at,
        )
    )
    # Keep only what deltas may still need (the newest record always stays: it holds the version).
    session.execute(
        delete(PackRecord).where(
            PackRecord.region == code, PackRecord.built_at < horizon, PackRecord.version < version
        )
    )
    session.execute(
        delete(LabelEvent).where(
            LabelEvent.region == code, LabelEvent.at < horizon - timedelta(days=1)
        )
    )
    session.flush()
    return BuiltPack(
        code,
        version,
        pack.count,
        len(data),
        sha,
        published_at is not None,
        {d["name"]: d["size"] for d in deltas},
        time.perf_counter() - started,
    )


def build_due_packs(
    session: Session, *, settings: CallsSettings, publisher: PackPublisher | None
) -> list[BuiltPack]:
    rescore_dirty(session, settings=settings, limit=1_000_000)
    return [
        build_pack(session, region=region, settings=settings, publisher=publisher)
        for region in regions_due(session)
    ]


class TufPublisher:
    """Publishes packs as targets of one TUF repository, product ``settings.tuf_product``
    ("calls"), named ``<region>/pack.cyp``, ``<region>/delta-<span>.cyd``, ``<region>/index.json``.
    The repository is created on first use when the root keys are at hand."""

    def __init__(self, product: str, tuf_dir: Path, keys_dir: Path, root_keys_dir: Path) -> None:
        self.product = product
        self.tuf_dir = tuf_dir
        self.keys_dir = keys_dir
        self.root_keys_dir = root_keys_dir

    def repository(self) -> Any:
        from canyu.releases.tuf_repo import TufRepository

        if TufRepository.exists(self.product, self.tuf_dir):
            return TufRepository.open(self.product, self.tuf_dir, self.keys_dir)
        try:
            return TufRepository.create(
                self.product, self.tuf_dir, self.keys_dir, self.root_keys_dir
            )
        except Conflict:
            return TufRepository.open(self.product, self.tuf_dir, self.keys_dir)

    def publish(self, files: Sequence[tuple[str, bytes]]) -> None:
        repo = self.repository()
        for name, data in files:
            repo.add_target(name, data, custom={"canyu": "calls"})


def default_publisher(settings: CallsSettings) -> TufPublisher | None:
    """The TUF publisher when online keys exist, else None (packs are built but not published)."""
    from canyu.releases.settings import get_release_settings

    release = get_release_settings()
    if not (release.keys_dir / "targets.pem").exists():
        return None
    return TufPublisher(
        settings.tuf_product, release.tuf_dir, release.keys_dir, release.root_keys_dir
    )


# --- bulk import ------------------------------------------------------------------------------


@dataclass
class ImportReport:
    rows: int = 0
    marks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def _parse_time(raw: str) -> datetime:
    from datetime import UTC

    text = raw.strip()
    if not text:
        return utcnow()
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"Bad time {raw!r}; use ISO 8601 or seconds since 1970.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def import_marks(
    session: Session,
    *,
    rows: Iterable[dict[str, str]],
    settings: CallsSettings,
    create_reporters: bool = False,
    progress: Callable[[int], None] | None = None,
    commit_every: int = 2_000,
) -> ImportReport:
    """Load marks from CSV rows (columns number, reporter, category, time; optional region and
    network). ``reporter`` is an account's email or id. Unknown reporters are skipped, or, with
    ``create_reporters``, created as friends whose account dates from their first mark here.
    Numbers are rescored in bulk at the end; the session is committed every ``commit_every``."""
    from canyu.accounts import service as accounts

    report = ImportReport()
    users: dict[str, User | None] = {}
    password_hash = accounts.hash_password(secrets.token_urlsafe(24)) if create_reporters else ""
    for row in rows:
        report.rows += 1
        try:
            parse_category(row.get("category") or "")
            parse_number(row.get("number") or "", (row.get("region") or "").strip() or "CN")
            reporter = (row.get("reporter") or "").strip()
            if reporter not in users:
                users[reporter] = _import_user(
                    session,
                    reporter,
                    create_reporters,
                    password_hash,
                    _parse_time(row.get("time") or ""),
                )
            user = users[reporter]
            if user is None:
                raise InvalidInput(f"unknown reporter {reporter!r}")
            network = (row.get("network") or "").strip()[:32] or None
            # A savepoint per row: a refused row (a concurrent mark by the same friend) must
            # not leave the rest of the batch in a failed transaction.
            with session.begin_nested():
                mark_number(
                    session,
                    user=user,
                    number=row.get("number") or "",
                    category=row.get("category") or "",
                    region=(row.get("region") or "").strip() or None,
                    network=network,
                    source="import",
                    at=_parse_time(row.get("time") or ""),
                    settings=settings,
                    rescore_now=False,
                )
            report.marks += 1
        except CanyuError as exc:
            key = exc.message.split(":")[0][:80]
            report.errors[key] += 1
            if len(report.examples) < 10:
                report.examples.append(f"row {report.rows}: {exc.message}")
        if report.rows % commit_every == 0:
            session.commit()
        if progress is not None:
            progress(report.rows)
    rescore_dirty(session, settings=settings, limit=10**9)
    return report


def _import_user(
    session: Session, reporter: str, create: bool, password_hash: str, first_mark: datetime
) -> User | None:
    from canyu.accounts import service as accounts

    if not reporter:
        return None
    if reporter.isdigit():
        return session.get(User, int(reporter)) if int(reporter) < 2**31 else None
    email = accounts.normalise_email(reporter)
    user = session.scalar(select(User).where(User.email == email))
    if user is not None or not create:
        return user
    user = accounts.create_user(
        session,
        email=email,
        password="unused-" + secrets.token_urlsafe(12),
        display_name=email.split("@")[0][:80] or "friend",
        locale="en",
        country="CN",
        password_hash=password_hash,
    )
    user.created_at = first_mark
    session.flush()
    return user


# --- freshness --------------------------------------------------------------------------------


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
