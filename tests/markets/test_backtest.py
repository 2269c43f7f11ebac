"""Judging the scorer by what the company did: labels, the as-of year per market, the
population baseline, and the in-sample figure on the shared data."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canyu.markets import backtest as bt
from canyu.markets import scoring, sources
from canyu.markets.geo import world


def test_labels_read_dates_and_reject_bad_rows() -> None:
    labels = bt.read_labels("iso3,country,first_official_sale\nIND,India,2014-07\nidn,Indonesia,\n")
    assert labels == [bt.Label("IND", "2014-07"), bt.Label("IDN", None)]
    assert labels[0].asof(2020) == 2013  # the year before its entry
    assert labels[1].asof(2014) == 2014
    with pytest.raises(ValueError, match="iso3"):
        bt.read_labels("country\nIndia\n")
    with pytest.raises(ValueError, match="YYYY-MM"):
        bt.read_labels("iso3,first_official_sale\nIND,July 2014\n")
    with pytest.raises(ValueError, match="alpha-3"):
        bt.read_labels("iso3\nINDIA\n")


def _shared(folder: Path) -> dict[str, dict[str, dict[int, float]]]:
    data: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for path in sorted(folder.glob("*.csv")):
        if path.name == "xiaomi_2014_plan.csv":
            continue
        for o in sources.read_file(path):
            data[o.iso3][o.indicator][o.year] = o.value
    return data


@pytest.mark.data
def test_the_2014_plan_in_sample_beats_population_alone(shared_markets: Path) -> None:
    data = _shared(shared_markets)
    countries = world().countries
    labels = bt.read_labels((shared_markets / "xiaomi_2014_plan.csv").read_text(encoding="utf-8"))
    ranking = scoring.rank(data, asof=2014, countries=countries)
    standings = bt.backtest(
        labels,
        asof=2014,
        ranking_for=lambda _year: ranking,
        population_for=lambda year: scoring.population_ranking(
            data, asof=year, countries=countries
        ),
    )
    result = bt.report(standings, weights=scoring.Weights())
    baseline = result["baseline"]
    assert isinstance(baseline, dict)
    assert baseline["in_top15"] == 7  # the figure for population alone
    announced = [s for s in standings if s.iso3 != "SGP"]
    assert sum(1 for s in announced if s.rank is not None and s.rank <= 15) >= 9
    assert result["median_percentile"] > baseline["median_percentile"]


@pytest.mark.data
def test_the_cli_prints_the_figure_with_the_baseline_beside(
    shared_markets: Path, tmp_path: Path
) -> None:
    from canyu.cli import app

    url = f"sqlite:///{tmp_path / 'markets.db'}"
    runner = CliRunner()
    imported = runner.invoke(
        app, ["markets", "import", str(shared_markets), "--database-url", url, "--json"]
    )
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["plans"] == {"xiaomi_2014_plan": 11}
    result = runner.invoke(
        app,
        [
            "markets",
            "backtest",
            "--labels",
            str(shared_markets / "xiaomi_2014_plan.csv"),
            "--asof",
            "2014",
            "--json",
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["in_top15"] >= 9
    assert figures["baseline"]["in_top15"] == 7
    assert {"median_percentile", "countries", "home_market_excluded"} <= set(figures)
    ranked = runner.invoke(
        app, ["markets", "rank", "--asof", "2014", "--json", "--database-url", url]
    )
    assert ranked.exit_code == 0, ranked.output
    body = json.loads(ranked.stdout)
    assert body["asof"] == 2014
    first = body["countries"][0]
    assert set(first) >= {"iso3", "score", "rank", "criteria", "imputed"}
    assert set(first["criteria"]) == {"tipping", "social", "ecommerce", "size"}
    assert "CHN" in {c["iso3"] for c in body["countries"]}


def test_the_cli_fails_clearly_on_bad_input(tmp_path: Path) -> None:
    from canyu.cli import app

    url = f"sqlite:///{tmp_path / 'markets.db'}"
    runner = CliRunner()
    missing = runner.invoke(
        app, ["markets", "import", str(tmp_path / "nope"), "--database-url", url]
    )
    assert missing.exit_code == 2
    assert "no such directory" in missing.output
    labels = tmp_path / "labels.csv"
    labels.write_text("country\nIndia\n", encoding="utf-8")
    bad = runner.invoke(
        app,
        ["markets", "backtest", "--labels", str(labels), "--asof", "2014", "--database-url", url],
    )
    assert bad.exit_code == 2
    assert "iso3" in bad.output
    empty = runner.invoke(app, ["markets", "rank", "--asof", "2014", "--database-url", url])
    assert empty.exit_code == 2
    assert "canyu markets import" in empty.output
    opened = runner.invoke(
        app, ["markets", "open", "IN", "--date", "2014-07-15", "--database-url", url]
    )
    assert opened.exit_code == 0, opened.output
    again = runner.invoke(app, ["markets", "open", "IND", "--database-url", url])
    assert again.exit_code == 2
    assert "already" in again.output
    listed = runner.invoke(app, ["markets", "openings", "--json", "--database-url", url])
    assert json.loads(listed.stdout)["opened"][0]["iso3"] == "IND"
