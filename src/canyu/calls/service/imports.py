"""Calls rules: bulk import."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.calls import numbers
from canyu.calls.service.common import parse_category, parse_number
from canyu.calls.service.marks import mark_number
from canyu.calls.service.scoring import rescore_dirty
from canyu.calls.settings import CallsSettings
from canyu.db import utcnow
from canyu.errors import CanyuError, InvalidInput


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

    report = ImportReport()
    users: dict[str, User | None] = {}
    password_hash = accounts.hash_password(secrets.token_urlsafe(24)) if create_reporters else ""
    for row in rows:
        report.rows += 1
        try:
            parse_category(row.get("category") or "")
            region = (row.get("region") or "").strip() or settings.default_region
            phone = parse_number(row.get("number") or "", region)
            reporter = (row.get("reporter") or "").strip()
            if reporter not in users:
                users[reporter] = _import_user(
                    session,
                    reporter,
                    create_reporters,
                    password_hash,
                    _parse_time(row.get("time") or ""),
                    # A created reporter lives where the number they were called from does.
                    phone.region if numbers.is_region(phone.region) else region,
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
                    region=region,
                    network=network,
                    source="import",
                    at=_parse_time(row.get("time") or ""),
                    settings=settings,
                    rescore_now=False,
                )
            report.marks += 1
        except CanyuError as exc:
            report.errors[reason_of(exc)] += 1
            if len(report.examples) < 10:
                report.examples.append(f"row {report.rows}: {exc.message}")
        if report.rows % commit_every == 0:
            session.commit()
        if progress is not None:
            progress(report.rows)
    rescore_dirty(session, settings=settings, limit=10**9)
    return report


def reason_of(exc: CanyuError) -> str:
    """What a refused row has in common with others refused alike (one summary line per reason,
    not one per number): the number's reason, or the message without its quoted values."""
    reason = exc.details.get("reason") if isinstance(exc.details, dict) else None
    if isinstance(reason, str):
        return reason
    return re.sub(r"'[^']*'|\"[^\"]*\"", "…", exc.message)[:100]


def _import_user(
    session: Session,
    reporter: str,
    create: bool,
    password_hash: str,
    first_mark: datetime,
    country: str,
) -> User | None:

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
        country=country,
        password_hash=password_hash,
    )
    user.created_at = first_mark
    session.flush()
    return user
