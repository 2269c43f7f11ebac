"""Request and response bodies of the device API."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from canyu.releases.models import Channel
from canyu.releases.offers import Offer


class RegisterIn(BaseModel):
    product: str = Field(min_length=2, max_length=40, examples=["canyu-1s"])
    hardware_id: str = Field(min_length=1, max_length=256, description="Hashed; never stored.")
    country: str = Field(min_length=2, max_length=2, examples=["CN"])
    channel: Channel = Channel.STABLE
    model: str | None = Field(default=None, min_length=1, max_length=40)
    version: str | None = Field(default=None, min_length=1, max_length=64)


class PushOut(BaseModel):
    broker: str | None
    topic: str


class TufOut(BaseModel):
    metadata_url: str
    targets_url: str


class RegisteredOut(BaseModel):
    device_id: int
    token: str = Field(description="Shown once; send it as 'Authorization: Bearer <token>'.")
    owner_id: int | None
    push: PushOut
    tuf: TufOut
    poll_seconds: int


class CheckinIn(BaseModel):
    version: str | None = Field(default=None, min_length=1, max_length=64)


class OfferOut(BaseModel):
    target: str = Field(description="The TUF target name to fetch and verify.")
    version: str
    length: int
    sha256: str
    rollout_id: int
    rollback: bool


class CheckinOut(BaseModel):
    offer: OfferOut | None
    poll_seconds: int


class ReportIn(BaseModel):
    report_id: str = Field(
        min_length=8, max_length=64, description="Made by the device; retries reuse it."
    )
    kind: Literal["install", "crash"]
    version: str = Field(min_length=1, max_length=64)
    success: bool | None = None
    failure_code: str | None = Field(default=None, max_length=64)
    crashes: int = Field(default=0, ge=0, le=10_000)


class ReportOut(BaseModel):
    report_id: str
    accepted: bool
    duplicate: bool


class FleetRow(BaseModel):
    product: str
    channel: str
    version: str
    devices: int


@lru_cache(maxsize=256)
def checkin_answer(offer: Offer | None, poll_seconds: int) -> bytes:
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
