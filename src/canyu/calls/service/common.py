"""Calls rules: what the other parts share."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from urllib.parse import quote

from canyu.calls import numbers
from canyu.calls.reputation import Category
from canyu.errors import CanyuError, InvalidInput

log = logging.getLogger("canyu.calls")

CATEGORIES = tuple(c.value for c in Category)
SOURCES = ("portal", "device", "import")
MAX_REASON = 2_000
MAX_BUSINESS = 120


class NotVerified(CanyuError):
    status_code = 403
    code = "not_verified"


def parse_category(value: str) -> Category:
    try:
        return Category(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown category {value!r}; use one of {', '.join(CATEGORIES)}.",
            details={"field": "category", "allowed": list(CATEGORIES)},
        ) from None


def parse_number(raw: str, region: str | None = None) -> numbers.PhoneNumber:
    if region is not None and not numbers.is_region(region):
        raise InvalidInput(
            f"Unknown region {region!r}; use an ISO 3166 alpha-2 code such as CN or IN.",
            details={"field": "region"},
        )
    try:
        return numbers.normalise(raw, region)
    except numbers.InvalidNumber as exc:
        raise InvalidInput(
            f"{exc.raw!r} is not a valid phone number: {exc.reason}.",
            details={"field": "number", "reason": exc.reason},
        ) from None


def parse_region(region: str) -> str:
    code = region.strip().upper()
    if not numbers.is_region(code) and code != numbers.NON_GEOGRAPHIC:
        raise InvalidInput(f"Unknown region {region!r}; use an ISO 3166 alpha-2 code.")
    return code


def network_id(ip: str | None, secret: str) -> str | None:
    """A keyed hash of the client's network (IPv4 /24, IPv6 /48); None if not an IP address.
    The address itself is never stored."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return hmac.new(secret.encode(), str(network).encode(), hashlib.sha256).hexdigest()[:16]


def number_path(e164: str, suffix: str = "") -> str:
    """The number's page (where an appeal's decision sends its author)."""
    return f"/calls/numbers/{quote(e164, safe='')}{suffix}"
