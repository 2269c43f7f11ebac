"""FastAPI dependencies every domain shares: the database, the settings, a session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from canyu.config import Settings
from canyu.db import MAX_ID, Database


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with database.session() as session:
        yield session


# "function" scope commits before the response is sent: nothing is acknowledged that might not
# be stored (the default "request" scope would commit after the client already saw success).
DbSession = Annotated[Session, Depends(get_session, scope="function")]


# A row id in a route's path: bounded like the database's integer ids, so a huge one is a 422
# (or a page's 404), never a 500 from a database that cannot compare it. Every route with an
# id in its path uses it (tests/test_ids.py walks them all).
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
