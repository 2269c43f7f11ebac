"""Calls rules: offline packs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from canyu.calls import numbers
from canyu.calls.assembly import DELTA_SPANS, AssembledPack, DeltaBase, assemble
from canyu.calls.models import (
    LabelEvent,
    Number,
    PackRecord,
)
from canyu.calls.reputation import Category
from canyu.calls.service.common import EVENT_MARGIN, parse_region
from canyu.calls.service.scoring import rescore_dirty
from canyu.calls.settings import CallsSettings
from canyu.db import utcnow
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
    publisher: Publisher | None,
    now: datetime | None = None,
) -> BuiltPack:
    """Build the next pack of ``region`` from its labelled numbers, with deltas from the
    previous version and from the versions of about an hour, a day and a week ago
    (canyu.calls.assembly, pure), then publish it."""
    started = time.perf_counter()
    code = parse_region(region)
    markets.require_open_market(session, country=code)  # packs are built for opened markets
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
    bases: list[DeltaBase] = []
    for span, age in DELTA_SPANS:
        base = next((p for p in previous if p.built_at <= when - age), None)
        if base is None or any(b.version == base.version for b in bases):
            continue
        changed = _keys_since(session, code, base.built_at)
        bases.append(DeltaBase(span, base.version, changed))
    assembled = assemble(
        code,
        (latest or 0) + 1,
        int(when.timestamp()),
        ((numbers.pack_key(e164), Category(label)) for e164, label in rows if label),
        bases,
    )
    published = publish_pack(
        session, assembled, settings=settings, publisher=publisher, when=when, horizon=horizon
    )
    return BuiltPack(
        code,
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
    session.execute(
        delete(PackRecord).where(
            PackRecord.region == pack.country,
            PackRecord.built_at < horizon,
            PackRecord.version < pack.version,
        )
    )
    session.execute(
        delete(LabelEvent).where(
            LabelEvent.region == pack.country, LabelEvent.at < horizon - timedelta(days=1)
        )
    )
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
        build_pack(session, region=region, settings=settings, publisher=publisher)
        for region in regions_due(session)
        if region in opened
    ]
