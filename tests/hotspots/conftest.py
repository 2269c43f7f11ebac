"""Fixtures of the hotspots tests: NYC's open data (skipped when absent), friends of a chosen
age, and the release fixtures for packs published through TUF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import UserFactory
from releases.fixtures import (  # noqa: F401  (fixtures)
    api,
    key_dirs,
    release_app,
    release_settings,
    runtime,
)
from sqlalchemy import update

from canyu.accounts.models import Role, User
from canyu.db import Database, utcnow

NYC = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "wifi"
NYC_FILE = NYC / "NYC_Wi-Fi_Hotspot_Locations.csv"

FriendFactory = Callable[..., User]


@pytest.fixture
def nyc_file() -> Path:
    if not NYC_FILE.exists():
        pytest.skip(f"NYC hotspot data absent ({NYC_FILE})")
    return NYC_FILE


@pytest.fixture
def friend(database: Database, make_user: UserFactory) -> FriendFactory:
    """A friend whose account is ``age_days`` old (trust grows over the first month)."""

    def make(age_days: float = 60.0, role: Role = Role.FRIEND) -> User:
        user = make_user(role)
        with database.session() as s:
            s.execute(
                update(User)
                .where(User.id == user.id)
                .values(created_at=utcnow() - timedelta(days=age_days))
            )
            fresh = s.get(User, user.id)
            assert fresh is not None
            s.expunge(fresh)
        return fresh

    return make
