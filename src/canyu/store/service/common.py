"""Store rules: what the other parts share."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from canyu.db import utcnow
from canyu.errors import InvalidInput

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_ORDER_NUMBER = re.compile(r"^[0-9a-f]{32}$")
_FCODE = re.compile(r"^F[0-9A-Z]{15}$")
MAX_LEAD = timedelta(days=366)
MAX_STOCK = 10_000_000
MAX_QUANTITY = 10


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _text(value: str, *, field: str, maximum: int, minimum: int = 1) -> str:
    cleaned = value.strip()
    if not minimum <= len(cleaned) <= maximum or "\x00" in cleaned:
        raise InvalidInput(
            f"{field.replace('_', ' ').capitalize()} has {minimum} to {maximum} characters.",
            details={"field": field},
        )
    return cleaned
