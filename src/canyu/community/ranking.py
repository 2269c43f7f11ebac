"""How posts are ordered. Pure functions, no database."""

from __future__ import annotations

import math
from datetime import UTC, datetime

# Reddit-style "hot" score that never needs recomputing as time passes: ten times the votes
# are worth the same as being this much newer. A month keeps strong old requests visible
# without letting them bury everything new.
TOP_HALF_LIFE_SECONDS = 30 * 24 * 3600
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
TRENDING_DAYS = 7


def top_score(votes: int, created_at: datetime) -> float:
    age_bonus = (created_at - _EPOCH).total_seconds() / TOP_HALF_LIFE_SECONDS
    return round(math.log10(1 + max(votes, 0)) + age_bonus, 6)
