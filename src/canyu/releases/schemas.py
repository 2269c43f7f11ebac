"""Request and response bodies of the releases API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from canyu.db import MAX_ID
from canyu.releases.health import Thresholds
from canyu.releases.models import Channel, ProductKind

ORM = ConfigDict(from_attributes=True)


class ProductIn(BaseModel):
    key: str = Field(min_length=2, max_length=40, examples=["canyu-1s"])
    name: str = Field(min_length=1, max_length=80, examples=["canyu 1S"])
    kind: ProductKind = ProductKind.PHONE


class ProductOut(BaseModel):
    model_config = ORM
    id: int
    key: str
    name: str
    kind: str


class BuildIn(BaseModel):
    product: str = Field(min_length=2, max_length=40)
    channel: Channel = Channel.DEVELOPER
    version: str = Field(min_length=1, max_length=64, examples=["4.11.22"])
    notes: str = Field(default="", max_length=20_000)
    post_ids: list[int] = Field(default_factory=list, max_length=500)


class PayloadOut(BaseModel):
    model_config = ORM
    id: int
    filename: str
    target_name: str
    length: int
    sha256: str
    created_at: datetime


class CreditOut(BaseModel):
    reporter: str | None
    voters: list[str]
    other_voters: int


class EntryOut(BaseModel):
    post_id: int
    kind: str
    title: str
    language: str
    votes: int
    credit: CreditOut


class ChangelogOut(BaseModel):
    fixed: list[EntryOut]
    new: list[EntryOut]
    contributors: int
    text: str


class BuildOut(BaseModel):
    model_config = ORM
    id: int
    product: ProductOut
    channel: str
    version: str
    notes: str
    created_at: datetime
    released_at: datetime | None
    payloads: list[PayloadOut]


class BuildDetail(BuildOut):
    changelog: ChangelogOut


class CutIn(BaseModel):
    version: str | None = Field(default=None, min_length=1, max_length=64)
    notes: str = Field(default="", max_length=20_000)
    allow_empty: bool = False


class TrainPostOut(BaseModel):
    model_config = ORM
    id: int
    title: str
    status: str
    vote_count: int


class ThresholdsIn(BaseModel):
    min_successes: int = Field(default=Thresholds.min_successes, ge=1, le=1_000_000)
    min_coverage: float = Field(default=Thresholds.min_coverage, gt=0, le=1)
    max_failure_rate: float = Field(default=Thresholds.max_failure_rate, gt=0, lt=1)
    max_crash_rate: float = Field(default=Thresholds.max_crash_rate, gt=0, le=100)
    min_sample: int = Field(default=Thresholds.min_sample, ge=1, le=1_000_000)
    alpha: float = Field(default=Thresholds.alpha, gt=0, lt=0.5)
    feedback_min_ratio: float = Field(default=Thresholds.feedback_min_ratio, ge=1, le=1000)
    min_stage_seconds: float = Field(default=Thresholds.min_stage_seconds, ge=0, le=30 * 86400)

    def to_thresholds(self) -> Thresholds:
        return Thresholds(**self.model_dump())


class RolloutIn(BaseModel):
    build_id: int = Field(ge=1, le=MAX_ID)
    stages: list[float] = Field(default=[1, 5, 20, 50, 100], min_length=1, max_length=20)
    channels: list[Channel] | None = Field(default=None, max_length=3)
    countries: list[str] = Field(default_factory=list, max_length=250)
    device_models: list[str] = Field(default_factory=list, max_length=50)
    thresholds: ThresholdsIn = Field(default_factory=ThresholdsIn)


class ReasonIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class CountsOut(BaseModel):
    successes: int
    failures: int
    crashes: int
    feedback: int


class EventOut(BaseModel):
    model_config = ORM
    kind: str
    stage_index: int
    reason: str | None
    actor_id: int | None
    signals: dict[str, Any]
    created_at: datetime


class SampleOut(BaseModel):
    model_config = ORM
    created_at: datetime
    stage_index: int
    percent: float
    successes: int
    failures: int
    crashes: int
    feedback: int


class RolloutOut(BaseModel):
    model_config = ORM
    id: int
    build_id: int
    version: str
    product: str
    previous_build_id: int | None
    status: str
    stages: list[float]
    stage_index: int
    percent: float
    channels: list[str]
    countries: list[str]
    device_models: list[str]
    thresholds: dict[str, Any]
    reason: str | None
    auto_paused: bool
    created_at: datetime
    completed_at: datetime | None


class RolloutDetail(RolloutOut):
    counts: CountsOut
    events: list[EventOut]
    samples: list[SampleOut]


class DecisionOut(BaseModel):
    action: str
    reason: str
    signals: dict[str, Any]
    rollout: RolloutOut


class CreditPreference(BaseModel):
    opted_out: bool


# --- the device API: enrolment, check-ins, reports ------------------------------------------


class AttestationIn(BaseModel):
    signed_at: int = Field(ge=0, le=2**53, description="Unix time the device signed at.")
    signature: str = Field(
        min_length=1,
        max_length=200,
        description="Ed25519 signature (base64url) over 'canyu-register\\n<product>\\n"
        "<hardware_id>\\n<signed_at>' by the device's factory-enrolled key.",
    )


class RegisterIn(BaseModel):
    product: str = Field(min_length=2, max_length=40, examples=["canyu-1s"])
    hardware_id: str = Field(min_length=1, max_length=256, description="Hashed; never stored.")
    country: str = Field(min_length=2, max_length=2, examples=["CN"])
    channel: Channel = Channel.STABLE
    model: str | None = Field(default=None, min_length=1, max_length=40)
    version: str | None = Field(default=None, min_length=1, max_length=64)
    device_token: str | None = Field(
        default=None,
        max_length=64,
        description="A registered device's current token: proof for registering it again.",
    )
    attestation: AttestationIn | None = Field(
        default=None, description="Required for devices whose key the factory enrolled."
    )


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


class DeviceNoticeOut(BaseModel):
    id: int
    kind: str
    post_id: int | None
    text: str
    created_at: datetime


class DeviceNoticesOut(BaseModel):
    notices: list[DeviceNoticeOut]
    last_id: int = Field(description="Send it as ``after`` next time.")


class DeviceFeedbackIn(BaseModel):
    kind: Literal["bug", "idea"] = "bug"
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=10_000)
    log: str | None = Field(default=None, max_length=100_000, description="A log excerpt.")


class DeviceFeedbackOut(BaseModel):
    id: int
    title: str
    device_model: str | None
    software_build: str | None
