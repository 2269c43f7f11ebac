"""Alembic migrations build the schema the models describe, on SQLite and on PostgreSQL, and
can be taken down to nothing and built again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import POSTGRES_URL, require_service
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import ReflectedIndex
from sqlalchemy.exc import OperationalError

import canyu.models  # noqa: F401  (registers every table)
from canyu import migrate
from canyu.db import Base, make_engine

MIGRATION_SCHEMA = "canyu_migration_test"
MODEL_TABLES = set(Base.metadata.tables)


def _postgres_url() -> Iterator[str]:
    """A URL whose connections work inside a schema of their own, dropped afterwards; the
    shared test database's ``public`` schema is left alone."""
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {MIGRATION_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {MIGRATION_SCHEMA}"))
    except OperationalError:
        admin.dispose()
        require_service(False, f"PostgreSQL at {POSTGRES_URL}")
        raise
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={MIGRATION_SCHEMA}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {MIGRATION_SCHEMA} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        yield from _postgres_url()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _indexes(url: str, table: str) -> dict[str | None, ReflectedIndex]:
    engine = make_engine(url)
    try:
        return {index["name"]: index for index in inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_object": migrate.include_object(connection.dialect.name),
                },
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _heads(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def _script_heads(url: str) -> set[str]:
    """Every domain keeps its own branch; the schema is complete when all heads are applied."""
    return set(ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads())


def test_upgrade_builds_the_models_schema_on_an_empty_database(empty_database: str) -> None:
    assert _tables(empty_database) == set()
    migrate.upgrade(empty_database)
    assert _tables(empty_database) == MODEL_TABLES | {"alembic_version"}
    assert _heads(empty_database) == _script_heads(empty_database)
    assert _differences(empty_database) == []


def test_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    assert _heads(empty_database) == set()
    migrate.upgrade(empty_database)
    assert _heads(empty_database) == _script_heads(empty_database)
    assert _tables(empty_database) == MODEL_TABLES | {"alembic_version"}
    assert _differences(empty_database) == []


def test_upgrading_twice_changes_nothing(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.upgrade(empty_database)
    assert _differences(empty_database) == []


def test_the_migrated_schema_holds_data(empty_database: str) -> None:
    """Server-side details the comparison cannot see: unique emails, cascading tokens."""
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    insert_user = text(
        "INSERT INTO users (email, password_hash, display_name, locale, country, role, created_at)"
        " VALUES (:email, 'h', 'n', 'en', 'CN', 'friend', CURRENT_TIMESTAMP)"
    )
    try:
        with engine.begin() as connection:
            connection.execute(insert_user, {"email": "a@example.com"})
        with pytest.raises(Exception, match=r"(?i)unique"), engine.begin() as connection:
            connection.execute(insert_user, {"email": "a@example.com"})
    finally:
        engine.dispose()


def test_the_token_lookup_index_is_a_hash_index_on_postgresql_only(empty_database: str) -> None:
    """The check-in's lookup index (canyu.devices.models.Device): PostgreSQL has hash indexes,
    SQLite does not and keeps using the unique constraint's."""
    migrate.upgrade(empty_database)
    indexes = _indexes(empty_database, "devices")
    if make_url(empty_database).get_backend_name() == "postgresql":
        lookup = indexes["ix_devices_token_lookup"]
        assert lookup["column_names"] == ["token_hash"]
        assert lookup["dialect_options"]["postgresql_using"] == "hash"
    else:
        assert "ix_devices_token_lookup" not in indexes
    migrate.downgrade(empty_database, "0004_devices")
    assert "ix_devices_token_lookup" not in _indexes(empty_database, "devices")
