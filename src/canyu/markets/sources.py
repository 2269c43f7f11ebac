"""Reading public indicator files in the layouts their publishers use (pure: no database).

Recognised by their header, whatever the file is called:

- World Bank WDI, long: ``Country Name, Country Code, Year, Value`` (one indicator per file; the
  indicator comes from the file name, e.g. ``wdi_it.net.bbnd.p2.csv`` or ``IT.NET.BBND.P2.csv``);
- World Bank WDI, wide: the bulk ``WDIData.csv`` and the per-indicator ``API_<code>_DS2_...csv``
  downloads (``Country Name, Country Code, Indicator Name, Indicator Code, 1960, 1961, ...``,
  after up to four lines of preamble);
- Our World in Data exports: ``Entity, Code, Year, <value column>``;
- Global Findex (``Year, Country_Code, ...`` with values such as ``19%``);
- Pew Research's smartphone and social-network shares: ``iso3, smartphone_owners_pct_2013 ...``.

Every reader yields :class:`Observation` rows (ISO 3166-1 alpha-3, indicator, year, value);
regional aggregates and rows without a country code are dropped by the caller's country list.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from canyu.markets.indicators import INDICATORS

MIN_YEAR, MAX_YEAR = 1950, 2100


@dataclass(frozen=True, slots=True)
class Observation:
    iso3: str
    indicator: str
    year: int
    value: float


class UnknownLayout(ValueError):
    """A file whose header matches none of the layouts above."""


# Our World in Data's value columns, by their (lower-cased) title.
OWID_COLUMNS = {
    "individuals using the internet (% of population)": "IT.NET.USER.ZS",
    "internet users (% of population)": "IT.NET.USER.ZS",
    "share of the population using the internet": "IT.NET.USER.ZS",
    "mobile cellular subscriptions (per 100 people)": "IT.CEL.SETS.P2",
    "fixed broadband subscriptions (per 100 people)": "IT.NET.BBND.P2",
}
OWID_CODES = {"OWID_KOS": "XKX"}


def _squash(title: str) -> str:
    return re.sub(r"\s+", "", title).lower()


# Global Findex columns (whitespace-insensitive; the file's titles are irregularly spaced).
FINDEX_COLUMNS = {
    _squash("Account (% age 15+)"): "FINDEX.ACCOUNT",
    _squash("Used the internet to buy something online in the past year (% age 15+)"): (
        "FINDEX.BUY_ONLINE"
    ),
}
PEW_COLUMN = re.compile(r"^(smartphone_owners|social_network_users)_pct_(\d{4})$")
PEW_INDICATORS = {"smartphone_owners": "PEW.SMARTPHONE", "social_network_users": "PEW.SOCIAL"}
WDI_CODE_IN_NAME = re.compile(r"([a-z]{2}\.[a-z0-9]{2,5}(?:\.[a-z0-9]{2,5}){1,3})", re.IGNORECASE)


def _number(raw: str | None) -> float | None:
    text = (raw or "").strip().rstrip("%").replace(",", "")
    if not text or text in {"..", "-", "NA", "n/a"}:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _year(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not text.isdigit():
        return None
    year = int(text)
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def _code(raw: str | None) -> str | None:
    text = (raw or "").strip().upper()
    text = OWID_CODES.get(text, text)
    return text if re.fullmatch(r"[A-Z]{3}", text) else None


def indicator_from_name(name: str) -> str | None:
    """The WDI code in a file name (``wdi_it.cel.sets.p2.csv`` → ``IT.CEL.SETS.P2``), if known."""
    stem = Path(name).name
    for match in WDI_CODE_IN_NAME.finditer(stem.replace("_", " ")):
        code = match.group(1).upper()
        if code.endswith(".CSV"):
            code = code[: -len(".CSV")]
        if code in INDICATORS:
            return code
    return None


def _rows(handle: TextIO) -> tuple[list[str], csv.DictReader[str]]:
    """The header and rows, skipping the World Bank downloads' preamble (up to four lines);
    rows are read lazily (the WDI bulk file is hundreds of megabytes)."""
    start = handle.tell()
    skip = 0
    for index in range(6):
        line = handle.readline().lstrip("\ufeff")
        if line.startswith(('"Country Name"', "Country Name")):
            skip = index
            break
    handle.seek(start)
    for _ in range(skip):
        handle.readline()
    reader = csv.DictReader(handle)
    return [f.strip().lstrip("\ufeff") for f in reader.fieldnames or []], reader


def read_text(name: str, text: str) -> Iterator[Observation]:
    """Observations in one file's text; ``name`` is the file name (it may carry the indicator)."""
    yield from read_handle(name, io.StringIO(text.lstrip("\ufeff")))


def read_handle(name: str, handle: TextIO) -> Iterator[Observation]:
    """Observations in an open file, read lazily (UnknownLayout comes before any row)."""
    header, reader = _rows(handle)
    lowered = [h.lower() for h in header]
    if lowered[:4] == ["country name", "country code", "year", "value"]:
        indicator = indicator_from_name(name)
        if indicator is None:
            raise UnknownLayout(
                f"{name}: a World Bank long file, but its name carries no known indicator code"
            )
        yield from _long(reader, "Country Code", "Year", "Value", indicator)
    elif "indicator code" in lowered and "country code" in lowered:
        yield from _wide(reader, header)
    elif lowered[:3] == ["entity", "code", "year"] and len(header) >= 4:
        indicator = OWID_COLUMNS.get(header[3].lower())
        if indicator is None:
            raise UnknownLayout(f"{name}: Our World in Data column {header[3]!r} is not known")
        yield from _long(reader, header[1], header[2], header[3], indicator)
    elif "country_code" in lowered and "year" in lowered:
        yield from _findex(reader, header)
    elif "iso3" in lowered and any(PEW_COLUMN.match(h) for h in header):
        yield from _pew(reader, header)
    else:
        raise UnknownLayout(f"{name}: header {header[:5]} matches no known layout")


def _long(
    reader: Iterable[dict[str, str]], code: str, year: str, value: str, indicator: str
) -> Iterator[Observation]:
    for row in reader:
        iso3, when, number = _code(row.get(code)), _year(row.get(year)), _number(row.get(value))
        if iso3 and when and number is not None:
            yield Observation(iso3, indicator, when, number)


def _wide(reader: Iterable[dict[str, str]], header: list[str]) -> Iterator[Observation]:
    years = [(h, _year(h)) for h in header]
    for row in reader:
        clean = {k.strip(): v for k, v in row.items() if k}
        indicator = (clean.get("Indicator Code") or "").strip().upper()
        iso3 = _code(clean.get("Country Code"))
        if indicator not in INDICATORS or iso3 is None:
            continue
        for column, when in years:
            number = _number(clean.get(column)) if when else None
            if when and number is not None:
                yield Observation(iso3, indicator, when, number)


def _findex(reader: Iterable[dict[str, str]], header: list[str]) -> Iterator[Observation]:
    wanted = {h: FINDEX_COLUMNS[_squash(h)] for h in header if _squash(h) in FINDEX_COLUMNS}
    for row in reader:
        clean = {(k or "").strip(): v for k, v in row.items()}
        iso3, when = _code(clean.get("Country_Code")), _year(clean.get("Year"))
        if iso3 is None or when is None:
            continue
        for column, indicator in wanted.items():
            number = _number(clean.get(column))
            if number is not None:
                yield Observation(iso3, indicator, when, number)


def _pew(reader: Iterable[dict[str, str]], header: list[str]) -> Iterator[Observation]:
    columns = [(h, PEW_COLUMN.match(h)) for h in header]
    for row in reader:
        iso3 = _code(row.get("iso3"))
        if iso3 is None:
            continue
        for column, match in columns:
            number = _number(row.get(column)) if match else None
            if match and number is not None:
                yield Observation(iso3, PEW_INDICATORS[match.group(1)], int(match.group(2)), number)


def read_file(path: Path) -> Iterator[Observation]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        yield from read_handle(path.name, handle)
