"""How friends' confirmations become a success rate, a class, a freshness and "failing"
(no database). Counts are trust-weighted and fade exponentially, so what friends said last week
outweighs what they said last year, and a hotspot that was fixed recovers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from canyu.hotspots.pack import SuccessClass

HALF_LIFE_DAYS = 30.0
FRESH_HALF_LIFE_DAYS = 45.0
PER_HOTSPOT_HOURS = 4  # one counted confirmation per friend and hotspot in this window
PER_DAY = 40  # confirmations per friend per day
FAILING_WEIGHT = 2.0
FAILING_RATE = 0.35


def trust(*, team: bool, owner: bool, account_age_days: float) -> float:
    """A confirmation's weight: the team's count double, an owner's about their own hotspot
    half (they are not neutral), a new account little until it is a month old (so a flood of
    fresh accounts moves nothing much)."""
    if team:
        return 2.0
    base = 0.2 + 0.8 * min(1.0, max(0.0, account_age_days) / 30.0)
    return base * (0.5 if owner else 1.0)


def decay(value: float, since: datetime | None, now: datetime) -> float:
    if since is None:
        return value
    days = max(0.0, (now - since).total_seconds() / 86400.0)
    return value * math.pow(0.5, days / HALF_LIFE_DAYS)


@dataclass(frozen=True)
class Counts:
    ok: float
    fail: float
    login: float

    @property
    def total(self) -> float:
        return self.ok + self.fail + self.login

    @property
    def rate(self) -> float:
        """Laplace-smoothed share of tries that got online (with or without a login page)."""
        return (self.ok + self.login + 1.0) / (self.total + 2.0)

    @property
    def success_class(self) -> SuccessClass:
        if self.total < 0.5:
            return SuccessClass.UNKNOWN
        if self.rate >= 0.75:
            return SuccessClass.GOOD
        if self.rate >= 0.45:
            return SuccessClass.FAIR
        return SuccessClass.POOR

    @property
    def failing(self) -> bool:
        return self.fail >= FAILING_WEIGHT and self.rate < FAILING_RATE

    @property
    def needs_login(self) -> bool:
        return self.login > self.ok and self.login >= 1.0


def freshness(last_worked: datetime | None, listed: datetime, now: datetime) -> float:
    """1.0 just confirmed, halving every 45 days; hotspots nobody confirmed start at 0.5 from
    when they were listed (an open-data listing is a weaker claim than a friend online)."""
    if last_worked is None:
        days = max(0.0, (now - listed).total_seconds() / 86400.0)
        return 0.5 * math.pow(0.5, days / FRESH_HALF_LIFE_DAYS)
    days = max(0.0, (now - last_worked).total_seconds() / 86400.0)
    return math.pow(0.5, days / FRESH_HALF_LIFE_DAYS)
