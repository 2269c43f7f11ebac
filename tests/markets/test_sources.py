"""Reading the publishers' own layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from canyu.markets import sources
from canyu.markets.sources import Observation

from .conftest import write_world


def test_each_layout_is_recognised_by_its_header(tmp_path: Path) -> None:
    folder = write_world(tmp_path)
    got = {
        p.name: list(sources.read_file(p))
        for p in folder.iterdir()
        if p.name != "plan.csv" and p.name != "notes.csv"
    }
    assert Observation("IND", "SP.POP.TOTL", 2010, 1250e6) in got["wdi_sp.pop.totl.csv"]
    assert {o.indicator for o in got["API_IT.NET.SECR.P6_DS2_en_csv_v2.csv"]} == {
        "IT.NET.SECR.P6",
        "IT.CEL.SETS.P2",
    }
    assert {o.indicator for o in got["internet_users_share.csv"]} == {"IT.NET.USER.ZS"}
    findex = got["global_findex_2011_2017.csv"]
    assert Observation("IND", "FINDEX.BUY_ONLINE", 2014, 11.0) in findex
    assert not [o for o in findex if o.indicator == "FINDEX.BUY_ONLINE" and o.year == 2011]
    pew = got["pew_smartphone_social.csv"]
    assert Observation("BRA", "PEW.SMARTPHONE", 2014, 24.0) in pew
    assert Observation("MEX", "PEW.SOCIAL", 2013, 35.0) in pew


def test_values_the_publishers_leave_empty_or_dotted_are_skipped_not_zero() -> None:
    text = (
        "Country Name,Country Code,Year,Value\n"
        "India,IND,2010,\nIndia,IND,2011,..\nIndia,IND,2012,7.5\n"
    )
    assert list(sources.read_text("wdi_it.net.bbnd.p2.csv", text)) == [
        Observation("IND", "IT.NET.BBND.P2", 2012, 7.5)
    ]


def test_an_unknown_layout_or_indicator_says_which_file() -> None:
    with pytest.raises(sources.UnknownLayout, match=r"notes\.csv"):
        list(sources.read_text("notes.csv", "what,why\na,b\n"))
    with pytest.raises(sources.UnknownLayout, match="no known indicator"):
        list(
            sources.read_text("mystery.csv", "Country Name,Country Code,Year,Value\nX,IND,2010,1\n")
        )


def test_indicator_codes_come_from_either_file_naming() -> None:
    assert sources.indicator_from_name("wdi_it.cel.sets.p2.csv") == "IT.CEL.SETS.P2"
    assert sources.indicator_from_name("IT.NET.BBND.P2.csv") == "IT.NET.BBND.P2"
    assert sources.indicator_from_name("population.csv") is None


def test_the_wdi_bulk_file_keeps_only_the_indicators_the_scorer_reads(tmp_path: Path) -> None:
    bulk = tmp_path / "WDIData.csv"
    bulk.write_text(
        "\ufeffCountry Name,Country Code,Indicator Name,Indicator Code,2012,2013,\n"
        "India,IND,Internet users,IT.NET.USER.ZS,12.6,15.1,\n"
        "India,IND,Something else,AG.LND.ARBL.ZS,52.6,52.6,\n"
        "World,WLD,Internet users,IT.NET.USER.ZS,35.0,,\n",
        encoding="utf-8",
    )
    assert list(sources.read_file(bulk)) == [
        Observation("IND", "IT.NET.USER.ZS", 2012, 12.6),
        Observation("IND", "IT.NET.USER.ZS", 2013, 15.1),
        Observation("WLD", "IT.NET.USER.ZS", 2012, 35.0),  # the import leaves aggregates out
    ]
