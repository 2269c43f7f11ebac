"""Festival dates against references the code under test does not use.

* ``holidays``' Chinese lunisolar tables (1901-2100, compiled from the Hong Kong Observatory's
  published conversion tables) for the New Year, Dragon Boat, Mid-Autumn, Double Ninth and the
  Winter Solstice; New Year's Eve must be the day before the next New Year (so a 29-day twelfth
  month ends on the 29th and a 30-day one on the 30th) and the Lantern Festival 14 days after it.
* ``borax`` (MIT; its own lunar table, used only here) for Qixi (7/7) and Laba (12/8), which
  shift in leap-month years.
* A few dates from published calendars (cited beside them).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from borax.calendars.lunardate import LunarDate
from holidays.calendars.chinese import _ChineseLunisolar

from canyu.errors import InvalidInput
from canyu.greetings import calendar

YEARS = range(calendar.MIN_YEAR, calendar.MAX_YEAR + 1)
REFERENCE = _ChineseLunisolar()


def _table(getter_name: str, year: int) -> date:
    when, _estimated = getattr(REFERENCE, getter_name)(year)
    assert isinstance(when, date)
    return when


def _by_key(year: int) -> dict[str, date]:
    """The first date of each festival in ``year``."""
    out: dict[str, date] = {}
    for f in calendar.chinese_lunar(year):
        out.setdefault(f.key, f.date)
    return out


# Where the references disagree with the calendar by a day, each checked by hand: an event within
# minutes of midnight (Beijing time, UTC+8), or a slip in a reference table. Any other
# difference fails the test.
KNOWN = {
    # holidays' table says 02-04; borax, lunar-python and the published list of Chinese New
    # Year dates (1916: 3 February) say 02-03.
    "1916 spring_festival: 1916-02-03 != 1916-02-04",
    "1916 lantern_festival: 1916-02-17 != 1916-02-18",
    "1916 lunar_new_years_eve: 1916-02-02 != 1916-02-03",
    # The solstice fell at 00:00:01 on 23 December Beijing time (lunar-python's figure).
    "1951 winter_solstice: 1951-12-23 != 1951-12-22",
    # The new moon starting the 7th month falls near midnight; borax puts it a day later.
    "2097 qixi: 2097-08-13 != 2097-08-14",
    # The solstice is at about 19:51 UTC on 21 December, i.e. 03:51 on the 22nd in Beijing:
    # holidays' table has the UTC date.
    "2100 winter_solstice: 2100-12-22 != 2100-12-21",
}


def test_lunar_festivals_match_the_published_tables_1901_2100() -> None:
    wrong: list[str] = []
    twelfth = {29: 0, 30: 0}
    for year in YEARS:
        got = _by_key(year)
        new_year = _table("lunar_new_year_date", year)
        expected = {
            "spring_festival": new_year,
            "lantern_festival": new_year + timedelta(days=14),
            "lunar_new_years_eve": new_year - timedelta(days=1),
            "dragon_boat": _table("dragon_boat_date", year),
            "mid_autumn": _table("mid_autumn_date", year),
            "double_ninth": _table("double_ninth_date", year),
            "winter_solstice": _table("winter_solstice_date", year),
            "qixi": LunarDate(year, 7, 7).to_solar_date(),
        }
        # Laba of the lunar year that began the year before falls in January of this one; in
        # some years this lunar year's Laba falls in late December too.
        labas = {LunarDate(y, 12, 8).to_solar_date() for y in (year - 1, year)}
        got_labas = {f.date for f in calendar.chinese_lunar(year) if f.key == "laba"}
        if got_labas != {d for d in labas if d.year == year}:
            wrong.append(f"{year} laba: {sorted(got_labas)} != {sorted(labas)}")
        for key, when in expected.items():
            if got.get(key) != when:
                wrong.append(f"{year} {key}: {got.get(key)} != {when}")
        if year < calendar.MAX_YEAR:
            next_year = LunarDate(year + 1, 1, 1).to_solar_date()
            days = (next_year - LunarDate(year, 12, 1).to_solar_date()).days
            assert calendar.twelfth_month_days(year) == days, year
            twelfth[days] += 1
    assert set(wrong) == KNOWN
    # Both lengths of the twelfth month were exercised, many times.
    assert twelfth[29] > 40
    assert twelfth[30] > 40


@pytest.mark.parametrize(
    ("year", "key", "expected"),
    [
        # Leap 2nd month in 2023 (闰二月): Qixi 2023-08-22 (HKO 2023 calendar).
        (2023, "qixi", date(2023, 8, 22)),
        # Leap 6th month in 2025 (闰六月): Qixi 2025-08-29, Mid-Autumn 2025-10-06 (HKO 2025).
        (2025, "qixi", date(2025, 8, 29)),
        (2025, "mid_autumn", date(2025, 10, 6)),
        # Leap 7th month in 2006 (闰七月): Qixi is the first 7th month's 7th, 2006-07-31.
        (2006, "qixi", date(2006, 7, 31)),
        # 29-day twelfth month: 除夕 2025 is 腊月廿九, 2025-01-28; 2026 is 腊月廿九, 2026-02-16.
        (2025, "lunar_new_years_eve", date(2025, 1, 28)),
        (2026, "lunar_new_years_eve", date(2026, 2, 16)),
        # 30-day twelfth month: 除夕 2024 is 腊月三十, 2024-02-09.
        (2024, "lunar_new_years_eve", date(2024, 2, 9)),
        (2025, "laba", date(2025, 1, 7)),
        (2024, "lantern_festival", date(2024, 2, 24)),
        (2024, "winter_solstice", date(2024, 12, 21)),
    ],
)
def test_published_dates(year: int, key: str, expected: date) -> None:
    assert _by_key(year)[key] == expected


def test_new_years_eve_is_the_29th_or_the_30th() -> None:
    assert calendar.twelfth_month_days(2024) == 29  # 2025-01-28 is 腊月廿九
    assert calendar.twelfth_month_days(2023) == 30  # 2024-02-09 is 腊月三十


def test_china_2027_in_the_issue_shape() -> None:
    data = calendar.calendar_json("cn", 2027)
    assert data["country"] == "CN"
    assert data["year"] == 2027
    festivals = data["festivals"]
    assert isinstance(festivals, list)
    spring = next(f for f in festivals if f["key"] == "spring_festival")
    assert spring == {
        "date": "2027-02-06",
        "key": "spring_festival",
        "names": {"en": "Spring Festival", "zh": "春节"},
    }
    keys = [f["key"] for f in festivals]
    for key in ("lantern_festival", "qixi", "double_ninth", "laba", "lunar_new_years_eve"):
        assert key in keys
    assert len(keys) == len(set(keys))  # the three days of Spring Festival count once
    assert [f["date"] for f in festivals] == sorted(f["date"] for f in festivals)


@pytest.mark.parametrize(
    ("country", "year", "key", "expected"),
    [
        ("US", 2027, "thanksgiving", date(2027, 11, 25)),  # fourth Thursday of November
        ("US", 2026, "independence_day", date(2026, 7, 4)),
        ("IN", 2025, "diwali", date(2025, 10, 20)),  # Government of India holiday list 2025
        ("IN", 2025, "holi", date(2025, 3, 14)),
        ("ID", 2025, "eid_al_fitr", date(2025, 3, 31)),  # Indonesia's SKB 2025 (Idul Fitri)
        ("SA", 2024, "eid_al_adha", date(2024, 6, 16)),
        ("GB", 2025, "easter", date(2025, 4, 20)),
        ("GR", 2025, "easter", date(2025, 4, 20)),  # Orthodox and Western coincided in 2025
        ("GR", 2027, "easter", date(2027, 5, 2)),  # Orthodox Easter 2027
        ("SG", 2026, "spring_festival", date(2026, 2, 17)),
        ("MY", 2026, "qixi", date(2026, 8, 19)),
        ("BR", 2026, "christmas", date(2026, 12, 25)),
    ],
)
def test_other_countries(country: str, year: int, key: str, expected: date) -> None:
    dates = [f.date for f in calendar.festivals(country, year) if f.key == key]
    assert expected in dates, (country, year, key, dates)


def test_chinese_lunar_observances_only_where_kept() -> None:
    us = {f.key for f in calendar.festivals("US", 2027)}
    assert "qixi" not in us
    assert "laba" not in us


def test_every_country_has_festivals() -> None:
    codes = calendar.countries()
    assert 245 <= len(codes) <= 255
    for code in ("CN", "IN", "US", "AQ", "XK"):
        assert calendar.festivals(code, 2027), code
        assert calendar.languages(code)


@pytest.mark.parametrize("country", ["", "XX", "ZZ", "EU", "CHN", "1", "c"])
def test_unknown_countries_are_refused(country: str) -> None:
    with pytest.raises(InvalidInput, match="Unknown country"):
        calendar.festivals(country, 2027)


@pytest.mark.parametrize("year", [1900, 2101, 0, -1, 99999])
def test_years_out_of_range_are_refused(year: int) -> None:
    with pytest.raises(InvalidInput, match="out of range"):
        calendar.festivals("CN", year)


def test_key_for_shares_keys_across_countries() -> None:
    assert calendar.key_for("Chinese New Year (Spring Festival)") == "spring_festival"
    assert calendar.key_for("Chinese New Year's Eve") == "lunar_new_years_eve"
    assert calendar.key_for("Hari Raya Puasa") == "eid_al_fitr"
    assert calendar.key_for("Deepavali") == "diwali"
    assert calendar.key_for("Christmas Day") == "christmas"
    assert calendar.key_for("Martin Luther King Jr. Day") == "martin_luther_king_jr_day"
