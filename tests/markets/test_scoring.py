"""The scorer alone (no database): the S-curve, as-of dating, imputation, weights."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from canyu.markets import scoring
from canyu.markets.scoring import Weights, fit_scurve, rank, take_off

from .conftest import COUNTRIES, internet


def world(upto: int = 2019) -> dict[str, dict[str, dict[int, float]]]:
    data: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for iso3, _name, millions, midpoint, speed, lpi in COUNTRIES:
        for year in range(1995, upto + 1):
            data[iso3]["SP.POP.TOTL"][year] = millions * 1e6
            data[iso3]["IT.NET.USER.ZS"][year] = internet(midpoint, speed, year)
            data[iso3]["IT.CEL.SETS.P2"][year] = 50.0 + year - 1995
        for year in (2010, 2012, 2014, 2016):
            data[iso3]["LP.LPI.OVRL.XQ"][year] = lpi
    return {k: dict(v) for k, v in data.items()}


def test_take_off_peaks_near_a_fifth_of_the_ceiling_and_is_zero_once_saturating() -> None:
    peak = (3 - math.sqrt(3)) / 6 * 100
    assert take_off(peak, 100) == pytest.approx(1.0)
    assert take_off(15, 100) > 0.9 > take_off(2, 100)
    assert take_off(50, 100) == 0.0
    assert take_off(85, 90) == 0.0
    assert 0 < take_off(1, 100) < 0.2  # not started: low, but it is where it is


def test_the_logistic_fit_recovers_a_known_curve() -> None:
    points = [(y, 80 / (1 + math.exp(-0.35 * (y - 2008)))) for y in range(1995, 2014)]
    fit = fit_scurve(points)
    assert fit is not None
    k, r, t0 = fit
    assert k == pytest.approx(80, abs=2)
    assert r == pytest.approx(0.35, abs=0.03)
    assert t0 == pytest.approx(2008, abs=0.5)
    assert fit_scurve([(2010, 1.0), (2011, 2.0)]) is None  # too few points to say


def test_a_ranking_as_of_a_year_reads_nothing_from_that_year_or_later() -> None:
    before = rank(world(2013), asof=2014)
    future = world(2019)
    # The future is wildly different: had any of it leaked in, the ranking would change.
    for indicators in future.values():
        for code, series in indicators.items():
            for year in series:
                if year >= 2014:
                    series[year] = 99.0 if code != "SP.POP.TOTL" else 1.0
    after = rank(future, asof=2014)
    assert [(c.iso3, c.score, c.criteria) for c in after.countries] == [
        (c.iso3, c.score, c.criteria) for c in before.countries
    ]
    for country in after.countries:
        assert all(f.year is None or f.year < 2014 for f in country.figures.values())
        assert country.scurve is not None
        assert all(year < 2014 for year, _ in country.scurve.points)


def test_missing_figures_are_imputed_and_listed_never_zero() -> None:
    data = world(2013)
    del data["NGA"]["LP.LPI.OVRL.XQ"]
    ranking = rank(data, asof=2014).by_iso3()
    nigeria = ranking["NGA"]
    assert "LP.LPI.OVRL.XQ" in nigeria.imputed
    lpi = nigeria.figures["LP.LPI.OVRL.XQ"]
    assert lpi.imputed is not None
    assert lpi.percentile is not None
    assert lpi.percentile > 0
    # Nobody measured smartphones here: imputed from internet use, and said so.
    assert "PEW.SMARTPHONE" in ranking["IND"].imputed
    assert ranking["IND"].scurve is not None
    assert ranking["IND"].scurve.level_imputed


def test_a_country_at_take_off_beats_a_saturated_and_a_not_started_one_on_tipping() -> None:
    ranking = rank(world(2013), asof=2014).by_iso3()
    # Indonesia ~ 15-25 % in 2013; Japan saturated; Ethiopia barely started.
    assert ranking["IDN"].criteria["tipping"] > ranking["JPN"].criteria["tipping"]
    assert ranking["IDN"].criteria["tipping"] > ranking["ETH"].criteria["tipping"]


def test_the_size_weight_is_visible_and_changes_the_order() -> None:
    data = world(2013)
    small = rank(data, asof=2014, weights=Weights(size=0.0)).by_iso3()
    large = rank(data, asof=2014, weights=Weights(size=1.0)).by_iso3()
    assert large["IND"].rank < small["IND"].rank or large["IND"].rank == 1
    assert large["SGP"].rank > small["SGP"].rank
    for country in large.values():
        assert country.score == pytest.approx(country.criteria["size"], abs=1e-3) or (
            country.criteria["size"] < scoring.FLOOR
        )
    with pytest.raises(ValueError, match="size"):
        Weights(size=1.5)
    with pytest.raises(ValueError, match="positive"):
        Weights(tipping=0, social=0, ecommerce=0)


def test_a_weak_criterion_is_not_bought_back_by_strong_ones() -> None:
    weights = Weights(size=0.0)
    balanced = scoring.combine(
        {"tipping": 0.6, "social": 0.6, "ecommerce": 0.6, "size": 0.5}, weights
    )
    lopsided = scoring.combine(
        {"tipping": 0.05, "social": 0.9, "ecommerce": 0.85, "size": 0.5}, weights
    )
    assert balanced > lopsided


def test_regional_aggregates_can_be_left_out_and_home_market_is_ranked() -> None:
    data = world(2013)
    data["WLD"] = data["USA"]
    ranking = rank(data, asof=2014, countries=[c[0] for c in COUNTRIES])
    codes = [c.iso3 for c in ranking.countries]
    assert "WLD" not in codes
    assert scoring.HOME_MARKET in codes
    assert sorted(c.rank for c in ranking.countries) == list(range(1, len(codes) + 1))
