"""Engine, sessions and the declarative base: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Ids are INTEGER columns: 32-bit on PostgreSQL. Inputs outside this range are refused with a
# 422 instead of reaching the database (which would fail with a server error).
MAX_ID = 2_147_483_647


# The ``info`` key of an index made on PostgreSQL only (declared with
# ``.ddl_if(dialect="postgresql")``): Alembic's comparison leaves it out on other databases
# (canyu.migrate.include_object).
POSTGRESQL_ONLY = "postgresql_only"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; canyu stores UTC-aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# How long a request waits for a pooled connection before it is answered 503. Requests are
# admitted only as many as the pool serves (canyu.fastpath.Admission), so this is rare.
POOL_TIMEOUT = 2.0


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """The engine for ``url``; ``pooled=False``: a connection per use (health probes)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        options: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options = {"pool_timeout": POOL_TIMEOUT} if pooled else {"poolclass": NullPool}
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, **options
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if not pooled:
        return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 2})
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=POOL_TIMEOUT
    )


# SQLite's result codes (and their extended forms, e.g. SQLITE_BUSY_SNAPSHOT) that mean the file
# cannot be used right now, as opposed to a statement that is wrong.
_SQLITE_UNAVAILABLE = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_PROTOCOL",
)


def unavailable(error: BaseException) -> bool:
    """Whether a database error means the database cannot serve right now (unreachable,
    restarting, locked, out of disk), so that the same request may succeed later, rather than
    a fault in the request or in our code. Those are answered 503, the rest stay 500."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    if isinstance(error, psycopg.OperationalError):
        # Connection failures, shutdowns, cancelled statements: never a wrong statement.
        return True
    if isinstance(error, sqlite3.Error):
        # Errors of the sqlite3 module itself (a closed connection) carry no SQLite name.
        name: str = getattr(error, "sqlite_errorname", None) or ""
        return name.startswith(_SQLITE_UNAVAILABLE)
    return False


def reason(error: BaseException) -> str:
    """A database error's own message, without the statement and parameters SQLAlchemy adds
    (they may hold personal data, which logs and terminals must not show)."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else None
    return str(orig if orig is not None else error)


class Database:
    """One engine and its session factory; the app and the CLI each hold one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
