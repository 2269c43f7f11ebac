"""The three-criteria market scorer (pure: figures in, explained scores out; no database).

Rule (the company's, from its founder's interviews): go where **smartphones are about to tip**,
**social networks are mature** and **e-commerce infrastructure is good**. Each criterion is a
sub-score in [0, 1]; market size is a separate, visible weight. The rule says "and", so the
criteria are combined by a weighted **geometric** mean (a weak criterion is not bought back by a
strong one), and size joins the same way:

    score = (T^w_t * S^w_s * E^w_e)^((1 - w_size) / (w_t + w_s + w_e)) * size^w_size

- **tipping** (T): where the country stands on its smartphone S-curve. A logistic curve
  ``K / (1 + exp(-r (t - t0)))`` is fitted (scipy ``curve_fit``) to the country's internet-use
  series up to the as-of year (the ceiling K between 75 and 100 %: an early series cannot show
  its own plateau). The smartphone share (Pew where measured; elsewhere internet use times the
  surveyed countries' median smartphone/internet ratio, shown as imputed) is placed on a curve
  with that ceiling, and T is the curve's acceleration there relative to its peak (see
  ``take_off``): 1 at about 21 % of the ceiling (the take-off), low for a market not started,
  0 past the midpoint (saturating).
- **social** (S): social-network use (Pew where measured, else imputed from internet use by the
  surveyed median ratio) and internet use, averaged; as a percentile among countries.
- **ecommerce** (E): Logistics Performance Index, secure internet servers, Findex online
  purchases and account ownership, fixed broadband; each as its percentile **among countries in
  the same year** (so the secure-server method jump of 2016-17 does no harm), averaged, and the
  average as a percentile among countries.
- **size**: log10 of population between 100 thousand (0) and a billion (1): the number of
  potential buyers, on a scale where India counts for more than Malaysia without swamping the
  criteria. Its weight ``w_size`` (default 0.5) is the strategist's to change.

**As of year t** only figures for years up to t-1 are read (the figures published by then).
Missing figures are imputed and listed in ``imputed``; nothing silently counts as zero.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

# indicator code -> year -> value, per country
CountryData = Mapping[str, Mapping[int, float]]
Data = Mapping[str, CountryData]

HOME_MARKET = "CHN"  # ranked like any other, left out of back-test percentiles
SIZE_LOG_MIN, SIZE_LOG_MAX = 5.0, 9.0  # log10 people
TAKE_OFF_PEAK = math.sqrt(3) / 18  # max of s(1-s)(1-2s), at s = (3 - sqrt 3) / 6
DEFAULT_SIZE_WEIGHT = 0.5
FLOOR = 0.02  # the lowest a sub-score counts for in the product
MAX_AGE = 6  # years: an older figure counts as missing
CEILING_MIN = 75.0  # %: the plateau of saturated markets; an early series cannot show its own
INTERNET = "IT.NET.USER.ZS"
MOBILE = "IT.CEL.SETS.P2"
POPULATION = "SP.POP.TOTL"
GDP_PC = "NY.GDP.PCAP.PP.CD"
SMARTPHONE = "PEW.SMARTPHONE"
SOCIAL = "PEW.SOCIAL"
ECOMMERCE = (
    "LP.LPI.OVRL.XQ",
    "IT.NET.SECR.P6",
    "FINDEX.BUY_ONLINE",
    "FINDEX.ACCOUNT",
    "IT.NET.BBND.P2",
)
CRITERIA = ("tipping", "social", "ecommerce")


@dataclass(frozen=True, slots=True)
class Weights:
    tipping: float = 1.0
    social: float = 1.0
    ecommerce: float = 1.0
    size: float = DEFAULT_SIZE_WEIGHT  # share of the score given to market size, 0..1

    def __post_init__(self) -> None:
        for name in CRITERIA:
            if not (0.0 <= getattr(self, name) <= 10.0):
                raise ValueError(f"weight {name} must be between 0 and 10")
        if self.tipping + self.social + self.ecommerce <= 0:
            raise ValueError("at least one criterion needs a positive weight")
        if not (0.0 <= self.size <= 1.0):
            raise ValueError("the size weight must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class Figure:
    """One indicator as the scorer used it: the latest value known as of the year, or imputed."""

    value: float | None
    year: int | None
    percentile: float | None = None  # among countries with this indicator that year
    imputed: str | None = None  # how, when imputed (English)
    template: str | None = None  # the same as a message template (pages translate it) ...
    args: Mapping[str, object] | None = None  # ... and its arguments


# How a figure was imputed: message templates (translated on the pages) and their arguments.
FROM_MOBILE = "half the mobile subscriptions per 100 (no internet-use figure)"
PHONES_FROM_INTERNET = (
    "internet use × %(ratio).2f (the median smartphone/internet ratio where surveyed)"
)
SOCIAL_FROM_INTERNET = (
    "internet use × %(ratio).2f (the median social-network/internet ratio where surveyed)"
)
CARRIED = (
    "surveyed %(share).0f %% in %(then)s, carried forward by internet use "
    "(%(net_then).0f %% then, %(net_now).0f %% in %(now)s)"
)
FROM_OTHERS = "mean of its other e-commerce figures"
FROM_GDP = "its GDP-per-capita percentile"
FROM_NOTHING = "the median (no related figure)"
TEMPLATES = (
    FROM_MOBILE,
    PHONES_FROM_INTERNET,
    SOCIAL_FROM_INTERNET,
    CARRIED,
    FROM_OTHERS,
    FROM_GDP,
    FROM_NOTHING,
)


def _how(template: str, **args: object) -> dict[str, object]:
    return {"imputed": template % args, "template": template, "args": args}


@dataclass(frozen=True, slots=True)
class SCurve:
    ceiling: float  # K, % of population
    speed: float  # r, per year
    midpoint: float  # t0, the year of the inflection
    fitted: bool  # False: too few points, the median speed of fitted countries was used
    points: tuple[tuple[int, float], ...]  # the internet-use series it was fitted to
    level: float  # smartphone share now, %
    level_imputed: bool
    take_off: float  # 0..1: 1 at the take-off (about 21 % of the ceiling), 0 past the midpoint

    def at(self, year: float) -> float:
        return float(logistic(year, self.ceiling, self.speed, self.midpoint))


@dataclass(slots=True)
class CountryScore:
    iso3: str
    score: float
    rank: int
    criteria: dict[str, float]
    raw: dict[str, float]
    figures: dict[str, Figure]
    imputed: list[str]
    scurve: SCurve | None = None


@dataclass(slots=True)
class Ranking:
    asof: int
    weights: Weights
    countries: list[CountryScore] = field(default_factory=list)
    smartphone_ratio: float | None = None
    social_ratio: float | None = None

    def by_iso3(self) -> dict[str, CountryScore]:
        return {c.iso3: c for c in self.countries}


def logistic(t: float | np.ndarray, k: float, r: float, t0: float) -> np.ndarray:
    return np.asarray(k / (1.0 + np.exp(-r * (np.asarray(t, dtype=float) - t0))))


def latest(series: Mapping[int, float] | None, asof: int) -> tuple[int, float] | None:
    """The latest figure for a year before ``asof`` (and no older than MAX_AGE years)."""
    if not series:
        return None
    years = [y for y in series if asof - MAX_AGE <= y < asof]
    if not years:
        return None
    year = max(years)
    return year, series[year]


def visible(data: Data, asof: int) -> dict[str, dict[str, dict[int, float]]]:
    """Only what was published as of ``asof``: figures for years before it."""
    return {
        iso3: {code: {y: v for y, v in s.items() if y < asof} for code, s in indicators.items()}
        for iso3, indicators in data.items()
    }


def fit_scurve(points: Iterable[tuple[int, float]]) -> tuple[float, float, float] | None:
    """Least-squares logistic fit (K, r, t0) to an adoption series in %; None if too few points."""
    from scipy.optimize import curve_fit

    series = sorted((y, v) for y, v in points if v is not None)
    if len([v for _y, v in series if v > 0.5]) < 4:
        return None
    years = np.array([y for y, _ in series], dtype=float)
    values = np.array([min(100.0, max(0.0, v)) for _, v in series], dtype=float)
    last = float(values[-1])
    k0 = min(100.0, max(last * 1.5, CEILING_MIN + 1))
    guess = (k0, 0.3, float(years[-1]) if last < k0 / 2 else float(years[-1]) - 5)
    lower = (max(CEILING_MIN, last), 0.02, 1980.0)
    upper = (100.0, 2.0, float(years[-1]) + 60.0)
    start = [min(max(g, lo), hi) for g, lo, hi in zip(guess, lower, upper, strict=True)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _cov = curve_fit(
                lambda t, k, r, t0: logistic(t, k, r, t0),
                years,
                values,
                p0=start,
                bounds=(lower, upper),
                maxfev=5000,
            )
    except (RuntimeError, ValueError):
        return None
    k, r, t0 = (float(p) for p in params)
    return k, r, t0


def take_off(level: float, ceiling: float) -> float:
    """Where ``level`` % stands on a logistic S-curve with this ceiling, as the curve's
    acceleration there relative to its peak: ``s (1 - s) (1 - 2 s)`` with ``s = level / K``
    (the shape of the logistic's second derivative), divided by its maximum, reached at
    ``s = (3 - sqrt 3) / 6``, about 21 % of the ceiling: the take-off. 1 there, near 0 for a
    market not started, and 0 from the midpoint on (saturating: adoption slows)."""
    if ceiling <= 0:
        return 0.0
    s = min(max(level / ceiling, 0.0), 0.5)
    return s * (1 - s) * (1 - 2 * s) / TAKE_OFF_PEAK


def percentiles(values: Mapping[str, float]) -> dict[str, float]:
    """Each key's share of the others it beats (ties count half), in [0, 1]."""
    items = sorted(values.items(), key=lambda kv: kv[1])
    n = len(items)
    if n == 1:
        return {items[0][0]: 0.5}
    out: dict[str, float] = {}
    i = 0
    while i < n:
        j = i
        while j + 1 < n and items[j + 1][1] == items[i][1]:
            j += 1
        share = ((i + j) / 2) / (n - 1)
        for key, _ in items[i : j + 1]:
            out[key] = share
        i = j + 1
    return out


def _ratio(
    data: Mapping[str, Mapping[str, Mapping[int, float]]], code: str, asof: int
) -> float | None:
    """Median of ``code`` / internet use over countries that measured both in the same year."""
    ratios = []
    for indicators in data.values():
        for year, value in indicators.get(code, {}).items():
            internet = indicators.get(INTERNET, {}).get(year)
            if year < asof and internet and internet > 1:
                ratios.append(value / internet)
    return statistics.median(ratios) if ratios else None


def rank(
    data: Data,
    *,
    asof: int,
    weights: Weights | None = None,
    countries: Iterable[str] | None = None,
) -> Ranking:
    """Scores and ranks every country with a population figure and some adoption figure as of
    ``asof``; ``countries`` limits the set (e.g. to ISO codes, dropping regional aggregates)."""
    weights = weights or Weights()
    known = set(countries) if countries is not None else None
    seen = visible({k: v for k, v in data.items() if known is None or k in known}, asof)
    eligible = [
        iso3
        for iso3, ind in sorted(seen.items())
        if latest(ind.get(POPULATION), asof) is not None
        and (latest(ind.get(INTERNET), asof) or latest(ind.get(MOBILE), asof))
    ]
    ranking = Ranking(asof=asof, weights=weights)
    if not eligible:
        return ranking
    ranking.smartphone_ratio = _ratio(seen, SMARTPHONE, asof)
    ranking.social_ratio = _ratio(seen, SOCIAL, asof)

    # Percentile of each figure among the countries that have it in the same year.
    year_pct: dict[tuple[str, int], dict[str, float]] = {}

    def pct(code: str, year: int, iso3: str) -> float:
        key = (code, year)
        if key not in year_pct:
            year_pct[key] = percentiles(
                {c: seen[c][code][year] for c in eligible if year in seen[c].get(code, {})}
            )
        return year_pct[key][iso3]

    figures: dict[str, dict[str, Figure]] = {}
    imputed: dict[str, list[str]] = {}
    raw: dict[str, dict[str, float]] = {}
    curves: dict[str, SCurve] = {}
    fits: dict[str, tuple[float, float, float] | None] = {}
    for iso3 in eligible:
        ind = seen[iso3]
        fits[iso3] = fit_scurve(ind.get(INTERNET, {}).items())
    fitted_speeds = [f[1] for f in fits.values() if f is not None]
    median_speed = statistics.median(fitted_speeds) if fitted_speeds else 0.3

    for iso3 in eligible:
        ind = seen[iso3]
        figs: dict[str, Figure] = {}
        notes: list[str] = []
        for code in (POPULATION, GDP_PC, INTERNET, MOBILE, SMARTPHONE, SOCIAL, *ECOMMERCE):
            got = latest(ind.get(code), asof)
            if got is not None:
                figs[code] = Figure(value=got[1], year=got[0], percentile=pct(code, got[0], iso3))
        # Internet use: the adoption measure; mobile subscriptions stand in where it is missing.
        if INTERNET not in figs:
            mobile = figs[MOBILE]
            figs[INTERNET] = Figure(
                value=min(100.0, (mobile.value or 0.0) / 2),
                year=mobile.year,
                **_how(FROM_MOBILE),  # type: ignore[arg-type]
            )
            notes.append(INTERNET)
        internet = figs[INTERNET].value or 0.0
        for code, ratio, what in (
            (SMARTPHONE, ranking.smartphone_ratio, PHONES_FROM_INTERNET),
            (SOCIAL, ranking.social_ratio, SOCIAL_FROM_INTERNET),
        ):
            if code not in figs:
                r = ratio if ratio is not None else 0.5
                figs[code] = Figure(
                    value=min(100.0, internet * r),
                    year=figs[INTERNET].year,
                    **_how(what, ratio=r),  # type: ignore[arg-type]
                )
                notes.append(code)

        # tipping
        fit = fits[iso3]
        level = figs[SMARTPHONE].value or 0.0
        phone, net = figs[SMARTPHONE], figs[INTERNET]
        then = ind.get(INTERNET, {}).get(phone.year) if phone.year is not None else None
        if phone.imputed is None and net.year and phone.year and net.year > phone.year and then:
            # A survey older than the latest internet figure: carried forward by the growth
            # of internet use since (a stale share would pin the country where it was).
            level = min(100.0, level * (net.value or 0.0) / then)
            figs[SMARTPHONE] = Figure(
                value=level,
                year=net.year,
                percentile=phone.percentile,
                **_how(  # type: ignore[arg-type]
                    CARRIED,
                    share=phone.value,
                    then=phone.year,
                    net_then=then,
                    net_now=net.value,
                    now=net.year,
                ),
            )
            notes.append(SMARTPHONE)
        if fit is not None:
            ceiling, speed, midpoint = fit
        else:
            ceiling, speed = 100.0, median_speed
            midpoint = (figs[INTERNET].year or asof - 1) - math.log(
                max(internet, 0.01) / max(ceiling - internet, 0.01)
            ) / speed
            notes.append("scurve")
        ceiling = max(ceiling, level)
        position = take_off(level, ceiling)
        curves[iso3] = SCurve(
            ceiling=ceiling,
            speed=speed,
            midpoint=midpoint,
            fitted=fit is not None,
            points=tuple(sorted(ind.get(INTERNET, {}).items())),
            level=level,
            level_imputed=figs[SMARTPHONE].imputed is not None,
            take_off=position,
        )
        # social: on the shares' own 0-100 scale
        social = ((figs[SOCIAL].value or 0.0) + internet) / 2
        # e-commerce: percentiles within year; missing ones take the mean of the present ones,
        # or, with none present, the GDP-per-capita percentile (else the median)
        present = [figs[c].percentile for c in ECOMMERCE if c in figs]
        present_values = [p for p in present if p is not None]
        for code in ECOMMERCE:
            if code in figs:
                continue
            if present_values:
                fill, how = statistics.fmean(present_values), FROM_OTHERS
            elif GDP_PC in figs and figs[GDP_PC].percentile is not None:
                fill, how = figs[GDP_PC].percentile or 0.0, FROM_GDP
            else:
                fill, how = 0.5, FROM_NOTHING
            figs[code] = Figure(value=None, year=None, percentile=fill, **_how(how))  # type: ignore[arg-type]
            notes.append(code)
        ecommerce = statistics.fmean(figs[c].percentile or 0.0 for c in ECOMMERCE)
        population = figs[POPULATION].value or 0.0
        raw[iso3] = {
            "tipping": position,
            "social": social,
            "ecommerce": ecommerce,
            "size": math.log10(max(population, 1.0)),
        }
        figures[iso3] = figs
        imputed[iso3] = notes

    normalised = {
        name: percentiles({c: raw[c][name] for c in eligible}) for name in raw[eligible[0]]
    }
    scored: list[CountryScore] = []
    for iso3 in eligible:
        criteria = {name: round(normalised[name][iso3], 4) for name in ("social", "ecommerce")}
        criteria["tipping"] = round(raw[iso3]["tipping"], 4)
        criteria["size"] = round(size_score(raw[iso3]["size"]), 4)
        score = combine(criteria, weights)
        scored.append(
            CountryScore(
                iso3=iso3,
                score=round(score, 4),
                rank=0,
                criteria=criteria,
                raw={k: round(v, 4) for k, v in raw[iso3].items()},
                figures=figures[iso3],
                imputed=imputed[iso3],
                scurve=curves[iso3],
            )
        )
    scored.sort(key=lambda c: (-c.score, c.iso3))
    for position, country in enumerate(scored, start=1):
        country.rank = position
    ranking.countries = scored
    return ranking


def size_score(log_population: float) -> float:
    """Market size on a log scale of people: 0 at 100 thousand, 1 at a billion (clipped). A log
    scale, not a percentile: India has four Brazils' worth of buyers, and a percentile would
    call them alike; a linear scale would let India and China swamp every other criterion."""
    return min(1.0, max(0.0, (log_population - SIZE_LOG_MIN) / (SIZE_LOG_MAX - SIZE_LOG_MIN)))


def combine(criteria: Mapping[str, float], weights: Weights) -> float:
    """The weighted geometric mean: the rule says "and", so a weak criterion is not bought back
    by a strong one; sub-scores are floored at FLOOR so that one zero does not erase the rest."""
    total = weights.tipping + weights.social + weights.ecommerce
    log_blend = (
        sum(getattr(weights, name) * math.log(max(criteria[name], FLOOR)) for name in CRITERIA)
        / total
    )
    log_size = math.log(max(criteria["size"], FLOOR))
    return math.exp((1.0 - weights.size) * log_blend + weights.size * log_size)


def population_ranking(
    data: Data, *, asof: int, countries: Iterable[str] | None = None
) -> list[str]:
    """The baseline: countries by population alone (as of ``asof``), largest first."""
    known = set(countries) if countries is not None else None
    pops = {
        iso3: got[1]
        for iso3, ind in data.items()
        if (known is None or iso3 in known)
        and (got := latest({y: v for y, v in ind.get(POPULATION, {}).items() if y < asof}, asof))
    }
    return sorted(pops, key=lambda c: (-pops[c], c))
