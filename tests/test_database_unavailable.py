"""When the database cannot be reached, requests get a 503 with the reason and ``Retry-After``
(the JSON error body for the API, an error page for a browser), never a 500: devices and
scripts then know to retry later. The check-in's fast path answers exactly like its route. A
database that answers but is wrong (no tables) stays a 500: that is our fault, not an outage.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import Response, app_over, assert_error, unreachable_database_url
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

from canyu import db
from canyu.releases.checkin import PATH as CHECKIN_PATH
from canyu.releases.edge import CheckinEdge
from canyu.web.templating import LOCALE_COOKIE

DEVICE = {"Authorization": "Bearer cyd_" + "A" * 43}


@pytest.fixture(params=["sqlite", "postgresql"])
def unreachable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    """The app on a database it cannot open: a SQLite path that is a directory, or a
    PostgreSQL port nothing listens on."""
    if request.param == "sqlite":
        url = unreachable_database_url(tmp_path)
    else:
        url = "postgresql://postgres@127.0.0.1:1/canyu"
    with app_over(url) as app:
        yield app


def _assert_unavailable(response: Response) -> None:
    error = assert_error(response, 503, "unavailable")
    assert "try again" in error["message"]
    assert response.headers["retry-after"] == "5"


def test_a_check_in_gets_a_503_through_the_route_and_the_fast_path(unreachable: FastAPI) -> None:
    # No lifespan: start-up work would only fail the same way.
    route = TestClient(unreachable)
    _assert_unavailable(route.post(CHECKIN_PATH, json={}, headers=DEVICE))
    fast = TestClient(CheckinEdge(unreachable))
    _assert_unavailable(fast.post(CHECKIN_PATH, json={}, headers=DEVICE))


def test_the_health_check_and_the_pages_say_the_database_is_unavailable(
    unreachable: FastAPI,
) -> None:
    client = TestClient(unreachable)
    _assert_unavailable(client.get("/healthz"))
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert "text/html" in page.headers["content-type"]
    assert "Back in a moment" in page.text
    assert "try again in a few seconds" in page.text
    client.cookies.set(LOCALE_COOKIE, "zh")
    assert "暂时连不上数据库" in client.get("/", headers={"Accept": "text/html"}).text


def test_a_database_without_its_tables_is_a_fault_not_an_outage(tmp_path: Path) -> None:
    with app_over(f"sqlite:///{tmp_path / 'never-migrated.db'}") as app:
        route = TestClient(app, raise_server_exceptions=False)
        fast = TestClient(CheckinEdge(app))
        answers = [c.post(CHECKIN_PATH, json={}, headers=DEVICE) for c in (route, fast)]
    for answer in answers:
        error = assert_error(answer, 500, "internal_error")
        assert error["message"].startswith("Something broke on our side (request ")
        assert "retry-after" not in answer.headers


def _sqlite_error(sql: str, path: str = ":memory:") -> sqlite3.Error:
    try:
        sqlite3.connect(path).execute(sql)
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("no error")


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (_sqlite_error("SELECT 1", path="/"), True),  # cannot open
        (_sqlite_error("SELECT * FROM nowhere"), False),  # a wrong statement
        (sqlite3.ProgrammingError("Cannot operate on a closed database."), False),
        (psycopg.OperationalError("connection refused"), True),
        (pg_errors.AdminShutdown("terminating connection"), True),
        (pg_errors.QueryCanceled("canceling statement due to statement timeout"), True),
        (pg_errors.UndefinedTable('relation "devices" does not exist'), False),
        (sa_exc.TimeoutError("QueuePool limit reached"), True),
        (ValueError("not a database error"), False),
    ],
)
def test_which_database_errors_are_an_outage(error: BaseException, outage: bool) -> None:
    assert db.unavailable(error) is outage
    if isinstance(error, sqlite3.Error | psycopg.Error):  # as SQLAlchemy raises them
        assert db.unavailable(sa_exc.OperationalError("SELECT 1", None, error)) is outage


def test_an_outage_is_told_without_the_statement_or_its_parameters() -> None:
    """What the logs and the command line show of an outage: the driver's message only."""
    locked = sa_exc.OperationalError(
        "INSERT INTO users (email) VALUES (?)",
        ("ann@example.com",),
        sqlite3.OperationalError("database is locked"),
    )
    assert "ann@example.com" in str(locked)  # what SQLAlchemy would print
    assert db.reason(locked) == "database is locked"
    assert db.reason(ValueError("plain")) == "plain"
