"""Calls rules: complaint feeds (import, and what a number's page says about them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from canyu.calls import feeds, numbers
from canyu.calls.models import Feed, FeedImport, FeedReport, Number
from canyu.calls.reputation import Category
from canyu.calls.service.common import parse_category, parse_region
from canyu.calls.service.scoring import rescore_dirty
from canyu.calls.settings import CallsSettings
from canyu.db import Base, utcnow
from canyu.errors import InvalidInput

T = TypeVar("T")
CHUNK = 900  # ids per IN (...): under SQLite's bound-parameter limit


@dataclass(frozen=True)
class FeedOptions:
    """What the operator says about a feed; None keeps what the feed has (or the default)."""

    name: str
    format: str
    region: str | None = None
    weight: float | None = None
    half_life_days: float | None = None
    category: str | None = None
    provenance: str | None = None


@dataclass(frozen=True)
class FeedImported:
    feed: str
    complaints: int
    numbers: int
    new_numbers: int
    labelled: int  # numbers labelled by this import
    as_of: date


def end_of(day: date) -> datetime:
    """The moment a day's complaints are scored at (a replay scores as of its own time)."""
    return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(seconds=1)


def _feed(session: Session, options: FeedOptions, settings: CallsSettings) -> Feed:
    name = options.name.strip()
    if not 1 <= len(name) <= 40:
        raise InvalidInput("A feed's name is 1 to 40 characters (e.g. FTC).")
    if options.weight is not None and not 0 < options.weight <= 10:
        raise InvalidInput("--weight must be above 0 and at most 10.")
    if options.half_life_days is not None and not 0 < options.half_life_days <= 365:
        raise InvalidInput("--half-life must be above 0 and at most 365 days.")
    feed = session.scalar(select(Feed).where(Feed.name == name))
    if feed is None:
        feed = Feed(
            name=name,
            provenance="",
            format=options.format,
            region=settings.default_region,
            category=Category.TELEMARKETING.value,
            weight=1.0,
            half_life_days=settings.feed_half_life_days,
        )
        session.add(feed)
    if options.region is not None:
        feed.region = parse_region(options.region)
    if options.category is not None:
        feed.category = parse_category(options.category).value
    if options.weight is not None:
        feed.weight = options.weight
    if options.half_life_days is not None:
        feed.half_life_days = options.half_life_days
    if options.provenance is not None:
        feed.provenance = options.provenance[:2_000]
    feed.format = options.format
    feed.updated_at = utcnow()
    session.flush()
    return feed


def _table(model: type[Base]) -> Table:
    """The Core table: executemany without the ORM's per-row bookkeeping (bulk imports)."""
    return cast(Table, model.__table__)


def _chunks(items: Sequence[T]) -> Iterable[list[T]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


def _number_ids(session: Session, found: dict[str, tuple[str, str]]) -> tuple[dict[str, int], int]:
    """Ids of the numbers, creating the missing ones in bulk; (ids, how many were new)."""
    ids: dict[str, int] = {}
    wanted = sorted(found)
    for chunk in _chunks(wanted):
        ids.update(
            session.execute(select(Number.e164, Number.id).where(Number.e164.in_(chunk))).all()
        )
    missing = [e164 for e164 in wanted if e164 not in ids]
    if missing:
        now = utcnow()
        session.execute(
            insert(_table(Number)),
            [
                {
                    "e164": e164,
                    "region": found[e164][0],
                    "number_type": found[e164][1],
                    "hash_bucket": numbers.bucket_of(numbers.number_hash(e164)),
                    "created_at": now,
                    "updated_at": now,
                }
                for e164 in missing
            ],
        )
        for chunk in _chunks(missing):
            ids.update(
                session.execute(select(Number.e164, Number.id).where(Number.e164.in_(chunk))).all()
            )
    return ids, len(missing)


def import_feed(
    session: Session,
    *,
    rows: feeds.FeedRows,
    options: FeedOptions,
    as_of: date,
    file_name: str,
    settings: CallsSettings,
    progress: Callable[[str], None] | None = None,
) -> FeedImported:
    """Add a feed file's complaints (already read by canyu.calls.feeds.read_feed) to the feed,
    then rescore every number they touch as of the end of ``as_of``. Nothing is committed here:
    the caller commits once, so a failed import leaves nothing behind."""
    feed = _feed(session, options, settings)
    if not rows.complaints:
        raise InvalidInput("The file holds no valid complaint; nothing was imported.")
    if progress:
        progress("numbers")
    ids, new = _number_ids(session, rows.numbers)
    per_day: dict[date, dict[int, int]] = defaultdict(dict)
    for (e164, day), count in rows.complaints.items():
        per_day[day][ids[e164]] = count
    if progress:
        progress("reports")
    for day, counts in sorted(per_day.items()):
        existing: dict[int, int] = {}
        for chunk in _chunks(sorted(counts)):
            existing.update(
                session.execute(
                    select(FeedReport.number_id, FeedReport.id).where(
                        FeedReport.feed_id == feed.id,
                        FeedReport.day == day,
                        FeedReport.number_id.in_(chunk),
                    )
                ).all()
            )
        if existing:
            session.execute(
                update(FeedReport)
                .where(FeedReport.id == bindparam("report_id"))
                .values(count=FeedReport.count + bindparam("more")),
                [{"report_id": rid, "more": counts[nid]} for nid, rid in existing.items()],
                execution_options={"synchronize_session": False},
            )
        fresh = [n for n in counts if n not in existing]
        if fresh:
            session.execute(
                insert(_table(FeedReport)),
                [
                    {"feed_id": feed.id, "number_id": n, "day": day, "count": counts[n]}
                    for n in fresh
                ],
            )
    touched = sorted(set(ids.values()))
    for chunk in _chunks(touched):
        session.execute(
            update(Number)
            .where(Number.id.in_(chunk))
            .values(needs_rescore=True)
            .execution_options(synchronize_session=False)
        )
    if progress:
        progress("scoring")
    labelled_before = _labelled(session, touched)
    rescore_dirty(session, settings=settings, limit=10**9, now=end_of(as_of))
    zones: dict[str, int] = defaultdict(int)
    for (e164, _day), count in rows.complaints.items():
        zones[numbers.zone_of_e164(e164)] += count
    for zone, complaints in sorted(zones.items()):
        session.add(
            FeedImport(
                feed_id=feed.id,
                zone=zone,
                file_name=file_name[-200:],
                as_of=as_of,
                complaints=complaints,
                skipped=sum(rows.errors.values()),
            )
        )
    session.flush()
    return FeedImported(
        feed.name,
        rows.accepted,
        len(ids),
        new,
        _labelled(session, touched) - labelled_before,
        as_of,
    )


def _labelled(session: Session, ids: Sequence[int]) -> int:
    return sum(
        int(
            session.scalar(
                select(func.count())
                .select_from(Number)
                .where(Number.id.in_(chunk), Number.label.is_not(None))
            )
            or 0
        )
        for chunk in _chunks(ids)
    )


@dataclass(frozen=True)
class FeedLine:
    """What a number's page says about one feed: "reported to the FTC 12 times in the week to
    17 Apr 2021"."""

    feed: str
    provenance: str
    week: int
    total: int
    last_day: date


def feed_lines(session: Session, *, number_id: int) -> list[FeedLine]:
    rows = session.execute(
        select(Feed.name, Feed.provenance, FeedReport.day, FeedReport.count)
        .join(Feed, Feed.id == FeedReport.feed_id)
        .where(FeedReport.number_id == number_id)
        .order_by(Feed.name, FeedReport.day)
    ).all()
    grouped: dict[tuple[str, str], list[tuple[date, int]]] = defaultdict(list)
    for name, provenance, day, count in rows:
        grouped[(name, provenance)].append((day, count))
    out = []
    for (name, provenance), reports in grouped.items():
        last = max(day for day, _ in reports)
        week = sum(c for day, c in reports if (last - day).days < 7)
        out.append(FeedLine(name, provenance, week, sum(c for _, c in reports), last))
    return out
