"""When the weekly train leaves: a cron schedule in the team's time zone, minus public holidays.

The schedule itself is APScheduler's ``CronTrigger`` (the same trigger ``canyu.jobs`` runs);
holidays come from the ``holidays`` library for the team's country.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

from canyu.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TrainSchedule:
    weekday: str = "fri"
    at: time = time(17, 0)
    timezone: str = "Asia/Shanghai"
    country: str = "CN"

    def __post_init__(self) -> None:
        if self.weekday not in WEEKDAYS:
            raise InvalidInput(f"Unknown weekday {self.weekday!r}; one of {', '.join(WEEKDAYS)}.")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"Unknown time zone {self.timezone!r}.") from None
        if self.country not in holidays.list_supported_countries():
            raise InvalidInput(f"No holiday calendar for country {self.country!r}.")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def trigger(self) -> CronTrigger:
        return CronTrigger(
            day_of_week=self.weekday, hour=self.at.hour, minute=self.at.minute, timezone=self.zone
        )


# The holidays library's language codes for canyu's page languages (where a country has them).
LANGUAGES = {"en": ("en_US", "en_IN", "en_GB"), "zh": ("zh_CN", "zh_TW")}


@lru_cache(maxsize=64)
def _calendar(country: str, year: int, language: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year, language=language)


def _language(country: str, locale: str | None) -> str | None:
    if locale is None:
        return None
    supported = holidays.country_holidays(country).supported_languages
    return next((code for code in LANGUAGES.get(locale, ()) if code in supported), None)


def holiday_name(country: str, day: date, locale: str | None = None) -> str | None:
    """The public holiday on ``day`` in ``country`` (named in ``locale`` when the calendar has
    that language), or None on a working day."""
    name = _calendar(country, day.year, _language(country, locale)).get(day)
    return str(name) if name else None


def upcoming(
    schedule: TrainSchedule, *, after: datetime, count: int = 8, locale: str | None = None
) -> list[tuple[datetime, str | None]]:
    """The next ``count`` train times after ``after``, each with the holiday that skips it."""
    trigger = schedule.trigger()
    result: list[tuple[datetime, str | None]] = []
    previous: datetime | None = None
    now = after.astimezone(schedule.zone)
    while len(result) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:  # pragma: no cover - a weekly cron always fires again
            break
        result.append((fire, holiday_name(schedule.country, fire.date(), locale)))
        previous = fire
        now = fire
    return result
