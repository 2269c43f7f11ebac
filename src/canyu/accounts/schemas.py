from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

Locale = Literal["en", "zh"]


class SignUp(BaseModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=1024)
    display_name: str = Field(min_length=1, max_length=80)
    locale: Locale = "en"
    country: str = Field(default="CN", min_length=2, max_length=2, examples=["CN", "IN"])


class TokenRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="script", min_length=1, max_length=80)


class ProfileUpdate(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    locale: Locale | None = None
    country: str | None = Field(default=None, min_length=2, max_length=2)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    locale: str
    country: str
    role: str
    created_at: datetime


class MeOut(UserOut):
    email: str
    email_verified_at: datetime | None = None


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


class NewToken(TokenOut):
    token: str = Field(description="Shown once; store it now.")
