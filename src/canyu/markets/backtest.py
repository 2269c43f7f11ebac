"""Judging the scorer by what the company did (pure): where each entered market stood when the
decision was made, against the baseline of ranking by population alone."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from canyu.markets.scoring import HOME_MARKET, Ranking, Weights

TOP = 15


@dataclass(frozen=True, slots=True)
class Label:
    iso3: str
    first_sale: str | None = None  # YYYY-MM

    def asof(self, default: int | None) -> int | None:
        """The year it is ranked as of: the year before its entry, or ``default`` undated."""
        if self.first_sale:
            return int(self.first_sale[:4]) - 1
        return default


@dataclass(frozen=True, slots=True)
class Standing:
    iso3: str
    asof: int
    rank: int | None  # among all countries but the home market; None: not ranked (no data)
    percentile: float | None  # share of the other countries it beats, 0-100
    baseline_rank: int | None
    baseline_percentile: float | None


def _place(order: list[str], iso3: str) -> tuple[int | None, float | None]:
    order = [c for c in order if c != HOME_MARKET]
    if iso3 not in order:
        return None, None
    position = order.index(iso3) + 1
    n = len(order)
    return position, round(100.0 * (n - position) / max(n - 1, 1), 1)


def summary(standings: list[Standing], *, baseline: bool = False) -> dict[str, object]:
    ranks = [s.baseline_rank if baseline else s.rank for s in standings]
    pcts = [s.baseline_percentile if baseline else s.percentile for s in standings]
    known = [p for p in pcts if p is not None]
    return {
        "in_top15": sum(1 for r in ranks if r is not None and r <= TOP),
        "in_top10": sum(1 for r in ranks if r is not None and r <= 10),
        "median_rank": statistics.median([r for r in ranks if r is not None]) if known else None,
        "median_percentile": round(statistics.median(known), 1) if known else None,
        "unranked": sum(1 for r in ranks if r is None),
    }


def backtest(
    labels: Iterable[Label],
    *,
    asof: int | None,
    ranking_for: Callable[[int], Ranking],
    population_for: Callable[[int], list[str]],
) -> list[Standing]:
    """Each label ranked as of its own year; ``ranking_for``/``population_for`` give (cached)
    rankings for a year. Labels without a date need ``asof``."""
    out = []
    for label in labels:
        year = label.asof(asof)
        if year is None:
            raise ValueError(f"{label.iso3} has no first_official_sale: pass --asof")
        order = [c.iso3 for c in ranking_for(year).countries]
        rank, percentile = _place(order, label.iso3)
        base_rank, base_pct = _place(population_for(year), label.iso3)
        out.append(Standing(label.iso3, year, rank, percentile, base_rank, base_pct))
    return out


def read_labels(text: str) -> list[Label]:
    """A labels CSV: column ``iso3`` and optionally ``first_official_sale`` (YYYY-MM)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "iso3" not in fields:
        raise ValueError("a labels file needs an iso3 column")
    labels: list[Label] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        iso3 = clean.get("iso3", "").upper()
        if not iso3:
            continue
        if not re.fullmatch(r"[A-Z]{3}", iso3):
            raise ValueError(f"line {line}: {iso3!r} is not an ISO alpha-3 code")
        sale = clean.get("first_official_sale") or None
        if sale is not None and not re.fullmatch(r"(19|20)\d\d(-(0[1-9]|1[0-2]))?", sale):
            raise ValueError(f"line {line}: first_official_sale {sale!r} is not YYYY-MM")
        if iso3 not in seen:
            seen.add(iso3)
            labels.append(Label(iso3, sale))
    if not labels:
        raise ValueError("the labels file names no country")
    return labels


def report(standings: list[Standing], *, weights: Weights) -> dict[str, object]:
    """The back-test as one JSON-ready object: figures, then the population baseline beside."""
    figures = summary(standings)
    return {
        "n": len(standings),
        **figures,
        "home_market_excluded": HOME_MARKET,
        "weights": asdict(weights),
        "baseline": {"name": "population", **summary(standings, baseline=True)},
        "countries": [asdict(s) for s in standings],
    }
