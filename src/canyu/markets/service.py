"""Markets rules: import indicator files and plans, rank countries as of a year, back-test a
plan, and record which markets are open (other domains ask ``require_open_market``)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from canyu.db import utcnow
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.markets import backtest as bt
from canyu.markets import scoring, sources
from canyu.markets.geo import Country, world
from canyu.markets.models import Figure, Opening, PlanEntry

MIN_ASOF, MAX_ASOF = 1995, 2100
HOME_MARKET = scoring.HOME_MARKET


# --- countries ----------------------------------------------------------------------------------


def country(code: str) -> Country:
    """The country for an ISO alpha-3 or alpha-2 code, or InvalidInput."""
    found = world().resolve(code)
    if found is None:
        raise InvalidInput(f"{code!r} is not an ISO 3166-1 country code.")
    return found


def check_asof(asof: int) -> int:
    if not (MIN_ASOF <= asof <= MAX_ASOF):
        raise InvalidInput(f"The as-of year must be between {MIN_ASOF} and {MAX_ASOF}.")
    return asof


# --- import -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    files: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    figures: int = 0
    plans: dict[str, int] = field(default_factory=dict)


def import_observations(
    session: Session, observations: Iterable[sources.Observation], *, source: str
) -> int:
    """Stores figures (re-importing a country-indicator-year replaces its value); figures for
    codes that are not countries (regional aggregates such as WLD or EAS) are left out."""
    countries = world().countries
    latest: dict[tuple[str, str, int], float] = {}
    for o in observations:
        if o.iso3 in countries:
            latest[(o.iso3, o.indicator, o.year)] = o.value
    if not latest:
        return 0
    indicators = {key[1] for key in latest}
    existing = {
        (iso3, indicator, year): figure_id
        for figure_id, iso3, indicator, year in session.execute(
            select(Figure.id, Figure.iso3, Figure.indicator, Figure.year).where(
                Figure.indicator.in_(indicators)
            )
        )
    }
    now = utcnow()
    updates = [
        {"id": existing[key], "value": value, "source": source[:200], "imported_at": now}
        for key, value in latest.items()
        if key in existing
    ]
    inserts = [
        {
            "iso3": k[0],
            "indicator": k[1],
            "year": k[2],
            "value": v,
            "source": source[:200],
            "imported_at": now,
        }
        for k, v in latest.items()
        if k not in existing
    ]
    if updates:
        session.execute(update(Figure), updates)
    if inserts:
        session.execute(insert(Figure), inserts)
    session.flush()
    _CACHE.clear()
    return len(latest)


def import_plan(session: Session, name: str, labels: list[bt.Label]) -> int:
    """Stores a plan (replacing one of the same name)."""
    for label in labels:
        country(label.iso3)
    for old in session.scalars(select(PlanEntry).where(PlanEntry.plan == name)):
        session.delete(old)
    session.flush()
    for label in labels:
        session.add(PlanEntry(plan=name[:64], iso3=label.iso3, first_sale=label.first_sale))
    session.flush()
    return len(labels)


def _noting(rows: Iterable[sources.Observation], seen: set[str]) -> Iterator[sources.Observation]:
    for row in rows:
        seen.add(row.indicator)
        yield row


def import_dir(
    session: Session, directory: Path, *, progress: Callable[[str], None] | None = None
) -> ImportReport:
    """Every CSV in ``directory`` in a known layout (see ``sources``); label files (``iso3`` and
    optionally ``first_official_sale``) become plans named after the file."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory.")
    report = ImportReport()
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if not files:
        raise InvalidInput(f"{directory} holds no .csv files.")
    for path in files:
        if progress:
            progress(path.name)
        seen: set[str] = set()
        try:
            # Streamed: the WDI bulk file is hundreds of megabytes. An unknown header raises
            # before the first row, so nothing of the file is written.
            stored = import_observations(
                session, _noting(sources.read_file(path), seen), source=path.name
            )
        except sources.UnknownLayout as exc:
            try:
                labels = bt.read_labels(path.read_text(encoding="utf-8-sig", errors="replace"))
            except ValueError:
                report.skipped.append({"file": path.name, "reason": str(exc)})
                continue
            report.plans[path.stem] = import_plan(session, path.stem, labels)
            continue
        report.figures += stored
        report.files.append({"file": path.name, "figures": stored, "indicators": sorted(seen)})
    return report


# --- ranking ------------------------------------------------------------------------------------

_CACHE: dict[object, object] = {}
_LOCK = threading.Lock()
MAX_CACHED = 64  # rankings kept (each ~1 MB)


def data(session: Session) -> dict[str, dict[str, dict[int, float]]]:
    """Every stored figure: country -> indicator -> year -> value."""
    stamp = session.execute(
        select(func.count(Figure.id), func.max(Figure.id), func.max(Figure.imported_at))
    ).one()
    key = ("data", tuple(stamp))
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for iso3, indicator, year, value in session.execute(
        select(Figure.iso3, Figure.indicator, Figure.year, Figure.value)
    ):
        out[iso3][indicator][year] = value
    result = {k: dict(v) for k, v in out.items()}
    with _LOCK:
        _CACHE.clear()
        _CACHE[key] = result
    return result


def ranking(
    session: Session, *, asof: int, weights: scoring.Weights | None = None
) -> scoring.Ranking:
    check_asof(asof)
    weights = weights or scoring.Weights()
    figures = data(session)
    key = ("rank", id(figures), asof, weights)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    result = scoring.rank(figures, asof=asof, weights=weights, countries=world().countries)
    with _LOCK:
        if len(_CACHE) > MAX_CACHED:  # weights come from requests: keep the cache bounded
            for old in [k for k in _CACHE if isinstance(k, tuple) and k[0] == "rank"]:
                del _CACHE[old]
        _CACHE[key] = result
    return result


def population_order(session: Session, *, asof: int) -> list[str]:
    return scoring.population_ranking(data(session), asof=asof, countries=world().countries)


def country_score(
    session: Session, *, iso3: str, asof: int, weights: scoring.Weights | None = None
) -> scoring.CountryScore:
    found = country(iso3)
    score = ranking(session, asof=asof, weights=weights).by_iso3().get(found.iso3)
    if score is None:
        raise NotFound(f"No figures for {found.name_en} as of {asof}.")
    return score


def history(session: Session, *, iso3: str, asof: int) -> dict[str, dict[int, float]]:
    """A country's figures up to the year before ``asof`` (what the ranking could read)."""
    found = country(iso3)
    return {
        code: {y: v for y, v in sorted(series.items()) if y < asof}
        for code, series in data(session).get(found.iso3, {}).items()
    }


# --- back-test ----------------------------------------------------------------------------------


def plans(session: Session) -> dict[str, list[bt.Label]]:
    out: dict[str, list[bt.Label]] = defaultdict(list)
    for entry in session.scalars(select(PlanEntry).order_by(PlanEntry.plan, PlanEntry.id)):
        out[entry.plan].append(bt.Label(entry.iso3, entry.first_sale))
    return dict(out)


def backtest(
    session: Session,
    *,
    labels: list[bt.Label],
    asof: int | None,
    weights: scoring.Weights | None = None,
) -> dict[str, object]:
    """Where each labelled market stood when it was chosen, and the summary figures, beside the
    population baseline."""
    if not labels:
        raise InvalidInput("The labels hold no country.")
    for label in labels:
        country(label.iso3)
        year = label.asof(asof)
        if year is None:
            raise InvalidInput(f"{label.iso3} has no first_official_sale: give an as-of year.")
        check_asof(year)
    standings = bt.backtest(
        labels,
        asof=asof,
        ranking_for=lambda year: ranking(session, asof=year, weights=weights),
        population_for=lambda year: population_order(session, asof=year),
    )
    return bt.report(standings, weights=weights or scoring.Weights())


# --- opened markets -----------------------------------------------------------------------------


def open_market(
    session: Session,
    *,
    country_code: str,
    opened_on: date,
    note: str = "",
    by_user_id: int | None = None,
) -> Opening:
    """Records the decision to open a market (once per country)."""
    found = country(country_code)
    if found.iso3 == HOME_MARKET:
        raise Conflict(f"{found.name_en} is the home market: it is always open.")
    if len(note) > 2000:
        raise InvalidInput("The note is longer than 2000 characters.")
    if not (date(1990, 1, 1) <= opened_on <= date(2100, 12, 31)):
        raise InvalidInput("The opening date is out of range.")
    if session.scalar(select(Opening).where(Opening.iso3 == found.iso3)) is not None:
        raise Conflict(f"{found.name_en} is already an opened market.")
    opening = Opening(
        iso3=found.iso3, opened_on=opened_on, note=note.strip(), decided_by_id=by_user_id
    )
    session.add(opening)
    session.flush()
    return opening


def opened_markets(session: Session) -> list[Opening]:
    """The opened markets, oldest first (the home market is always open and not listed)."""
    return list(session.scalars(select(Opening).order_by(Opening.opened_on, Opening.iso3)))


def open_iso3(session: Session) -> set[str]:
    return {HOME_MARKET, *(o.iso3 for o in opened_markets(session))}


def open_iso2(session: Session) -> set[str]:
    """The opened markets' two-letter codes (the home market's included): what other domains
    store countries as."""
    codes = (world().resolve(code) for code in open_iso3(session))
    return {found.iso2 for found in codes if found is not None and found.iso2}


def require_open_market(session: Session, *, country: str) -> Country:
    """The country, if it is an opened market (or the home market); otherwise InvalidInput with
    the reason. Accepts ISO alpha-2 or alpha-3 codes. Store listings, rollout targets and
    country packs call this before taking a country."""
    found = world().resolve(country)
    if found is None:
        raise InvalidInput(f"{country!r} is not an ISO 3166-1 country code.")
    if found.iso3 == HOME_MARKET:
        return found
    if session.scalar(select(Opening.id).where(Opening.iso3 == found.iso3)) is None:
        raise InvalidInput(
            f"{found.name_en} ({found.iso2 or found.iso3}) is not an opened market; "
            "the team opens markets on the markets page.",
            details={"country": found.iso3, "opened": sorted(open_iso3(session))},
        )
    return found
