"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with CANYU_TEST_DATABASE=postgresql),
the app over it, and quick ways to make friends and team members."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import limits.storage.memory
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from canyu import migrate
from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.app import create_app
from canyu.config import Settings
from canyu.db import Base, Database

pytest_plugins = ["browser", "smtp_inbox"]

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_URL = os.environ.get(
    "CANYU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
# Periodic jobs (weekly train, pack rebuilds) would write in the background of tests.
os.environ.setdefault("CANYU_JOBS_ENABLED", "false")
PASSWORD = "correct horse battery"


class Response(Protocol):
    """What the tests read from a TestClient response (httpx or httpx2, whichever it uses)."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Any: ...
    def json(self) -> Any: ...


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """Every error has the same body: {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


@contextmanager
def app_over(url: str) -> Iterator[FastAPI]:
    """The app over the database at ``url``, reachable or not (nothing is opened until used)."""
    database = Database(url)
    try:
        yield create_app(Settings(database_url=url, secret_key="test-secret-key"), database)
    finally:
        database.dispose()


def unreachable_database_url(directory: Path) -> str:
    """A SQLite database that cannot be opened: its path is a directory (made here)."""
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory}"


def require_service(reachable: bool, what: str) -> None:
    """Skip when a local service is missing, but fail under CI, where it must be there."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{what} is not reachable and CI=true requires it")
    pytest.skip(f"{what} is not reachable on this machine")


@pytest.fixture(autouse=True)
def rate_windows_open_at_the_top_of_the_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-memory rate limiter's clock starts at the top of an hour and then runs in real time.

    limits' sliding-window counter weights the previous window's hits, so hits that straddle a
    window's edge let one more through (floor of the weighted count): by design for the product,
    but tests that count "N allowed, then 429" would fail whenever a minute turned mid-test.
    """
    top_of_the_hour = time.time() // 3600 * 3600
    started = time.monotonic()

    def limiter_time() -> float:
        return top_of_the_hour + time.monotonic() - started

    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=limiter_time))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def _postgres_reachable() -> bool:
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if os.environ.get("CANYU_TEST_DATABASE", "sqlite") == "postgresql":
        require_service(_postgres_reachable(), f"PostgreSQL at {POSTGRES_URL}")
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'canyu.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    # Every test starts from empty tables; the schema stays.
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.session() as s:
        yield s


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key")


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


UserFactory = Callable[..., User]


@pytest.fixture
def make_user(database: Database) -> UserFactory:
    password_hash = accounts.hash_password(PASSWORD)
    counter = iter(range(1, 1_000_000))

    def make(role: Role = Role.FRIEND, *, locale: str = "en", country: str = "CN") -> User:
        n = next(counter)
        with database.session() as s:
            return accounts.create_user(
                s,
                email=f"{role.value}{n}@example.com",
                password=PASSWORD,
                display_name=f"{role.value.title()} {n}",
                locale=locale,
                country=country,
                role=role,
                password_hash=password_hash,
            )

    return make


MarketOpener = Callable[..., None]


@pytest.fixture
def open_markets(database: Database) -> MarketOpener:
    """Open markets as the team would (canyu.markets): rollouts, listings and packs take only
    opened markets' countries; China, the home market, is always open."""

    def open_(*countries: str) -> None:
        from canyu.markets import service as markets

        with database.session() as session:
            opened = markets.open_iso2(session)
            for country in countries:
                if country not in opened:
                    markets.open_market(
                        session, country_code=country, opened_on=date(2014, 1, 1), note="test"
                    )

    return open_


@pytest.fixture
def auth(database: Database) -> Callable[[User], dict[str, str]]:
    """Headers that authenticate as a user through a real API token."""

    def headers(user: User) -> dict[str, str]:
        with database.session() as s:
            _token, raw = accounts.create_api_token(s, user=s.get(User, user.id) or user, name="t")
        return {"Authorization": f"Bearer {raw}"}

    return headers


REDIS_URL = os.environ.get("CANYU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MQTT_HOST = os.environ.get("CANYU_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("CANYU_TEST_MQTT_PORT", "1883"))


def _tcp_reachable(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis (database 15, emptied before and after); skips or fails like PostgreSQL."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
        reachable = True
    except redis.exceptions.ConnectionError:
        reachable = False
    require_service(reachable, f"Redis at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    """The local MQTT broker (Mosquitto) as (host, port)."""
    require_service(_tcp_reachable(MQTT_HOST, MQTT_PORT), f"MQTT broker at {MQTT_HOST}:{MQTT_PORT}")
    return MQTT_HOST, MQTT_PORT
