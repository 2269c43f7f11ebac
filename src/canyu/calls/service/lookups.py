"""Calls rules: private lookups."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from canyu.calls import numbers
from canyu.calls.models import (
    Number,
)
from canyu.calls.settings import CallsSettings
from canyu.errors import InvalidInput

_labelled_cache: dict[str, tuple[float, int]] = {}
_cache_lock = threading.Lock()


def labelled_total(session: Session, *, max_age: float = 60.0) -> int:
    key = str(session.get_bind().engine.url)
    with _cache_lock:
        cached = _labelled_cache.get(key)
        if cached and time.monotonic() - cached[0] < max_age:
            return cached[1]
    total = int(
        session.scalar(select(func.count()).select_from(Number).where(Number.label.is_not(None)))
        or 0
    )
    with _cache_lock:
        _labelled_cache[key] = (time.monotonic(), total)
    return total


def prefix_length(session: Session, *, settings: CallsSettings, max_age: float = 60.0) -> int:
    """The longest prefix (hex characters) that still leaves ``lookup_min_bucket`` labelled
    numbers per bucket on average, within the configured bounds."""
    total = labelled_total(session, max_age=max_age)
    length = settings.lookup_prefix_min
    while (
        length < settings.lookup_prefix_max
        and total / 16 ** (length + 1) >= settings.lookup_min_bucket
    ):
        length += 1
    return length


@dataclass(frozen=True)
class BucketEntry:
    hash: str
    category: str
    reporters: int


def lookup_bucket(
    session: Session,
    *,
    prefix: str,
    settings: CallsSettings,
    decoy_key: str,
    max_age: float = 60.0,
) -> list[BucketEntry]:
    """Every labelled number whose SHA-256 starts with ``prefix``, as hashes, padded with
    decoys to ``lookup_min_bucket`` entries (see decoys). Nothing about the request is logged:
    the prefix is all the server ever learns about the number."""
    expected = prefix_length(session, settings=settings, max_age=max_age)
    cleaned = prefix.strip().lower()
    if len(cleaned) != expected or any(c not in "0123456789abcdef" for c in cleaned):
        raise InvalidInput(
            f"A lookup prefix is exactly {expected} hexadecimal characters of SHA-256(E.164).",
            details={"field": "prefix", "prefix_length": expected},
        )
    low, high = numbers.bucket_range(cleaned)
    rows = session.execute(
        select(Number.e164, Number.label, Number.marks_count).where(
            Number.hash_bucket >= low, Number.hash_bucket < high, Number.label.is_not(None)
        )
    ).all()
    entries = [
        BucketEntry(numbers.number_hash(e164), label, count) for e164, label, count in rows if label
    ]
    found = [e for e in entries if e.hash.startswith(cleaned)]
    found += decoys(cleaned, settings.lookup_min_bucket - len(found), key=decoy_key)
    return sorted(found, key=lambda e: e.hash)


_DECOY_CATEGORIES = ("fraud", "harassment", "telemarketing", "telemarketing", "delivery", "other")


def decoys(prefix: str, count: int, *, key: str) -> list[BucketEntry]:
    """``count`` made-up entries under ``prefix``, so that every bucket holds at least the
    minimum whatever the number of labelled numbers (0, 1, or a sparse bucket of many). They
    are the same for the same prefix (an HMAC with the server's key): asking twice shows no
    difference that would tell them from the real ones. A decoy's hash is no number's (a
    SHA-256 preimage), so no phone ever matches one."""
    made = []
    for i in range(max(0, count)):
        digest = hmac.new(key.encode(), f"decoy/{prefix}/{i}".encode(), hashlib.sha256).digest()
        tail = hashlib.sha256(digest).hexdigest()
        made.append(
            BucketEntry(
                hash=prefix + tail[: 64 - len(prefix)],
                category=_DECOY_CATEGORIES[digest[0] % len(_DECOY_CATEGORIES)],
                reporters=3 + digest[1] % 12,
            )
        )
    return made
