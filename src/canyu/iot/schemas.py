"""Request and response bodies of the IoT API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class CodeOut(BaseModel):
    code: str = Field(examples=["K7QX-4MPA"])
    expires_at: datetime
    country: str


class PairIn(BaseModel):
    code: str = Field(min_length=1, max_length=20, examples=["K7QX-4MPA"])
    product: str = Field(min_length=2, max_length=40, examples=["air-1"])
    hardware_id: str = Field(min_length=1, max_length=256)
    model: str | None = Field(default=None, max_length=40)
    version: str | None = Field(default=None, max_length=64, examples=["1.0.0"])


class MqttOut(BaseModel):
    url: str
    username: str
    password: str
    telemetry: str
    checkin: str
    commands: str


class TufOut(BaseModel):
    metadata_url: str
    targets_url: str


class PairedOut(BaseModel):
    device_id: int
    product: str
    owner_id: int | None
    mqtt: MqttOut
    tuf: TufOut


class TelemetryOut(BaseModel):
    received_at: datetime
    state: str | None
    mode: str | None
    version: str | None
    readings: dict[str, Any]


class DeviceOut(BaseModel):
    id: int
    product: str
    kind: str
    model: str
    version: str | None
    channel: str
    country: str
    last_seen: datetime | None
    paired: bool
    telemetry: TelemetryOut | None


class CommandIn(BaseModel):
    action: str = Field(min_length=1, max_length=16, examples=["power"])
    value: str = Field(min_length=1, max_length=16, examples=["on"])


class CommandOut(BaseModel):
    id: int
    action: str
    value: str
    created_at: datetime


class CountOut(BaseModel):
    value: str
    devices: int


class FleetOut(BaseModel):
    total: int
    counts: dict[str, list[CountOut]]
