"""A small synthetic world in the publishers' own CSV layouts, and the app over it."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SHARED_DATA
from releases.fixtures import (  # noqa: F401  (fixtures)
    key_dirs,
    release_settings,
    runtime,
    shop,
)

from canyu.db import Database
from canyu.markets import service

MARKETS_DATA = SHARED_DATA / "markets"

# iso3, name, population (millions), internet-use logistic midpoint year and speed, LPI
COUNTRIES = [
    ("IND", "India", 1250, 2019, 0.30, 3.1),
    ("IDN", "Indonesia", 250, 2017, 0.32, 2.9),
    ("BRA", "Brazil", 200, 2011, 0.28, 2.9),
    ("MEX", "Mexico", 120, 2012, 0.27, 3.1),
    ("USA", "United States", 315, 2000, 0.35, 3.9),
    ("JPN", "Japan", 127, 2001, 0.40, 3.9),
    ("DEU", "Germany", 81, 2002, 0.40, 4.1),
    ("NGA", "Nigeria", 170, 2024, 0.22, 2.8),
    ("SGP", "Singapore", 5.4, 2001, 0.45, 4.0),
    ("CHN", "China", 1360, 2012, 0.30, 3.5),
    ("ETH", "Ethiopia", 95, 2035, 0.15, 2.6),
    ("MYS", "Malaysia", 30, 2007, 0.30, 3.5),
]
YEARS = range(1995, 2020)


def internet(midpoint: int, speed: float, year: int) -> float:
    return round(90.0 / (1.0 + math.exp(-speed * (year - midpoint))), 2)


def write_world(directory: Path) -> Path:
    """WDI long files, an OWID export, a WDI wide bulk file with preamble, Findex, Pew, a plan,
    and rows for a regional aggregate (WLD) that must not become a country."""
    directory.mkdir(parents=True, exist_ok=True)
    pop = ["Country Name,Country Code,Year,Value"]
    lpi = ["Country Name,Country Code,Year,Value"]
    owid = ["Entity,Code,Year,Individuals using the Internet (% of population)"]
    for iso3, name, millions, midpoint, speed, score in COUNTRIES:
        for year in YEARS:
            pop.append(f'"{name}",{iso3},{year},{millions * 1e6 * (1 + 0.01 * (year - 2010)):.0f}')
            owid.append(f"{name},{iso3},{year},{internet(midpoint, speed, year)}")
        for year in (2007, 2010, 2012, 2014, 2016, 2018):
            lpi.append(f'"{name}",{iso3},{year},{score}')
    pop.append("World,WLD,2012,7000000000")
    owid.append("World,OWID_WRL,2012,35")
    (directory / "wdi_sp.pop.totl.csv").write_text("\n".join(pop) + "\n", encoding="utf-8")
    (directory / "wdi_lp.lpi.ovrl.xq.csv").write_text("\n".join(lpi) + "\n", encoding="utf-8")
    (directory / "internet_users_share.csv").write_text("\n".join(owid) + "\n", encoding="utf-8")
    years = ",".join(f'"{y}"' for y in range(2008, 2020))
    wide = [
        '"Data Source","World Development Indicators",',
        "",
        '"Last Updated Date","2024-06-28",',
        "",
        f'"Country Name","Country Code","Indicator Name","Indicator Code",{years},',
    ]
    for iso3, name, millions, midpoint, _speed, _score in COUNTRIES:
        values = ",".join(f'"{3 + (y - 2008) * (1 + millions % 7):.1f}"' for y in range(2008, 2020))
        wide.append(f'"{name}","{iso3}","Secure Internet servers","IT.NET.SECR.P6",{values},')
        values = ",".join(f'"{60 + (y - 2008) * 4 + midpoint % 5}"' for y in range(2008, 2020))
        wide.append(f'"{name}","{iso3}","Mobile","IT.CEL.SETS.P2",{values},')
    (directory / "API_IT.NET.SECR.P6_DS2_en_csv_v2.csv").write_text(
        "\n".join(wide) + "\n", encoding="utf-8"
    )
    findex = [
        "Year,Country_Code,Country,Account (% age 15+),"
        "Used the internet to buy something online in the past year(% age 15+)"
    ]
    for iso3, name, _m, midpoint, _s, _score in COUNTRIES:
        for year in (2011, 2014, 2017):
            buy = "" if year == 2011 else f"{max(1, 2030 - midpoint)}%"
            findex.append(f'{year},{iso3},"{name}",{min(99, 100 - (midpoint - 1995) * 2)}%,{buy}')
    (directory / "global_findex_2011_2017.csv").write_text(
        "\n".join(findex) + "\n", encoding="utf-8"
    )
    (directory / "pew_smartphone_social.csv").write_text(
        "iso3,country,smartphone_owners_pct_2013,smartphone_owners_pct_2014,social_network_users_pct_2013\n"
        "IND,India,12,14,8\nBRA,Brazil,15,24,36\nMEX,Mexico,21,28,35\n",
        encoding="utf-8",
    )
    (directory / "plan.csv").write_text(
        "iso3,country,first_official_sale\nIND,India,2014-07\nIDN,Indonesia,\nBRA,Brazil,2015-06\n",
        encoding="utf-8",
    )
    (directory / "notes.csv").write_text("what,why\nnothing,here\n", encoding="utf-8")
    return directory


@pytest.fixture
def world_dir(tmp_path: Path) -> Path:
    return write_world(tmp_path / "markets")


Loader = Callable[[], service.ImportReport]


@pytest.fixture
def load_world(database: Database, world_dir: Path) -> Loader:
    def load() -> service.ImportReport:
        with database.session() as session:
            return service.import_dir(session, world_dir)

    return load


@pytest.fixture
def shared_markets() -> Path:
    if not (MARKETS_DATA / "xiaomi_2014_plan.csv").exists():
        pytest.skip(f"{MARKETS_DATA} is not here")
    return MARKETS_DATA
