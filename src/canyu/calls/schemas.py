"""Request and response bodies of the calls API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CategoryName = str  # validated by the service, so unknown ones get a reason listing the allowed


class MarkIn(BaseModel):
    number: str = Field(max_length=64, examples=["+86 138 0013 8000"])
    category: CategoryName = Field(max_length=32, examples=["fraud"])
    region: str | None = Field(
        default=None,
        max_length=3,
        description="Region for numbers written without +country code; default: yours.",
    )


class MarkOut(BaseModel):
    number: str
    region: str
    category: str
    created_at: datetime
    updated_at: datetime
    label: str | None = Field(description="The number's public label now, if any.")


class MarksPage(BaseModel):
    total: int
    marks: list[MarkOut]


class LookupParams(BaseModel):
    prefix_length: int = Field(description="Hex characters of SHA-256(E.164) to send.")
    min_bucket: int
    hash: Literal["sha256"] = "sha256"


class BucketEntryOut(BaseModel):
    hash: str = Field(description="SHA-256 of the labelled number's E.164 form.")
    category: str
    reporters: int


class BucketOut(BaseModel):
    prefix: str
    entries: list[BucketEntryOut]


class NumberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    e164: str
    formatted: str
    region: str
    number_type: str
    label: str | None
    marks: int
    by_category: dict[str, int]
    protected: bool
    decision: str | None
    needs_review: bool
    known: bool
    score: float


class DecisionIn(BaseModel):
    decision: Literal["label", "clear", "crowd"]
    category: str | None = Field(default=None, max_length=32)


class CodeRequest(BaseModel):
    number: str = Field(max_length=64)
    region: str | None = Field(default=None, max_length=3)


class CodeSentOut(BaseModel):
    number: str
    expires_at: datetime


class CodeCheck(BaseModel):
    number: str = Field(max_length=64)
    code: str = Field(min_length=1, max_length=12)
    region: str | None = Field(default=None, max_length=3)


class VerifiedOut(BaseModel):
    number: str
    verified: bool


class AppealIn(BaseModel):
    number: str = Field(max_length=64)
    business_name: str = Field(max_length=200)
    reason: str = Field(max_length=4000)
    region: str | None = Field(default=None, max_length=3)


class AppealOut(BaseModel):
    id: int
    number: str
    business_name: str
    reason: str
    status: str
    label_at_appeal: str | None
    created_at: datetime
    decided_at: datetime | None
    note: str


class AppealDecisionIn(BaseModel):
    uphold: bool
    note: str = Field(default="", max_length=2000)


class PackOut(BaseModel):
    region: str
    version: int
    count: int
    size: int
    sha256: str
    published: bool
    deltas: dict[str, int]
    seconds: float


class SmsReportIn(BaseModel):
    """A message the phone's classifier got wrong: ``label`` is what it really is."""

    text: str = Field(min_length=1, max_length=1_000)
    label: Literal["spam", "ham"]
    language: str = Field(min_length=2, max_length=16, description="The model's, e.g. en.")
    model_version: int | None = Field(default=None, ge=0, le=2**62)


class SmsReportOut(BaseModel):
    id: int
    label: str
    language: str
