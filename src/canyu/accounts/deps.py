"""Who is asking: FastAPI dependencies for the signed-in friend, the team and the admin.

Every route states the least it needs (``MaybeUser``, ``CurrentUser``, ``TeamUser``), as
Dispatch's permission dependencies do; no route checks a role by hand.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.accounts.tokens import Links
from canyu.deps import DbSession
from canyu.errors import Unauthorized
from canyu.web import csrf
from canyu.web.csrf import CSRF_HEADER, check_csrf

SESSION_COOKIE = csrf.SESSION_COOKIE  # tokens of canyu.web.csrf are bound to it
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    accounts.require_team(user)
    return user


def mail_links(request: Request) -> Links:
    """How this server signs and addresses the links it mails."""
    return Links(request.app.state.secret_key, request.app.state.settings.base_url)


MailLinks = Annotated[Links, Depends(mail_links)]
MaybeUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
TeamUser = Annotated[User, Depends(team_user)]
