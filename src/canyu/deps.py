"""FastAPI dependencies shared by every domain: the session, the current user, CSRF."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.config import Settings
from canyu.db import Database
from canyu.errors import Forbidden, Unauthorized

SESSION_COOKIE = "canyu_session"
CSRF_COOKIE = "canyu_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


# --- CSRF: a signed double-submit token (cookie + form field or header) ---------------------


def _csrf_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret_key, salt="csrf")


def csrf_token(request: Request) -> str:
    """The token for this browser, created on first use; pages put it into every form."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and _valid_csrf(request, existing):
        return existing
    token: str = getattr(request.state, "new_csrf_token", "")
    if not token:
        token = _csrf_serializer(request).dumps(secrets.token_urlsafe(16))
        request.state.new_csrf_token = token
    return token


def _valid_csrf(request: Request, token: str) -> bool:
    try:
        _csrf_serializer(request).loads(token)
    except BadSignature:
        return False
    return True


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise Forbidden("The form expired or did not come from canyu; reload the page and retry.")
    if not _valid_csrf(request, cookie):
        raise Forbidden("Invalid CSRF token; reload the page and retry.")


# --- who is asking ----------------------------------------------------------------------------


def optional_user(request: Request, session: DbSession) -> User | None:
    """A bearer token (scripts, devices) or a browser session cookie; None when anonymous."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        return accounts.user_for_api_token(session, raw_token=raw.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    user = accounts.user_for_web_session(session, raw_token=cookie)
    if (
        user is not None
        and request.method not in SAFE_METHODS
        and request.url.path.startswith("/api/")
    ):
        # Cookie-authenticated API calls come from our pages' scripts, which send the header.
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthorized("Sign in or send an API token.")
    return user


def team_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_team:
        raise Forbidden("Only team members can do this.")
    return user


MaybeUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
TeamUser = Annotated[User, Depends(team_user)]
