"""The rules of the hotspots domain: imports with merging, near queries on H3 cell ranges,
friends' confirmations (rate-limited, trust-weighted), suggestions, owners' claims and
credentials, connect artefacts, and signed regional packs with deltas."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import math
import re
import secrets
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    bindparam,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
    values,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.db import utcnow
from canyu.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from canyu.hotspots import connect, geo, scoring
from canyu.hotspots import pack as packs
from canyu.hotspots.importers import Candidate, Row, Skip
from canyu.hotspots.models import (
    Claim,
    ClaimStatus,
    Confirmation,
    Hotspot,
    HotspotSource,
    Outcome,
    PackRecord,
    Status,
)
from canyu.releases.publishing import Publisher

KINDS = ("open", "captive", "password", "passpoint")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
BATCH = 5_000


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def get(session: Session, *, hotspot_id: int) -> Hotspot:
    hotspot = session.get(Hotspot, hotspot_id)
    if hotspot is None:
        raise NotFound(f"No hotspot {hotspot_id}.")
    return hotspot


def sources(session: Session, *, hotspot_id: int) -> list[HotspotSource]:
    return list(
        session.scalars(
            select(HotspotSource)
            .where(HotspotSource.hotspot_id == hotspot_id)
            .order_by(HotspotSource.id)
        )
    )


# --- import -----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    imported: int = 0
    merged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "merged": self.merged,
            "skipped": sum(self.skipped.values()),
            "skip_reasons": dict(sorted(self.skipped.items())),
        }


def check_source(source: str, licence: str) -> tuple[str, str]:
    if not _SOURCE.match(source):
        raise InvalidInput(
            "A source name is 1-64 lower-case letters, digits, '.', '_' or '-' "
            "(e.g. nyc-open-data)."
        )
    licence = licence.strip()
    if not licence or len(licence) > 200:
        raise InvalidInput("Say the licence the data comes under (1-200 characters).")
    return source, licence


def import_rows(
    session: Session,
    *,
    rows: Sequence[Row],
    source: str,
    licence: str,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Add the rows as hotspots in bulk inserts, in the caller's transaction. A row at the same
    place (within 30 m) with the same SSID as a hotspot listed by another source merges into it
    (both provenances kept); a row this source already gave is skipped."""
    source, licence = check_source(source, licence)
    when = _now(now)
    report = ImportReport()
    seen: set[str] = set()
    fresh: list[Candidate] = []
    for row in rows:
        if isinstance(row, Skip):
            report.skipped[row.reason] += 1
        elif row.external_id in seen:
            report.skipped["duplicate in file"] += 1
        else:
            seen.add(row.external_id)
            fresh.append(row)
    known = set(
        session.scalars(select(HotspotSource.external_id).where(HotspotSource.source == source))
    )
    candidates = []
    for row in fresh:
        if row.external_id in known:
            report.skipped["already imported"] += 1
        else:
            candidates.append(row)
    # Hotspots of other sources nearby, keyed by (resolution-11 cell, casefolded SSID).
    regions = {geo.region(c.lat, c.lon) for c in candidates}
    index: dict[tuple[int, str], list[tuple[int, float, float]]] = defaultdict(list)
    if regions:
        same_source = select(HotspotSource.hotspot_id).where(HotspotSource.source == source)
        for hid, lat, lon, key in session.execute(
            select(Hotspot.id, Hotspot.lat, Hotspot.lon, Hotspot.ssid_key).where(
                Hotspot.region.in_(sorted(regions)), Hotspot.id.not_in(same_source)
            )
        ):
            index[(geo.merge_cell(lat, lon), key)].append((hid, lat, lon))
    new_rows: list[dict[str, Any]] = []
    new_sources: list[Candidate] = []
    merged_sources: list[dict[str, Any]] = []
    merged_ids: set[int] = set()
    for c in candidates:
        key = c.ssid.casefold()[:32]
        match = next(
            (
                hid
                for cell in geo.neighbours(c.lat, c.lon)
                for hid, lat, lon in index.get((cell, key), ())
                if hid not in merged_ids and geo.distance_m(c.lat, c.lon, lat, lon) <= 30.0
            ),
            None,
        )
        if match is not None:
            merged_ids.add(match)
            merged_sources.append(
                {
                    "hotspot_id": match,
                    "source": source,
                    "licence": licence,
                    "external_id": c.external_id,
                    "imported_at": when,
                }
            )
            continue
        new_sources.append(c)
        new_rows.append(
            {
                "cell": geo.cell(c.lat, c.lon),
                "region": geo.region(c.lat, c.lon),
                "lat": c.lat,
                "lon": c.lon,
                "ssid": c.ssid,
                "ssid_key": key,
                "name": c.name,
                "kind": c.kind,
                "free": c.free,
                "status": Status.ACTIVE.value,
                "created_at": when,
                "updated_at": when,
            }
        )
    total = len(new_rows) + len(merged_sources)
    done = 0
    for start in range(0, len(new_rows), BATCH):
        chunk = new_rows[start : start + BATCH]
        ids = session.scalars(
            insert(Hotspot).returning(Hotspot.id, sort_by_parameter_order=True), chunk
        ).all()
        session.execute(
            insert(HotspotSource),
            [
                {
                    "hotspot_id": hid,
                    "source": source,
                    "licence": licence,
                    "external_id": c.external_id,
                    "imported_at": when,
                }
                for hid, c in zip(ids, new_sources[start : start + BATCH], strict=True)
            ],
        )
        done += len(chunk)
        if progress:
            progress(done, total)
    if merged_sources:
        session.execute(insert(HotspotSource), merged_sources)
        session.execute(update(Hotspot).where(Hotspot.id.in_(merged_ids)).values(updated_at=when))
        done += len(merged_sources)
        if progress:
            progress(done, total)
    report.imported = len(new_rows)
    report.merged = len(merged_sources)
    if report.imported >= 10_000 and session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, or the planner takes the new million rows for a few hundred.
        session.execute(text("ANALYZE hotspots"))
    return report


# --- near -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    free_only: bool = False
    no_login: bool = False
    min_rate: float = 0.0
    include_failing: bool = False


def _check_radius(radius_m: float, limit: int) -> None:
    if not 1 <= radius_m <= geo.MAX_RADIUS_M:
        raise InvalidInput(f"radius_m must be between 1 and {geo.MAX_RADIUS_M}.")
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200.")


# What a near answer shows, read in one query (no ORM objects on the hot path).
NEAR_COLUMNS = (
    Hotspot.id,
    Hotspot.lat,
    Hotspot.lon,
    Hotspot.ssid,
    Hotspot.name,
    Hotspot.kind,
    Hotspot.free,
    Hotspot.status,
    Hotspot.owner_id,
    Hotspot.ok_weight,
    Hotspot.fail_weight,
    Hotspot.login_weight,
    Hotspot.counts_at,
    Hotspot.confirmations,
    Hotspot.success_class,
    Hotspot.failing,
    Hotspot.last_confirmed_at,
    Hotspot.last_worked_at,
    Hotspot.created_at,
)


class NearRow(NamedTuple):
    """A row of :data:`NEAR_COLUMNS` (what :func:`counts` and :func:`freshness` read, too)."""

    id: int
    lat: float
    lon: float
    ssid: str
    name: str
    kind: str
    free: bool
    status: str
    owner_id: int | None
    ok_weight: float
    fail_weight: float
    login_weight: float
    counts_at: datetime | None
    confirmations: int
    success_class: int
    failing: bool
    last_confirmed_at: datetime | None
    last_worked_at: datetime | None
    created_at: datetime


@functools.lru_cache(maxsize=512)
def _near_statement(
    ranges: int,
    free_only: bool,
    no_login: bool,
    min_rate: bool,
    include_failing: bool,
    dialect: str = "sqlite",
) -> Select[Any]:
    """The near query for this many cell ranges and these filters, built once (building the
    expression costs more than running it). On SQLite the ranges are a VALUES list joined to
    the cell index, one index range scan each (thirty OR-ed ranges made SQLite, which keeps no
    statistics, choose a full scan); on PostgreSQL they are OR-ed (a bitmap of index scans)."""
    index = Hotspot.__table__.alias("near_index")
    dlat = index.c.lat - bindparam("lat")
    dlon = (index.c.lon - bindparam("lon")) * bindparam("scale")
    # Inside: the nearest ids from the covering index only (no table rows unless a filter needs
    # the counts); outside, the few rows it keeps are read by id, in the same statement.
    query = select(index.c.id)
    if dialect == "sqlite":
        cells = (
            values(column("lo", BigInteger), column("hi", BigInteger), name="cell_ranges")
            .data([(bindparam(f"lo{i}"), bindparam(f"hi{i}")) for i in range(ranges)])
            .cte("cell_ranges")
        )
        query = query.select_from(cells).join(index, index.c.cell.between(cells.c.lo, cells.c.hi))
    else:
        # PostgreSQL turns OR-ed ranges into one bitmap of index scans, but misjudges a join
        # to a VALUES list (it estimates the range join badly and scans the table).
        query = query.where(
            or_(
                *(
                    index.c.cell.between(bindparam(f"lo{i}"), bindparam(f"hi{i}"))
                    for i in range(ranges)
                )
            )
        )
    query = query.where(
        index.c.status == Status.ACTIVE.value,
        index.c.lat.between(bindparam("lat_lo"), bindparam("lat_hi")),
    )
    if not include_failing:
        query = query.where(index.c.failing.is_(False))
    if free_only:
        query = query.where(index.c.free.is_(True))
    if no_login:
        query = query.where(index.c.kind != "captive")
    if min_rate:
        ok = index.c.ok_weight + index.c.login_weight + 1.0
        total = index.c.ok_weight + index.c.login_weight + index.c.fail_weight + 2.0
        query = query.where(ok >= total * bindparam("min_rate"))
    nearest = query.order_by(dlat * dlat + dlon * dlon).limit(bindparam("cut")).subquery("nearest")
    rows: Select[Any] = select(*NEAR_COLUMNS).join_from(  # type: ignore[assignment]
        Hotspot, nearest, Hotspot.id == nearest.c.id
    )
    return rows


@functools.lru_cache(maxsize=1024)
def _compiled(dialect: Any, statement: Select[Any]) -> Any:
    """The statement compiled once per dialect: SQLAlchemy cannot cache a statement holding a
    VALUES list, and compiling it costs milliseconds, many times the query itself."""
    return statement.compile(dialect=dialect)


@functools.lru_cache(maxsize=8)
def _near_row_reader(dialect: Any, coltypes: tuple[Any, ...]) -> Callable[[Sequence[Any]], NearRow]:
    """Raw driver rows to :class:`NearRow`, with each column's own conversion (SQLite keeps
    times as text and booleans as integers), looked up once per dialect and the driver's
    column types."""
    convert = [
        c.type._cached_result_processor(dialect, coltype)
        for c, coltype in zip(NEAR_COLUMNS, coltypes, strict=True)
    ]

    def read(raw: Sequence[Any]) -> NearRow:
        return NearRow._make([f(v) if f else v for f, v in zip(convert, raw, strict=True)])

    return read


LAT, LON = NearRow._fields.index("lat"), NearRow._fields.index("lon")


def near(
    connection: Session | Connection,
    *,
    lat: float,
    lon: float,
    radius_m: float = 1000.0,
    limit: int = 20,
    filters: Filters | None = None,
) -> list[tuple[float, NearRow]]:
    """Active hotspots within ``radius_m`` of the point, nearest first: (metres, row), each
    row with the attributes of :data:`NEAR_COLUMNS`. One statement per pass, run on the
    driver (the near lane's callers pass a connection, others a session)."""
    geo.check_position(lat, lon)
    _check_radius(radius_m, limit)
    f = filters or Filters()
    if isinstance(connection, Session):
        connection = connection.connection()
    # Dense places first look in a quarter of the radius: when that already holds `limit`
    # hotspots they are the nearest ones, and the database ordered a few dozen rows instead of
    # the thousand a city centre has within a kilometre.
    for radius in (radius_m / 4, radius_m) if radius_m >= 400 else (radius_m,):
        found = _near_within(connection, lat, lon, radius, limit, f)
        if len(found) >= limit or radius == radius_m:
            return found
    raise AssertionError("unreachable")


def _near_within(
    connection: Connection, lat: float, lon: float, radius_m: float, limit: int, f: Filters
) -> list[tuple[float, NearRow]]:
    ranges = geo.cell_ranges(lat, lon, radius_m)
    params: dict[str, float | int] = {
        "lat": lat,
        "lon": lon,
        # Flat-earth distance in the database (exact enough under 50 km) to order and cut.
        "scale": max(0.01, abs(math.cos(math.radians(lat)))),
        "lat_lo": lat - radius_m / 111_000.0,
        "lat_hi": lat + radius_m / 111_000.0,
        "cut": limit * 2,
        "min_rate": f.min_rate,
    }
    for i, (lo, hi) in enumerate(ranges):
        params[f"lo{i}"], params[f"hi{i}"] = lo, hi
    dialect = connection.dialect
    statement = _near_statement(
        len(ranges), f.free_only, f.no_login, f.min_rate > 0, f.include_failing, dialect.name
    )
    compiled = _compiled(dialect, statement)
    merged = {**compiled.params, **params}
    if compiled.positional:
        args: Any = tuple(merged[name] for name in compiled.positiontup or ())
    else:
        args = {name: merged[name] for name in compiled.params}
    result = connection.exec_driver_sql(compiled.string, args)
    read = _near_row_reader(dialect, tuple(d[1] for d in result.cursor.description))
    raw = result.all()
    # Distances from the raw columns (lat and lon are floats as stored); only the rows kept are
    # converted (times are text on SQLite).
    near = sorted(
        (d, r[0], r) for r in raw if (d := geo.distance_m(lat, lon, r[LAT], r[LON])) <= radius_m
    )[:limit]
    return [(d, read(r)) for d, _id, r in near]


def counts(hotspot: Hotspot | Any, now: datetime | None = None) -> scoring.Counts:
    when = _now(now)
    return scoring.Counts(
        scoring.decay(hotspot.ok_weight, hotspot.counts_at, when),
        scoring.decay(hotspot.fail_weight, hotspot.counts_at, when),
        scoring.decay(hotspot.login_weight, hotspot.counts_at, when),
    )


def freshness(hotspot: Hotspot | Any, now: datetime | None = None) -> float:
    return scoring.freshness(hotspot.last_worked_at, hotspot.created_at, _now(now))


def regions(session: Session) -> list[tuple[str, int]]:
    """Regions with active hotspots, the largest first: (H3 res-3 cell, count)."""
    rows = session.execute(
        select(Hotspot.region, func.count())
        .where(Hotspot.status == Status.ACTIVE.value)
        .group_by(Hotspot.region)
        .order_by(func.count().desc(), Hotspot.region)
    ).all()
    return [(r, int(n)) for r, n in rows]


def in_region(
    session: Session, *, region: str, filters: Filters | None = None, limit: int = 20_000
) -> list[Hotspot]:
    if not geo.valid_region(region):
        raise InvalidInput(f"{region!r} is not a region (an H3 resolution-3 cell).")
    f = filters or Filters()
    query = select(Hotspot).where(Hotspot.region == region, Hotspot.status == Status.ACTIVE.value)
    if not f.include_failing:
        query = query.where(Hotspot.failing.is_(False))
    if f.free_only:
        query = query.where(Hotspot.free.is_(True))
    if f.no_login:
        query = query.where(Hotspot.kind != "captive")
    hotspots = list(session.scalars(query.order_by(Hotspot.id).limit(limit)))
    if f.min_rate > 0:
        hotspots = [h for h in hotspots if counts(h).rate >= f.min_rate]
    return hotspots


# --- confirmations ----------------------------------------------------------------------------


def _apply(hotspot: Hotspot, outcome: Outcome, weight: float, when: datetime) -> None:
    c = counts(hotspot, when)
    ok, fail, login = c.ok, c.fail, c.login
    if outcome is Outcome.WORKED:
        ok += weight
        hotspot.last_worked_at = when
    elif outcome is Outcome.LOGIN:
        login += weight
        hotspot.last_worked_at = when
    else:
        fail += weight
    hotspot.ok_weight, hotspot.fail_weight, hotspot.login_weight = ok, fail, login
    hotspot.counts_at = when
    hotspot.confirmations += 1
    hotspot.last_confirmed_at = when
    fresh = scoring.Counts(ok, fail, login)
    hotspot.success_class = int(fresh.success_class)
    hotspot.failing = fresh.failing
    if fresh.needs_login and hotspot.kind == "open":
        hotspot.kind = "captive"
    hotspot.updated_at = when


def confirm(
    session: Session,
    *,
    user: User,
    hotspot_id: int,
    outcome: str,
    now: datetime | None = None,
) -> Confirmation:
    """A friend's "it worked / it didn't / needs a login page". One counts per friend and
    hotspot every 4 hours and 40 a day (429 beyond); the weight is the friend's trust."""
    try:
        result = Outcome(outcome)
    except ValueError:
        raise InvalidInput("outcome must be one of: worked, failed, login.") from None
    when = _now(now)
    hotspot = session.scalars(
        select(Hotspot).where(Hotspot.id == hotspot_id).with_for_update()
    ).one_or_none()
    if hotspot is None or hotspot.status != Status.ACTIVE.value:
        raise NotFound(f"No hotspot {hotspot_id}.")
    window = when - timedelta(hours=scoring.PER_HOTSPOT_HOURS)
    recent = session.scalar(
        select(func.count()).where(
            Confirmation.hotspot_id == hotspot_id,
            Confirmation.user_id == user.id,
            Confirmation.at > window,
        )
    )
    if recent:
        raise RateLimited(
            f"You confirmed this hotspot in the last {scoring.PER_HOTSPOT_HOURS} hours; "
            "one confirmation per hotspot counts in that time."
        )
    today = session.scalar(
        select(func.count()).where(
            Confirmation.user_id == user.id, Confirmation.at > when - timedelta(days=1)
        )
    )
    if (today or 0) >= scoring.PER_DAY:
        raise RateLimited(f"At most {scoring.PER_DAY} confirmations a day.")
    age = (when - user.created_at).total_seconds() / 86400.0
    weight = scoring.trust(
        team=user.is_team, owner=hotspot.owner_id == user.id, account_age_days=age
    )
    row = Confirmation(
        hotspot_id=hotspot_id, user_id=user.id, outcome=result.value, weight=weight, at=when
    )
    session.add(row)
    _apply(hotspot, result, weight, when)
    session.flush()
    return row


# --- suggestions ------------------------------------------------------------------------------


def suggest(
    session: Session,
    *,
    user: User,
    lat: float,
    lon: float,
    ssid: str,
    name: str = "",
    captive: bool = False,
    now: datetime | None = None,
) -> Hotspot:
    """A friend's suggestion (never with a password): listed once the team accepts it or an
    owner verifies a claim on it."""
    from canyu.hotspots.importers import clean_ssid

    geo.check_position(lat, lon)
    clean = clean_ssid(ssid)
    if isinstance(clean, Skip):
        raise InvalidInput(f"Bad SSID: {clean.reason}.")
    when = _now(now)
    pending = session.scalar(
        select(func.count()).where(
            Hotspot.suggested_by == user.id,
            Hotspot.status == Status.SUGGESTED.value,
        )
    )
    if (pending or 0) >= 20:
        raise RateLimited("You have 20 suggestions waiting for review; wait for those first.")
    key = clean.casefold()
    for hid, hlat, hlon, status in session.execute(
        select(Hotspot.id, Hotspot.lat, Hotspot.lon, Hotspot.status).where(
            Hotspot.ssid_key == key,
            or_(*(Hotspot.cell.between(lo, hi) for lo, hi in geo.cell_ranges(lat, lon, 30))),
        )
    ):
        if geo.distance_m(lat, lon, hlat, hlon) <= geo.MERGE_METRES and status != "rejected":
            raise Conflict(f"Hotspot {hid} already lists {clean!r} here.", details={"id": hid})
    hotspot = Hotspot(
        cell=geo.cell(lat, lon),
        region=geo.region(lat, lon),
        lat=lat,
        lon=lon,
        ssid=clean,
        ssid_key=key,
        name=name.strip()[:200],
        kind="captive" if captive else "open",
        free=True,
        status=Status.SUGGESTED.value,
        suggested_by=user.id,
        created_at=when,
        updated_at=when,
    )
    session.add(hotspot)
    session.flush()
    session.add(
        HotspotSource(
            hotspot_id=hotspot.id,
            source="friends",
            licence="contributed by a friend",
            external_id=f"suggestion-{hotspot.id}",
            imported_at=when,
        )
    )
    session.flush()
    return hotspot


def suggestions(session: Session, *, limit: int = 100) -> list[Hotspot]:
    return list(
        session.scalars(
            select(Hotspot)
            .where(Hotspot.status == Status.SUGGESTED.value)
            .order_by(Hotspot.id)
            .limit(limit)
        )
    )


def review(session: Session, *, actor: User, hotspot_id: int, accept: bool) -> Hotspot:
    accounts.require_team(actor)
    hotspot = get(session, hotspot_id=hotspot_id)
    if hotspot.status != Status.SUGGESTED.value:
        raise Conflict(f"Hotspot {hotspot_id} is not waiting for review.")
    hotspot.status = (Status.ACTIVE if accept else Status.REJECTED).value
    hotspot.updated_at = utcnow()
    session.flush()
    return hotspot


# --- owners' claims ---------------------------------------------------------------------------


Fetcher = Callable[[str], str]  # GET a page's text (claims); tests pass their own


def _public_host(url: str) -> None:
    """Refuse URLs that point inside our own network (the server fetches them)."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        raise InvalidInput(f"Cannot resolve {host!r}.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise InvalidInput(f"{host!r} is not a public address.")


def http_fetcher(url: str) -> str:
    """GET the page (public hosts only, 5 s, first 256 kB), for claim verification."""
    import httpx

    _public_host(url)
    headers = {"User-Agent": "canyu-claim-check"}
    with (
        httpx.Client(timeout=5.0, follow_redirects=False) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        if response.status_code != 200:
            raise InvalidInput(f"{url} answered {response.status_code}.")
        data = b""
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > 256 * 1024:
                break
    return data.decode("utf-8", "replace")


TxtLookup = Callable[[str], list[str]]  # a DNS name's TXT strings (claims); tests pass their own
TXT_LABEL = "_canyu-hotspot"  # the code's TXT record lives at _canyu-hotspot.<the site's host>


def dns_txt(resolver: dns.resolver.Resolver | None = None) -> TxtLookup:
    """TXT lookups through ``resolver`` (default: the system's), 5 s at most."""

    def lookup(name: str) -> list[str]:
        try:
            answer = (resolver or dns.resolver.Resolver()).resolve(name, "TXT", lifetime=5.0)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            raise InvalidInput(f"{name} has no TXT record yet.") from None
        except dns.exception.DNSException as e:
            raise InvalidInput(f"Could not look up {name}: {type(e).__name__}.") from None
        # A TXT record may be split in strings of up to 255 bytes: they are one text.
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]

    return lookup


def txt_name(url: str) -> str:
    """Where a claim's TXT record goes: ``_canyu-hotspot.<host of the site given>``."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return f"{TXT_LABEL}.{host}"
    raise InvalidInput("A DNS check needs a domain name; this claim gave an IP address.")


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise InvalidInput("Give the http(s) address of the portal page or your website.")
    return url


def claim(session: Session, *, user: User, hotspot_id: int, url: str) -> Claim:
    """Start (or restart) an owner's claim: a code to show on the captive portal page or on the
    website (e.g. a file /.well-known/canyu-hotspot.txt), then :func:`verify_claim`."""
    hotspot = get(session, hotspot_id=hotspot_id)
    if hotspot.status == Status.REJECTED.value:
        raise NotFound(f"No hotspot {hotspot_id}.")
    if hotspot.owner_id == user.id:
        raise Conflict("You already own this hotspot.")
    if hotspot.owner_id is not None:
        raise Conflict("This hotspot already has a verified owner.")
    existing = session.scalars(
        select(Claim).where(Claim.hotspot_id == hotspot_id, Claim.user_id == user.id)
    ).one_or_none()
    if existing is not None:
        raise Conflict(
            "You already claimed this hotspot; show the code and verify it.",
            details={"claim_id": existing.id},
        )
    row = Claim(
        hotspot_id=hotspot_id,
        user_id=user.id,
        url=_check_url(url),
        code=f"canyu-hotspot-verification={secrets.token_hex(12)}",
    )
    session.add(row)
    session.flush()
    return row


def get_claim(session: Session, *, user: User, claim_id: int) -> Claim:
    row = session.get(Claim, claim_id)
    if row is None or (row.user_id != user.id and not user.is_team):
        raise NotFound(f"No claim {claim_id}.")
    return row


def verify_claim(
    session: Session,
    *,
    user: User,
    claim_id: int,
    fetch: Fetcher,
    dns_lookup: TxtLookup | None = None,
) -> Claim:
    """Look for the claim's code on its page (``fetch``), or with ``dns_lookup`` in the TXT
    records of ``_canyu-hotspot.<host>``; the first verified claim owns the hotspot."""
    row = get_claim(session, user=user, claim_id=claim_id)
    if row.user_id != user.id:
        raise Forbidden("Only the claimant verifies a claim.")
    if row.status == ClaimStatus.VERIFIED.value:
        raise Conflict("This claim is already verified.")
    if get(session, hotspot_id=row.hotspot_id).owner_id is not None:
        raise Conflict("This hotspot already has a verified owner.")
    if row.attempts >= 20:
        raise RateLimited("Too many verification attempts for this claim.")
    row.attempts += 1
    where, short = f"on {row.url}", "on the page"
    try:
        if dns_lookup is None:
            found = row.code in fetch(row.url)
        else:
            where = short = f"in the TXT records of {txt_name(row.url)}"
            found = row.code in dns_lookup(txt_name(row.url))
    except InvalidInput as e:
        row.last_error = e.message[:300]
        session.flush()
        raise
    except Exception as e:
        row.last_error = f"could not fetch {row.url}: {type(e).__name__}"[:300]
        session.flush()
        raise InvalidInput(row.last_error) from None
    if not found:
        row.last_error = f"the code is not {short} yet"[:300]
        session.flush()
        raise InvalidInput(f"The code is not {where} yet.")
    # One owner: whoever verifies first wins, atomically.
    won = session.execute(  # type: ignore[attr-defined]
        update(Hotspot)
        .where(Hotspot.id == row.hotspot_id, Hotspot.owner_id.is_(None))
        .values(owner_id=user.id, status=Status.ACTIVE.value, updated_at=utcnow())
    ).rowcount
    if not won:
        raise Conflict("Someone else verified ownership of this hotspot first.")
    row.status = ClaimStatus.VERIFIED.value
    row.verified_at = utcnow()
    row.last_error = None
    session.flush()
    session.expire_all()
    return row


def set_credentials(
    session: Session,
    *,
    user: User,
    hotspot_id: int,
    password: str | None = None,
    passpoint: str | None = None,
    portal_url: str | None = None,
    portal_api: str | None = None,
    captive: bool | None = None,
) -> Hotspot:
    """The owner publishes how to join: a WPA2 password, a Passpoint profile, a portal."""
    hotspot = get(session, hotspot_id=hotspot_id)
    if hotspot.owner_id != user.id:
        raise Forbidden("Only the hotspot's verified owner publishes its credentials.")
    if password is not None:
        if password and not (8 <= len(password) <= 63 and password.isprintable()):
            raise InvalidInput("A WPA2 password has 8 to 63 printable characters.")
        hotspot.password = password or None
    if passpoint is not None:
        if len(passpoint) > 20_000:
            raise InvalidInput("A Passpoint profile is at most 20,000 characters.")
        hotspot.passpoint = passpoint.strip() or None
    for name, value in (("portal_url", portal_url), ("portal_api", portal_api)):
        if value is not None:
            setattr(hotspot, name, _check_url(value) if value else None)
    if hotspot.passpoint:
        hotspot.kind = "passpoint"
    elif hotspot.password:
        hotspot.kind = "password"
    elif captive or hotspot.portal_url:
        hotspot.kind = "captive"
    else:
        hotspot.kind = "open"
    hotspot.updated_at = utcnow()
    session.flush()
    return hotspot


def artefact(hotspot: Hotspot) -> dict[str, Any]:
    return connect.artefact(
        kind=hotspot.kind,
        ssid=hotspot.ssid,
        password=hotspot.password,
        passpoint=hotspot.passpoint,
        portal_url=hotspot.portal_url,
        portal_api=hotspot.portal_api,
    )


# --- packs ------------------------------------------------------------------------------------


def record_of(h: Hotspot | Any) -> packs.Record:
    extras: dict[int, str] = {}
    if h.password:
        extras[packs.Extra.PASSWORD] = h.password
    if h.portal_url:
        extras[packs.Extra.PORTAL_URL] = h.portal_url
    if h.portal_api:
        extras[packs.Extra.PORTAL_API] = h.portal_api
    return packs.Record(
        id=h.id,
        lat=h.lat,
        lon=h.lon,
        ssid=h.ssid,
        kind=packs.Kind(KINDS.index(h.kind)),
        free=h.free,
        success=packs.SuccessClass(h.success_class),
        extras=extras,
    )


TUF_PRODUCT = "hotspots"


def default_pack_dir() -> Path:
    from canyu.releases.settings import get_release_settings

    return get_release_settings().tuf_dir.parent / "hotspot-packs"


DELTA_SPANS = (("previous", timedelta(0)), ("day", timedelta(days=1)), ("week", timedelta(days=7)))


@dataclass(frozen=True)
class BuiltPack:
    region: str
    version: int
    count: int
    size: int
    sha256: str
    published: bool
    deltas: dict[str, int]
    seconds: float


def pack_records(session: Session, *, region: str) -> list[packs.Record]:
    cols = (
        Hotspot.id,
        Hotspot.lat,
        Hotspot.lon,
        Hotspot.ssid,
        Hotspot.kind,
        Hotspot.free,
        Hotspot.success_class,
        Hotspot.password,
        Hotspot.portal_url,
        Hotspot.portal_api,
    )
    rows = session.execute(
        select(*cols).where(
            Hotspot.region == region,
            Hotspot.status == Status.ACTIVE.value,
            Hotspot.failing.is_(False),
        )
    ).all()
    return [record_of(r) for r in rows]


def build_pack(
    session: Session,
    *,
    region: str,
    pack_dir: Path,
    publisher: Publisher | None,
    now: datetime | None = None,
) -> BuiltPack:
    """The region's next pack, with deltas from the previous version and from the versions of
    about a day and a week ago; pack and deltas are published before the index."""
    if not geo.valid_region(region):
        raise InvalidInput(f"{region!r} is not a region (an H3 resolution-3 cell).")
    started = time.perf_counter()
    when = _now(now)
    records = pack_records(session, region=region)
    latest = session.scalar(select(func.max(PackRecord.version)).where(PackRecord.region == region))
    version = (latest or 0) + 1
    data = packs.encode(region, version, int(when.timestamp()), records)
    sha = hashlib.sha256(data).hexdigest()
    header = packs.Header(region, version, int(when.timestamp()), len(records))
    out_dir = pack_dir / region
    previous = list(
        session.scalars(
            select(PackRecord)
            .where(PackRecord.region == region, PackRecord.built_at >= when - timedelta(days=9))
            .order_by(PackRecord.version.desc())
        )
    )
    files: list[tuple[str, bytes]] = [(f"{region}/pack.cyw", data)]
    deltas: list[dict[str, Any]] = []
    used: set[int] = set()
    for span, age in DELTA_SPANS:
        base = next((p for p in previous if p.built_at <= when - age), None)
        path = out_dir / f"v{base.version}.cyw" if base else None
        if base is None or base.version in used or path is None or not path.exists():
            continue
        used.add(base.version)
        _h, base_records = packs.decode(path.read_bytes())
        delta = packs.make_delta(base_records, header, records, base_version=base.version)
        name = f"{region}/delta-{span}.cwd"
        files.append((name, delta))
        deltas.append({"name": name, "base_version": base.version, "size": len(delta)})
    index = {
        "format": 1,
        "region": region,
        "version": version,
        "created": header.created,
        "count": len(records),
        "size": len(data),
        "sha256": sha,
        "pack": f"{region}/pack.cyw",
        "deltas": deltas,
    }
    files.append((f"{region}/index.json", json.dumps(index, sort_keys=True).encode()))
    if publisher is not None:
        publisher.publish(files)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"v{version}.cyw").write_bytes(data)
    (out_dir / "index.json").write_bytes(files[-1][1])
    session.add(
        PackRecord(
            region=region,
            version=version,
            count=len(records),
            size=len(data),
            sha256=sha,
            built_at=when,
            published=publisher is not None,
        )
    )
    old = session.scalars(
        select(PackRecord.version).where(
            PackRecord.region == region,
            PackRecord.built_at < when - timedelta(days=9),
            PackRecord.version < version,
        )
    ).all()
    for v in old:
        (out_dir / f"v{v}.cyw").unlink(missing_ok=True)
    session.execute(
        delete(PackRecord).where(PackRecord.region == region, PackRecord.version.in_(old))
    )
    session.flush()
    return BuiltPack(
        region,
        version,
        len(records),
        len(data),
        sha,
        publisher is not None,
        {d["name"]: d["size"] for d in deltas},
        time.perf_counter() - started,
    )


def regions_due(session: Session) -> list[str]:
    """Regions whose hotspots changed since their last pack (or that never had one)."""
    last = (
        select(PackRecord.region, func.max(PackRecord.built_at).label("built"))
        .group_by(PackRecord.region)
        .subquery()
    )
    rows = session.execute(
        select(Hotspot.region)
        .outerjoin(last, last.c.region == Hotspot.region)
        .where(or_(last.c.built.is_(None), Hotspot.updated_at > last.c.built))
        .distinct()
        .order_by(Hotspot.region)
    ).all()
    return [r[0] for r in rows]


def build_due_packs(
    session: Session, *, pack_dir: Path, publisher: Publisher | None
) -> list[BuiltPack]:
    return [
        build_pack(session, region=r, pack_dir=pack_dir, publisher=publisher)
        for r in regions_due(session)
    ]


def packs_index(session: Session) -> list[PackRecord]:
    newest = select(PackRecord.region, func.max(PackRecord.version).label("v")).group_by(
        PackRecord.region
    )
    sub = newest.subquery()
    return list(
        session.scalars(
            select(PackRecord)
            .join(sub, and_(sub.c.region == PackRecord.region, sub.c.v == PackRecord.version))
            .order_by(PackRecord.region)
        )
    )
