"""Fixtures of the calls tests: the app with calls settings in a temporary directory, a
logging code sender the tests can read, friends of a chosen age, and devices."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from releases.fixtures import (  # noqa: F401  (fixtures)
    Shop,
    api,
    key_dirs,
    release_app,
    release_settings,
    runtime,
    shop,
)

from canyu.accounts.models import Role, User
from canyu.calls.sender import LoggingSender
from canyu.calls.settings import CallsSettings
from canyu.db import Database, utcnow
from canyu.releases import service as releases


@pytest.fixture
def calls_settings(tmp_path: Path) -> CallsSettings:
    return CallsSettings(
        pack_dir=tmp_path / "packs",
        lookup_count_cache_seconds=0,
        sms_model_path=tmp_path / "sms.skops",
    )


@pytest.fixture
def sender() -> LoggingSender:
    return LoggingSender()


@pytest.fixture
def calls_app(
    release_app: FastAPI,  # noqa: F811
    calls_settings: CallsSettings,
    sender: LoggingSender,
) -> FastAPI:
    release_app.state.calls_settings = calls_settings
    release_app.state.calls_sender = sender
    return release_app


@pytest.fixture
def calls_client(calls_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(calls_app) as test_client:
        yield test_client


FriendFactory = Callable[..., User]


@pytest.fixture
def friend(make_user: UserFactory, database: Database) -> FriendFactory:
    """A friend whose account is ``age_days`` old (default: a seasoned one)."""

    def make(age_days: float = 400, role: Role = Role.FRIEND, **kwargs: object) -> User:
        user = make_user(role, **kwargs)
        with database.session() as s:
            row = s.get(User, user.id)
            assert row is not None
            row.created_at = utcnow() - timedelta(days=age_days)
        user.created_at = utcnow() - timedelta(days=age_days)
        return user

    return make


DeviceFactory = Callable[[User | None], str]


@pytest.fixture
def device(shop: Shop, database: Database) -> DeviceFactory:  # noqa: F811
    """Registers a phone (owned by a friend, or nobody's); returns its device token."""
    shop.product()
    counter = iter(range(1_000_000))

    def register(owner: User | None) -> str:
        with database.session() as s:
            return releases.enrol_device(
                s,
                product_key="canyu-1s",
                hardware_id=f"calls-{next(counter)}",
                country="CN",
                channel="stable",
                owner=owner,
            ).token

    return register
