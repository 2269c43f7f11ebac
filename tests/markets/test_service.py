"""Import into the database, rankings from it, and opened markets (the service other domains
call)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from canyu.db import Database
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.markets import service
from canyu.markets.models import Figure

from .conftest import Loader


def test_import_reads_every_layout_and_leaves_out_aggregates(
    database: Database, load_world: Loader
) -> None:
    report = load_world()
    assert report.plans == {"plan": 3}
    assert [s["file"] for s in report.skipped] == ["notes.csv"]
    assert {f["file"] for f in report.files} >= {
        "wdi_sp.pop.totl.csv",
        "internet_users_share.csv",
        "API_IT.NET.SECR.P6_DS2_en_csv_v2.csv",
        "global_findex_2011_2017.csv",
        "pew_smartphone_social.csv",
    }
    with database.session() as session:
        codes = set(session.scalars(select(Figure.iso3).distinct()))
        assert "WLD" not in codes
        assert "IND" in codes
        plans = service.plans(session)
        assert [label.iso3 for label in plans["plan"]] == ["IND", "IDN", "BRA"]


def test_importing_again_replaces_values_without_duplicates(
    database: Database, load_world: Loader, world_dir: Path
) -> None:
    load_world()
    with database.session() as session:
        count = session.scalar(select(func.count(Figure.id)))
        before = service.ranking(session, asof=2014).by_iso3()["IND"].figures["SP.POP.TOTL"]
    (world_dir / "wdi_sp.pop.totl.csv").write_text(
        "Country Name,Country Code,Year,Value\nIndia,IND,2013,1300000000\n", encoding="utf-8"
    )
    load_world()
    with database.session() as session:
        assert session.scalar(select(func.count(Figure.id))) == count
        after = service.ranking(session, asof=2014).by_iso3()["IND"].figures["SP.POP.TOTL"]
    assert before.value != after.value == 1.3e9


def test_import_refuses_a_folder_without_csv(database: Database, tmp_path: Path) -> None:
    with database.session() as session, pytest.raises(InvalidInput, match=r"no \.csv"):
        service.import_dir(session, tmp_path)


def test_the_stored_ranking_reads_only_earlier_years(
    database: Database, load_world: Loader
) -> None:
    load_world()
    with database.session() as session:
        ranking = service.ranking(session, asof=2012)
        for country in ranking.countries:
            assert all(f.year is None or f.year <= 2011 for f in country.figures.values())
        assert service.history(session, iso3="IND", asof=2012)["SP.POP.TOTL"].keys() <= set(
            range(1995, 2012)
        )
        with pytest.raises(InvalidInput):
            service.ranking(session, asof=1900)
        with pytest.raises(NotFound):
            service.country_score(session, iso3="FRA", asof=2014)


def test_backtest_ranks_each_market_the_year_before_its_entry(
    database: Database, load_world: Loader
) -> None:
    load_world()
    with database.session() as session:
        result = service.backtest(session, labels=service.plans(session)["plan"], asof=2016)
    countries = result["countries"]
    assert isinstance(countries, list)
    by = {c["iso3"]: c for c in countries}
    assert by["IND"]["asof"] == 2013
    assert by["BRA"]["asof"] == 2014
    assert by["IDN"]["asof"] == 2016
    baseline = result["baseline"]
    assert isinstance(baseline, dict)
    assert baseline["name"] == "population"


def test_opened_markets_gate_other_domains(database: Database) -> None:
    with database.session() as session:
        assert service.require_open_market(session, country="CN").iso3 == "CHN"  # home market
        with pytest.raises(InvalidInput, match="not an opened market") as refused:
            service.require_open_market(session, country="IN")
        assert refused.value.details["country"] == "IND"
        with pytest.raises(InvalidInput, match="not an ISO"):
            service.require_open_market(session, country="XX")
        service.open_market(
            session, country_code="in", opened_on=date(2014, 7, 15), note="Flipkart launch"
        )
    with database.session() as session:
        assert service.require_open_market(session, country="IND").iso2 == "IN"
        assert service.require_open_market(session, country="in").name_en == "India"
        assert [o.iso3 for o in service.opened_markets(session)] == ["IND"]
        with pytest.raises(Conflict):
            service.open_market(session, country_code="IND", opened_on=date(2015, 1, 1))
        with pytest.raises(Conflict, match="home market"):
            service.open_market(session, country_code="CHN", opened_on=date(2015, 1, 1))
        with pytest.raises(InvalidInput):
            service.open_market(session, country_code="ZZZ", opened_on=date(2015, 1, 1))
