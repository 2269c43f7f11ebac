"""Request and response bodies of the hotspots API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class HotspotOut(BaseModel):
    id: int
    lat: float
    lon: float
    ssid: str
    name: str
    kind: Literal["open", "captive", "password", "passpoint"]
    free: bool
    status: str
    owned: bool = Field(description="A verified owner manages it.")
    success_rate: float = Field(description="Trust-weighted share of tries that got online.")
    success_class: Literal["unknown", "good", "fair", "poor"]
    confirmations: int
    last_confirmed_at: datetime | None
    freshness: float = Field(description="1 just confirmed, fading by half every 45 days.")
    failing: bool
    sources: list[str] = Field(default_factory=list)
    distance_m: float | None = None


class NearOut(BaseModel):
    hotspots: list[HotspotOut]


class ConfirmIn(BaseModel):
    outcome: str = Field(max_length=16, examples=["worked"], description="worked, failed, login")


class ConfirmOut(BaseModel):
    hotspot: HotspotOut
    weight: float


class SuggestIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    ssid: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    captive: bool = False


class ReviewIn(BaseModel):
    accept: bool


class ClaimIn(BaseModel):
    url: str = Field(
        max_length=500,
        description="The captive-portal page or website where you will show the code.",
    )


class VerifyIn(BaseModel):
    method: Literal["page", "dns"] = Field(
        default="page",
        description="page: fetch the claim's page; dns: read TXT records at "
        "_canyu-hotspot.<the page's host>.",
    )


class ClaimOut(BaseModel):
    id: int
    hotspot_id: int
    url: str
    code: str
    status: str
    instructions: str
    last_error: str | None


class CredentialsIn(BaseModel):
    password: str | None = Field(default=None, max_length=63)
    passpoint: str | None = Field(default=None, max_length=20_000)
    portal_url: str | None = Field(default=None, max_length=500)
    portal_api: str | None = Field(default=None, max_length=500)
    captive: bool | None = None


class ConnectOut(BaseModel):
    id: int
    artefact: dict[str, Any]


class PackOut(BaseModel):
    region: str
    version: int
    count: int
    size: int
    sha256: str
    built_at: datetime
    published: bool
    index: str = Field(description="TUF target name of the region's index in /tuf/hotspots/.")
