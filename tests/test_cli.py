"""The `canyu` command: schema upgrades and creating accounts from a shell."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import unreachable_database_url
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

import canyu.models  # noqa: F401  (registers every table)
from canyu.accounts import service
from canyu.accounts.models import User
from canyu.cli import app, main
from canyu.config import get_settings
from canyu.db import Base, Database

runner = CliRunner()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """CANYU_DATABASE_URL pointing at an empty SQLite file, with the cached settings reset."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CANYU_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _users(url: str) -> list[User]:
    database = Database(url)
    try:
        with database.session() as session:
            return list(session.scalars(select(User).order_by(User.id)))
    finally:
        database.dispose()


def _user_count(url: str) -> int:
    database = Database(url)
    try:
        with database.session() as session:
            return int(session.scalar(select(func.count()).select_from(User)) or 0)
    finally:
        database.dispose()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("serve", "db", "user", "demo", "bench"):
        assert command in result.output


def test_db_upgrade_creates_the_schema(database_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "schema at head" in result.output
    database = Database(database_url)
    try:
        tables = set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_db_upgrade_takes_an_explicit_url(tmp_path: Path, database_url: str) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--database-url", other])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "other.db").exists()
    assert not (tmp_path / "cli.db").exists()


def test_user_create_reads_the_password_from_stdin(database_url: str) -> None:
    result = runner.invoke(
        app,
        ["user", "create", "--email", "Boss@Example.com", "--role", "team", "--country", "in"],
        input="a long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    assert "boss@example.com" in result.output

    [user] = _users(database_url)
    assert (user.email, user.role, user.country, user.display_name) == (
        "boss@example.com",
        "team",
        "IN",
        "Boss",
    )
    assert user.is_team
    assert "a long passphrase" not in user.password_hash
    database = Database(database_url)
    try:
        with database.session() as session:
            signed_in = service.authenticate(
                session, email="boss@example.com", password="a long passphrase"
            )
            assert signed_in.id == user.id
    finally:
        database.dispose()


def test_user_create_refuses_an_unknown_role(database_url: str) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(
        app,
        ["user", "create", "--email", "x@example.com", "--role", "owner"],
        input="a long passphrase\n",
    )
    assert result.exit_code != 0
    assert "unknown role 'owner'" in result.output
    assert "friend, team, admin" in result.output
    assert _user_count(database_url) == 0


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        ([], "short\n", "8 to 1024 characters"),
        ([], "\n", "8 to 1024 characters"),
        (["--country", "XX"], "a long passphrase\n", "Unknown country code"),
        (["--locale", "fr"], "a long passphrase\n", "Unsupported locale"),
    ],
)
def test_user_create_refuses_bad_input_and_writes_nothing(
    database_url: str, args: list[str], password: str, message: str
) -> None:
    result = runner.invoke(
        app, ["user", "create", "--email", "x@example.com", *args], input=password
    )
    assert result.exit_code != 0
    assert message in result.output.replace("\n", " ")
    assert _user_count(database_url) == 0


def test_user_create_refuses_a_taken_email(database_url: str) -> None:
    args = ["user", "create", "--email", "x@example.com"]
    assert runner.invoke(app, args, input="a long passphrase\n").exit_code == 0
    result = runner.invoke(app, [*args[:-1], "X@EXAMPLE.COM"], input="another passphrase\n")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert _user_count(database_url) == 1


def test_a_database_that_cannot_be_reached_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CANYU_DATABASE_URL", unreachable_database_url(tmp_path / "db"))
    get_settings.cache_clear()
    monkeypatch.setattr(sys, "argv", ["canyu", "release", "cut", "--product", "canyu-1s"])
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        get_settings.cache_clear()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "the database cannot be reached (unable to open database file)" in err
    assert "Traceback" not in err
