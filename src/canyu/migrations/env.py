"""Alembic environment: the URL comes from the caller (canyu db upgrade) or CANYU_DATABASE_URL."""

from __future__ import annotations

from alembic import context

import canyu.models  # noqa: F401  (registers every table on Base.metadata)
from canyu.config import get_settings
from canyu.db import Base, make_engine
from canyu.migrate import include_object

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_offline() -> None:
    context.configure(
        url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        # Batch mode lets later migrations alter tables on SQLite too.
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            include_object=include_object(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
