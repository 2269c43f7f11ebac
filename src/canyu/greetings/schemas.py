"""Request and response bodies of the greetings API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class FestivalNames(BaseModel):
    en: str
    zh: str


class FestivalOut(BaseModel):
    date: date
    key: str
    names: FestivalNames


class CalendarOut(BaseModel):
    country: str
    year: int
    festivals: list[FestivalOut]


class GreetingIn(BaseModel):
    festival: str = Field(max_length=64, examples=["spring_festival"])
    language: str = Field(max_length=16, examples=["zh"])
    # The service says why a text is refused (length, markup), so the bound here is loose.
    text: str = Field(max_length=2000, examples=["{name}，新春快乐，万事如意！"])


class GreetingOut(BaseModel):
    id: int
    festival: str
    language: str
    text: str
    author: str
    status: str
    votes: int
    created_at: datetime


class DecisionIn(BaseModel):
    approve: bool
    reason: str | None = Field(default=None, max_length=1000)


class CreditOut(BaseModel):
    user_id: int
    display_name: str
    shipped: int
    votes: int


class PackOut(BaseModel):
    country: str
    language: str
    version: int
    greetings: int
    size: int
    sha256: str
    published: bool
