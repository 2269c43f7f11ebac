"""Alembic, driven from code: `canyu db upgrade` and the tests use the same path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from canyu.config import get_settings
from canyu.db import POSTGRESQL_ONLY, Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Every domain keeps its own branch of migrations; "heads" brings all of them up."""
    command.upgrade(alembic_config(url), revision)


def open_database(url: str | None = None) -> Database:
    """The database at ``url`` (default: the configured one), its schema brought up first: what
    every command that reads or writes it starts with."""
    chosen = url or get_settings().database_url
    upgrade(chosen)
    return Database(chosen)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


def include_object(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's ``include_object`` for a database of this dialect: what the models make on
    PostgreSQL only is not expected elsewhere."""

    def include(obj: Any, _name: str | None, _type: str, _reflected: bool, _other: Any) -> bool:
        info = getattr(obj, "info", {})
        return dialect == "postgresql" or not info.get(POSTGRESQL_ONLY, False)

    return include
