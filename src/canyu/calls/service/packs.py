"""Calls rules: offline packs, one per calling zone."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from canyu.calls import numbers, ranges
from canyu.calls.assembly import DELTA_SPANS, AssembledPack, DeltaBase, assemble
from canyu.calls.models import Decision, FeedImport, LabelEvent, Number, PackRecord
from canyu.calls.pack import PackError, decode
from canyu.calls.reputation import Category
from canyu.calls.service.scoring import rescore_dirty
from canyu.calls.settings import CallsSettings
from canyu.db import utcnow
from canyu.errors import InvalidInput
from canyu.markets import service as markets
from canyu.releases.publishing import Publisher


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


def zones_due(session: Session) -> list[str]:
    """Zones whose labels changed or that got feed complaints since their last pack (or that
    never had one)."""
    last = dict(
        session.execute(
            select(PackRecord.region, func.max(PackRecord.built_at)).group_by(PackRecord.region)
        ).all()
    )
    due: set[str] = set()
    for region, at in session.execute(
        select(LabelEvent.region, func.max(LabelEvent.at)).group_by(LabelEvent.region)
    ).all():
        if region == numbers.NON_GEOGRAPHIC:
            zones = {
                numbers.zone_of_e164(e164)
                for e164 in session.scalars(
                    select(Number.e164).where(Number.region == region).distinct()
                )
            }
        else:
            zones = {numbers.zone_of_region(region)}
        due.update(z for z in zones if z not in last or at > last[z])
    for zone, at in session.execute(
        select(FeedImport.zone, func.max(FeedImport.at)).group_by(FeedImport.zone)
    ).all():
        if zone not in last or at > last[zone]:
            due.add(zone)
    return sorted(due)


def resolve_zone(value: str) -> str:
    """The zone of a region ("US", "CN") or a zone ("1", "+86"), with a clear refusal."""
    try:
        return numbers.parse_zone(value)
    except numbers.InvalidNumber:
        raise InvalidInput(
            f"Unknown zone {value!r}; use a calling code such as +1 or +86, or a region."
        ) from None


def _require_open_zone(session: Session, zone: str) -> None:
    """A zone's pack is built when one of its regions is an opened market (canyu.markets)."""
    regions = numbers.zone_regions(zone)
    if not set(regions) & markets.open_iso2(session):
        markets.require_open_market(session, country=regions[0])


def _version_path(settings: CallsSettings, zone: str, version: int) -> Path:
    return settings.pack_dir / zone / f"v{version}.cyp"


def _refresh_feed_scores(session: Session, zone: str, settings: CallsSettings) -> None:
    """Feed evidence decays by the day: once a day, the zone's reported numbers wait for a
    rescore as of the build (labels from old complaints go, suspicious numbers fade)."""
    session.execute(
        update(Number)
        # Below a tenth of the warn score a number no longer counts anywhere (not suspicious,
        # not in a range): it is left alone, so old complaints do not cost a rescore every day.
        .where(Number.e164.like(f"+{zone}%"), Number.feed_score >= settings.feed_warn_score / 10)
        .values(needs_rescore=True)
        .execution_options(synchronize_session=False)
    )


def _warn_sets(
    session: Session, zone: str, settings: CallsSettings
) -> tuple[list[int], dict[int, list[int]]]:
    """The zone's suspicious numbers (feed evidence below a label) and suspicious ranges."""
    rows = session.execute(
        select(Number.e164, Number.label, Number.decision, Number.feed_score, Number.score).where(
            Number.e164.like(f"+{zone}%"),
            (Number.feed_score > 0) | Number.label.is_not(None) | Number.decision.is_not(None),
        )
    ).all()
    suspicious: list[int] = []
    evidence: dict[int, float] = {}
    exempt: list[int] = []
    for e164, label, decision, feed_score, score in rows:
        key = numbers.pack_key(e164)
        if decision == Decision.CLEAR:
            exempt.append(key)
            continue
        if label is None and feed_score >= settings.feed_warn_score:
            suspicious.append(key)
        if label is not None or feed_score >= settings.feed_warn_score:
            evidence[key] = feed_score + score
    budget = settings.range_budget * ranges.valid_numbers(zone)
    return suspicious, ranges.suspicious_ranges(evidence, budget=budget, exempt=exempt)


def build_pack(
    session: Session,
    *,
    region: str,
    settings: CallsSettings,
    publisher: Publisher | None,
    now: datetime | None = None,
) -> BuiltPack:
    """Build the next pack of a zone (``region`` is a zone, "1" or "+86", or a region whose
    zone it is) from its labelled numbers, suspicious numbers and ranges, with exact deltas
    from the previous version and the versions of about an hour, a day and a week ago
    (canyu.calls.assembly, pure), then publish it."""
    started = time.perf_counter()
    zone = resolve_zone(region)
    _require_open_zone(session, zone)  # packs are built for opened markets
    when = now or utcnow()
    latest_record = session.scalar(
        select(PackRecord).where(PackRecord.region == zone).order_by(PackRecord.version.desc())
    )
    if latest_record is None or latest_record.built_at.date() < when.date():
        _refresh_feed_scores(session, zone, settings)
    rescore_dirty(session, settings=settings, limit=10**9, now=when)
    rows = session.execute(
        select(Number.e164, Number.label).where(
            Number.e164.like(f"+{zone}%"), Number.label.is_not(None)
        )
    ).all()
    suspicious, blocks = _warn_sets(session, zone, settings)
    horizon = when - timedelta(days=settings.pack_history_days)
    previous = list(
        session.scalars(
            select(PackRecord)
            .where(PackRecord.region == zone, PackRecord.built_at >= horizon)
            .order_by(PackRecord.version.desc())
        )
    )
    bases: list[DeltaBase] = []
    for span, age in DELTA_SPANS:
        base = next((p for p in previous if p.built_at <= when - age), None)
        if base is None or any(b.pack.version == base.version for b in bases):
            continue
        path = _version_path(settings, zone, base.version)
        if path.is_file():
            try:
                bases.append(DeltaBase(span, decode(path.read_bytes())))
            except PackError:
                continue  # an older format or a damaged copy: phones on it take the full pack
    assembled = assemble(
        zone,
        (latest_record.version if latest_record else 0) + 1,
        int(when.timestamp()),
        ((numbers.pack_key(e164), Category(label)) for e164, label in rows if label),
        bases,
        suspicious=suspicious,
        ranges=blocks,
    )
    published = publish_pack(
        session, assembled, settings=settings, publisher=publisher, when=when, horizon=horizon
    )
    return BuiltPack(
        zone,
        assembled.pack.version,
        assembled.pack.count,
        len(assembled.data),
        assembled.sha256,
        published,
        assembled.deltas,
        time.perf_counter() - started,
    )


def publish_pack(
    session: Session,
    assembled: AssembledPack,
    *,
    settings: CallsSettings,
    publisher: Publisher | None,
    when: datetime,
    horizon: datetime,
) -> bool:
    """Publish an assembled pack (signed, through TUF, when there is a publisher), keep a copy
    on disk, record its version and forget what no delta needs any more. Whether it was
    published."""
    pack = assembled.pack
    published_at = None
    if publisher is not None:
        publisher.publish(assembled.files)
        published_at = utcnow()
    out_dir = settings.pack_dir / pack.country
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "pack.cyp").write_bytes(assembled.data)
    (out_dir / "index.json").write_bytes(assembled.index)
    # Each version is kept while a delta may start from it (deltas are exact differences).
    _version_path(settings, pack.country, pack.version).write_bytes(assembled.data)
    session.add(
        PackRecord(
            region=pack.country,
            version=pack.version,
            count=pack.count,
            size=len(assembled.data),
            sha256=assembled.sha256,
            built_at=when,
            published=published_at is not None,
            published_at=published_at,
        )
    )
    # Keep only what deltas may still need (the newest record always stays: it holds the version).
    stale = (
        PackRecord.region == pack.country,
        PackRecord.built_at < horizon,
        PackRecord.version < pack.version,
    )
    for version in session.scalars(select(PackRecord.version).where(*stale)):
        _version_path(settings, pack.country, version).unlink(missing_ok=True)
    session.execute(delete(PackRecord).where(*stale))
    session.execute(delete(LabelEvent).where(LabelEvent.at < horizon - timedelta(days=1)))
    session.flush()
    return published_at is not None


def build_due_packs(
    session: Session, *, settings: CallsSettings, publisher: Publisher | None
) -> list[BuiltPack]:
    """The packs of every opened market whose labels changed (canyu.markets decides where
    canyu is; marks elsewhere wait for their market to open)."""
    rescore_dirty(session, settings=settings, limit=1_000_000)
    opened = markets.open_iso2(session)
    return [
        build_pack(session, region=zone, settings=settings, publisher=publisher)
        for zone in zones_due(session)
        if opened & set(numbers.zone_regions(zone))
    ]
