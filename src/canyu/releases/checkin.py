"""The check-in rule, pure: read the request, refuse a token that does not stand, decide whether
the sighting is written down, and choose the offer.

Two paths answer ``POST /api/v1/devices/checkin`` and both call this module and nothing else for
the decision: the documented route (canyu.releases.api, through releases.service.check_in) and
the fast path in front of the app (canyu.releases.edge), which only reads the device and writes
sightings its own faster way. tests/devices/test_edge.py holds the two to the same answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from pydantic import ValidationError

from canyu.devices import identity
from canyu.devices.identity import SeenDevice
from canyu.errors import InvalidInput
from canyu.releases import offers, versions
from canyu.releases.offers import Offer, ProductRules
from canyu.releases.schemas import CheckinIn

PATH = "/api/v1/devices/checkin"
MAX_BODY = 4096


class Decision(NamedTuple):
    """A tuple, not a dataclass: one is made per check-in, and a frozen dataclass costs more."""

    offer: Offer | None
    # The build the device runs now, and whether the check-in is written down (a sighting).
    current: str | None
    sighting_due: bool


def read_request(body: bytes, authorization: str | None) -> tuple[str, str | None]:
    """The token's hash and the build the device reports (normalised, or None); a 4xx for a
    body too large or invalid, or a token missing or malformed."""
    if len(body) > MAX_BODY:
        raise InvalidInput("The check-in body is too large.")
    version = reported_version(body)
    return identity.token_digest(identity.bearer(authorization)), version


@lru_cache(maxsize=1024)
def reported_version(body: bytes) -> str | None:
    """The build a check-in body reports, normalised, or None: the same few bodies come from
    many devices, so each is read once (a refused one is not kept)."""
    try:
        # The model's validator itself: model_validate_json only wraps it, at a cost here.
        version = CheckinIn.__pydantic_validator__.validate_json(body or b"{}").version
    except ValidationError as exc:
        raise InvalidInput(f"Invalid check-in: {exc.errors()[0]['msg']}") from None
    return versions.normalise(version) if version else None


def decide(
    device: SeenDevice | None,
    reported: str | None,
    rules_for: Callable[[int], ProductRules],
) -> Decision:
    """The answer to one check-in by ``device`` (None: no device holds the token)."""
    if device is None or device[8]:  # no device holds the token, or it was revoked
        identity.refuse(found=device is not None)
    _id, product_id, channel, country, model, hardware_hash, known, stale, _revoked = device
    current = reported or known
    offer = offers.choose(
        rules_for(product_id),
        channel=channel,
        country=country,
        model=model,
        device_key=hardware_hash,
        current_version=current,
    )
    due = identity.sighting_due(known=known, current=current, stale=stale)
    return Decision(offer, current, due)


@lru_cache(maxsize=256)
def answer(offer: Offer | None, poll_seconds: int) -> bytes:
    """A check-in's answer (CheckinOut's shape), encoded by hand: the same few answers go to
    many devices, so each is encoded once."""
    if offer is None:
        return b'{"offer":null,"poll_seconds":%d}' % poll_seconds
    return json.dumps(
        {
            "offer": {
                "target": offer.target.name,
                "version": offer.target.version,
                "length": offer.target.length,
                "sha256": offer.target.sha256,
                "rollout_id": offer.rollout_id,
                "rollback": offer.rollback,
            },
            "poll_seconds": poll_seconds,
        },
        separators=(",", ":"),
    ).encode()
