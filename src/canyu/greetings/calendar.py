"""Every country's festivals for a year: a pure module, no database, no HTTP.

* Public holidays come from the ``holidays`` package (MIT), in English where it has English.
* The Chinese lunar observances (Lantern Festival 元宵, Qixi 七夕, Double Ninth 重阳, Laba 腊八,
  New Year's Eve 除夕 = the last day of the twelfth lunar month, whether the 29th or the 30th,
  and the rest of the lunar year) and the Winter Solstice 冬至 come from ``lunar-python`` (MIT, a
  maintained astronomical lunisolar calendar), for the countries with Chinese communities.
* The main Islamic festivals (Ramadan, Eid al-Fitr, Eid al-Adha) come from ``holidays``' Islamic
  calendar for the countries whose public holidays keep Eid; Diwali and Holi from its Hindu
  calendar for the countries that keep them; Easter and Christmas (``dateutil``) for the
  countries whose public holidays keep Christmas or Good Friday.

Each festival has a stable ``key`` (the same festival has the same key in every country, so a
greeting written for ``spring_festival`` serves CN, SG and MY alike), a date and names in English
and Chinese. A festival that a holiday list repeats over several days counts once, on its first
day; substitute days off ("observed") are not festivals.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from canyu.errors import InvalidInput

MIN_YEAR = 1901
MAX_YEAR = 2100

# Codes in CLDR's territory list that are not ISO 3166-1 countries.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)

CHINESE = frozenset({"CN", "TW", "HK", "MO", "SG", "MY"})
HINDU = frozenset({"IN", "NP", "MU", "FJ", "GY", "SR", "TT"})
# Where Easter follows the Julian computus.
ORTHODOX = frozenset({"RU", "UA", "BY", "RS", "GR", "RO", "BG", "GE", "MD", "MK", "ME", "CY"})


@dataclass(frozen=True, order=True)
class Festival:
    date: date
    key: str
    en: str
    zh: str

    def as_json(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "key": self.key, "names": self.names}

    @property
    def names(self) -> dict[str, str]:
        return {"en": self.en, "zh": self.zh}


# key -> (English, Chinese) for festivals that many countries share.
NAMES: dict[str, tuple[str, str]] = {
    "new_year": ("New Year's Day", "元旦"),
    "spring_festival": ("Spring Festival", "春节"),
    "lunar_new_years_eve": ("Lunar New Year's Eve", "除夕"),
    "lantern_festival": ("Lantern Festival", "元宵节"),
    "qingming": ("Qingming Festival", "清明节"),
    "dragon_boat": ("Dragon Boat Festival", "端午节"),
    "qixi": ("Qixi Festival", "七夕节"),
    "mid_autumn": ("Mid-Autumn Festival", "中秋节"),
    "double_ninth": ("Double Ninth Festival", "重阳节"),
    "laba": ("Laba Festival", "腊八节"),
    "winter_solstice": ("Winter Solstice", "冬至"),
    "christmas": ("Christmas Day", "圣诞节"),
    "christmas_eve": ("Christmas Eve", "平安夜"),
    "easter": ("Easter Sunday", "复活节"),
    "good_friday": ("Good Friday", "耶稣受难日"),
    "ramadan": ("Start of Ramadan", "斋月开始"),
    "eid_al_fitr": ("Eid al-Fitr", "开斋节"),
    "eid_al_adha": ("Eid al-Adha", "古尔邦节"),
    "islamic_new_year": ("Islamic New Year", "伊斯兰新年"),
    "mawlid": ("Prophet's Birthday", "圣纪节"),
    "diwali": ("Diwali", "排灯节"),
    "holi": ("Holi", "洒红节"),
    "dussehra": ("Dussehra", "十胜节"),
    "labour_day": ("Labour Day", "劳动节"),
    "national_day": ("National Day", "国庆节"),
    "independence_day": ("Independence Day", "独立日"),
    "thanksgiving": ("Thanksgiving Day", "感恩节"),
    "valentines_day": ("Valentine's Day", "情人节"),
}

# English holiday names (lower case) -> key; first match wins.
_CANONICAL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), k)
    for p, k in (
        (r"^new year'?s day|^new year$", "new_year"),
        (r"(chinese|lunar) new year'?s eve|spring festival eve", "lunar_new_years_eve"),
        (r"chinese new year|lunar new year|spring festival|^tet\b", "spring_festival"),
        (r"tomb[- ]sweeping|qingming|ching ming", "qingming"),
        (r"dragon boat|tuen ng", "dragon_boat"),
        (r"mid-autumn|chung yeung.*|^day following the chinese mid-autumn", "mid_autumn"),
        (r"double ninth", "double_ninth"),
        (r"christmas eve", "christmas_eve"),
        (r"^christmas( day)?$|^christmas\b(?!.*(second|2nd|after|boxing))", "christmas"),
        (r"^easter( sunday)?$", "easter"),
        (r"good friday", "good_friday"),
        (r"eid al-fitr|eid ul-fitr|eid-ul-fitr|hari raya puasa|idul fitri|korite", "eid_al_fitr"),
        (
            r"eid al-adha|eid ul-adha|eid-ul-adha|hari raya haji|idul adha|bakri|tabaski",
            "eid_al_adha",
        ),
        (r"islamic new year|hijri new year|hijri year|muharram", "islamic_new_year"),
        (r"prophet'?s birthday|mawlid|milad un-nabi|maulidur", "mawlid"),
        (r"diwali|deepavali", "diwali"),
        (r"^holi\b", "holi"),
        (r"dussehra|vijaya ?dashami", "dussehra"),
        (r"^labou?r day|^may day|^international workers'? day", "labour_day"),
        (r"^national day$", "national_day"),
        (r"^independence day$", "independence_day"),
        (r"^thanksgiving( day)?$", "thanksgiving"),
    )
]
_SKIP = re.compile(r"observed|day off|substitut|bridge|in lieu|补假|调休", re.IGNORECASE)
_ESTIMATED = re.compile(r"\s*\((estimated|approximated)\)|\*", re.IGNORECASE)


def key_for(name: str) -> str:
    """The festival key of a holiday's English name: a shared key for the festivals that many
    countries keep, otherwise the name in lower-case ASCII with underscores."""
    lowered = name.strip().lower()
    for pattern, key in _CANONICAL:
        if pattern.search(lowered):
            return key
    ascii_name = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")[:48].strip("_")
    return slug


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English name, for every country (about 250)."""
    from babel import Locale

    names = Locale("en").territories
    return {
        code: str(names[code])
        for code in sorted(names)
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def parse_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in countries():
        raise InvalidInput(
            f"Unknown country {value!r}; use an ISO 3166 two-letter code such as CN, IN or US.",
            details={"field": "country"},
        )
    return code


def parse_year(value: int) -> int:
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise InvalidInput(
            f"Year {value} is out of range; festivals are known for {MIN_YEAR}-{MAX_YEAR}.",
            details={"field": "year"},
        )
    return value


@lru_cache(maxsize=512)
def country_timezone(country: str) -> str:
    """The first time zone the tz database's zone.tab lists for ``country`` (its main one), or
    UTC when none is known."""
    import zoneinfo
    from pathlib import Path

    code = country.upper()
    for base in zoneinfo.TZPATH:
        table = Path(base) / "zone.tab"
        if table.exists():
            for line in table.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) >= 3 and parts[0] == code:
                    return parts[2]
    return "UTC"


def local_today(country: str) -> date:
    """Today in the country's main time zone (a festival starts at local midnight)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(country_timezone(country))).date()


@lru_cache(maxsize=1)
def known_languages() -> frozenset[str]:
    """ISO 639 codes (two or three letters) that CLDR names or has data for."""
    from babel import Locale
    from babel.localedata import locale_identifiers

    codes = {code.split("_")[0] for code in locale_identifiers()}
    codes.update(Locale("en").languages)
    return frozenset(c for c in codes if c.isascii() and c.isalpha() and 2 <= len(c) <= 3)


@lru_cache(maxsize=512)
def languages(country: str) -> tuple[str, ...]:
    """The languages greetings are packed in for ``country``: its official languages (CLDR),
    English where it is one of them or where CLDR names none, and Chinese where there are
    Chinese communities."""
    from babel.languages import get_official_languages

    known = known_languages()
    found = [
        code
        for code in (lang.split("_")[0] for lang in get_official_languages(country, de_facto=True))
        if code in known
    ]
    if country in CHINESE:
        found.append("zh")
    if not found:
        found.append("en")
    return tuple(dict.fromkeys(found))


# --- the Chinese lunisolar calendar (lunar-python) --------------------------------------------


def _lunar(year: int, month: int, day: int) -> date:
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def twelfth_month_days(lunar_year: int) -> int:
    """29 or 30: the length of the twelfth month of ``lunar_year``."""
    from lunar_python import LunarYear

    return int(LunarYear.fromYear(lunar_year).getMonth(12).getDayCount())


@lru_cache(maxsize=256)
def chinese_lunar(year: int) -> tuple[Festival, ...]:
    """The lunar festivals (and the Winter Solstice) that fall in Gregorian ``year``."""
    from lunar_python import Solar

    found: list[Festival] = []

    def add(key: str, when: date) -> None:
        if when.year == year:
            en, zh = NAMES[key]
            found.append(Festival(when, key, en, zh))

    for lunar_year in (year - 1, year):
        add("spring_festival", _lunar(lunar_year, 1, 1))
        add("lantern_festival", _lunar(lunar_year, 1, 15))
        add("dragon_boat", _lunar(lunar_year, 5, 5))
        add("qixi", _lunar(lunar_year, 7, 7))
        add("mid_autumn", _lunar(lunar_year, 8, 15))
        add("double_ninth", _lunar(lunar_year, 9, 9))
        add("laba", _lunar(lunar_year, 12, 8))
        add("lunar_new_years_eve", _lunar(lunar_year, 12, twelfth_month_days(lunar_year)))
    for key, term, month in (("qingming", "清明", 4), ("winter_solstice", "冬至", 12)):
        table = Solar.fromYmd(year, month, 1).getLunar().getJieQiTable()
        for name, when in table.items():
            if name in (term, "DONG_ZHI") and (when.getYear(), when.getMonth()) == (year, month):
                add(key, date(year, month, when.getDay()))
    return tuple(sorted(set(found)))


# --- other calendars (holidays' Islamic and Hindu tables, dateutil's Easter) ------------------


def _islamic(year: int) -> list[Festival]:
    from holidays.calendars.islamic import _IslamicLunar

    calendar = _IslamicLunar()
    out = []
    for key, dates in (
        ("ramadan", calendar.ramadan_beginning_dates(year)),
        ("eid_al_fitr", calendar.eid_al_fitr_dates(year)),
        ("eid_al_adha", calendar.eid_al_adha_dates(year)),
    ):
        for when, _estimated in dates:
            if when.year != year:
                continue
            en, zh = NAMES[key]
            out.append(Festival(when, key, en, zh))
    return out


def _hindu(year: int) -> list[Festival]:
    from holidays.calendars.hindu import _HinduLunisolar

    calendar = _HinduLunisolar()
    out = []
    getters: tuple[tuple[str, Callable[[int], tuple[date | None, bool]]], ...] = (
        ("diwali", calendar.diwali_date),
        ("holi", calendar.holi_date),
    )
    for key, getter in getters:
        when, _estimated = getter(year)
        if when is not None and when.year == year:
            en, zh = NAMES[key]
            out.append(Festival(when, key, en, zh))
    return out


def _christian(year: int, country: str) -> list[Festival]:
    from dateutil import easter

    method = easter.EASTER_ORTHODOX if country in ORTHODOX else easter.EASTER_WESTERN
    return [
        Festival(easter.easter(year, method), "easter", *NAMES["easter"]),
        Festival(date(year, 12, 25), "christmas", *NAMES["christmas"]),
    ]


# --- public holidays (holidays) ---------------------------------------------------------------


def _holiday_names(country: str, year: int, language: str) -> dict[date, list[str]] | None:
    import holidays

    if country not in holidays.list_supported_countries():
        return None
    entity = holidays.country_holidays(country)
    supported = entity.supported_languages
    choice = next((lang for lang in (language, language.split("_")[0]) if lang in supported), None)
    if choice is None and language.startswith("en"):
        choice = next((lang for lang in supported if lang.startswith("en")), None)
    if choice is None:
        if not language.startswith("en"):
            return None
        choice = None
    with warnings.catch_warnings():
        # Some countries' lists cover a range of years only; outside it, they are just shorter.
        warnings.simplefilter("ignore", UserWarning)
        found = holidays.country_holidays(country, years=year, language=choice)
    out: dict[date, list[str]] = {}
    for when, names in sorted(found.items()):
        out[when] = [n.strip() for n in str(names).split(";") if n.strip()]
    return out


def _public(country: str, year: int) -> list[Festival]:
    english = _holiday_names(country, year, "en_US") or {}
    chinese = _holiday_names(country, year, "zh_CN")
    if chinese is None:
        chinese = _holiday_names(country, year, "zh_TW") or {}
    out = []
    for when, names in english.items():
        zh_names = chinese.get(when, [])
        for index, raw in enumerate(names):
            if _SKIP.search(raw):
                continue
            name = _ESTIMATED.sub("", raw).strip()
            key = key_for(name)
            if not key:
                continue
            en, zh = NAMES.get(key, (name, ""))
            if key not in NAMES:
                zh_name = zh_names[index] if index < len(zh_names) else ""
                zh = _ESTIMATED.sub("", zh_name).strip() if zh_name else name
            out.append(Festival(when, key, en if key in NAMES else name, zh))
    return out


def _merge(festivals: Iterable[Festival]) -> list[Festival]:
    """One festival per key and occasion: a holiday spread over several days counts on its first
    day; the same key more than 30 days later (Eid twice in a Gregorian year) counts again."""
    out: list[Festival] = []
    last: dict[str, date] = {}
    for festival in sorted(festivals):
        seen = last.get(festival.key)
        if seen is not None and (festival.date - seen) <= timedelta(days=30):
            continue
        last[festival.key] = festival.date
        out.append(festival)
    return out


@lru_cache(maxsize=1024)
def _festivals(country: str, year: int) -> tuple[Festival, ...]:
    public = _public(country, year)
    keys = {f.key for f in public}
    extra: list[Festival] = []
    if country in CHINESE:
        extra.extend(chinese_lunar(year))
    if keys & {"eid_al_fitr", "eid_al_adha"}:
        extra.extend(_islamic(year))
    if country in HINDU or keys & {"diwali", "holi"}:
        extra.extend(_hindu(year))
    if keys & {"christmas", "good_friday", "easter"}:
        extra.extend(_christian(year, country))
    if not public:  # no public holidays known: the new year at least
        extra.append(Festival(date(year, 1, 1), "new_year", *NAMES["new_year"]))
    # The country's own date of a festival wins over the generic calendar's (Indonesia keeps
    # Idul Fitri on its government's date, not Umm al-Qura's).
    near = [(f.key, f.date) for f in public]
    extra = [
        f for f in extra if not any(k == f.key and abs((d - f.date).days) <= 30 for k, d in near)
    ]
    return tuple(_merge([*public, *extra]))


def festivals(country: str, year: int) -> list[Festival]:
    """The festivals of ``country`` in Gregorian ``year``, by date. Raises InvalidInput for an
    unknown country or a year outside 1901-2100."""
    return list(_festivals(parse_country(country), parse_year(year)))


def festivals_between(country: str, start: date, end: date) -> list[Festival]:
    """Festivals of ``country`` from ``start`` to ``end`` inclusive (years within range)."""
    code = parse_country(country)
    out: list[Festival] = []
    for year in range(start.year, end.year + 1):
        if MIN_YEAR <= year <= MAX_YEAR:
            out.extend(f for f in _festivals(code, year) if start <= f.date <= end)
    return out


def calendar_json(country: str, year: int) -> dict[str, object]:
    """The issue's JSON shape: {"country", "year", "festivals": [{"date", "key", "names"}]}."""
    code = parse_country(country)
    return {
        "country": code,
        "year": year,
        "festivals": [f.as_json() for f in festivals(code, year)],
    }
