"""Who a device is, as pure rules: its token's format and hash, whether a token still stands,
and when a sighting is due. No database: the service and the check-in fast path both call these,
so a device is refused, or recorded as seen, by one rule whichever path answered it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import NoReturn

from canyu.errors import Unauthorized

TOKEN_PREFIX = "cyd_"  # noqa: S105 (a public prefix, not a secret)
TOKEN_PATTERN = re.compile(r"^cyd_[A-Za-z0-9_-]{43}$")
# A device is recorded as seen again at most this often (or at once when its build changed).
SEEN_EVERY = timedelta(hours=1)

# A device as a check-in reads it, a plain tuple (unpacked once per check-in): id, product_id,
# channel, country, model, hardware_hash, current_version, stale (last seen more than
# SEEN_EVERY ago), revoked.
SeenDevice = tuple[int, int, str, str, str, str, str | None, bool, bool]


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def hardware_hash(product_key: str, hardware_id: str) -> str:
    """The serial is never stored: its SHA-256 with the product, also the device's cohort key."""
    return hashlib.sha256(f"{product_key}\x1f{hardware_id}".encode()).hexdigest()


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None."""
    scheme, _, raw = (authorization or "").partition(" ")
    return raw.strip() or None if scheme.lower() == "bearer" else None


def token_digest(raw_token: str | None) -> str:
    """The hash a device is looked up by; 401 for a missing or malformed token."""
    if not raw_token:
        raise Unauthorized("Send the device token: 'Authorization: Bearer cyd_...'.")
    if not TOKEN_PATTERN.fullmatch(raw_token):
        raise Unauthorized("Malformed device token: expected 'cyd_' and 43 URL-safe characters.")
    return token_hash(raw_token)


def refuse(*, found: bool) -> NoReturn:
    """The 401 for a token that does not stand: no device holds it (``found`` false), or the
    device's token was revoked. Callers check standing inline (``device is None or revoked``),
    which keeps the check-in's happy path free of a call."""
    if not found:
        raise Unauthorized("Unknown device token; register the device again.")
    raise Unauthorized("This device token was revoked; register the device again.")


def sighting_due(*, known: str | None, current: str | None, stale: bool) -> bool:
    """Whether a check-in is written down: the device reports another build, or was last seen
    long ago. Otherwise the check-in writes nothing."""
    return current != known or stale
