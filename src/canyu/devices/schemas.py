"""Request and response bodies of the device API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from canyu.releases.models import Channel


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
