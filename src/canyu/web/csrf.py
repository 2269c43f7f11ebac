"""CSRF for pages: a signed double-submit token (a cookie plus a form field or header), bound to
the browser's session: the token names a hash of the session cookie it was issued with, so one
friend's token (or one issued before signing in) is refused with another session."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from canyu.errors import Forbidden

CSRF_COOKIE = "canyu_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# The browser session's cookie (set by canyu.accounts), which tokens are bound to.
SESSION_COOKIE = "canyu_session"
_SIGNED_OUT = "-"


def _csrf_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="csrf")


def session_binding(session_cookie: str | None) -> str:
    """What a token is bound to: a hash of the session cookie (not the cookie itself)."""
    if not session_cookie:
        return _SIGNED_OUT
    return hashlib.sha256(session_cookie.encode()).hexdigest()[:32]


def issue_token(secret_key: str, session_cookie: str | None) -> str:
    """A new token for the browser holding ``session_cookie`` (None: signed out)."""
    return _csrf_serializer(secret_key).dumps(
        [secrets.token_urlsafe(16), session_binding(session_cookie)]
    )


def _bound_to_this_session(request: Request, token: str) -> bool:
    try:
        payload = _csrf_serializer(request.app.state.secret_key).loads(token)
    except BadSignature:
        return False
    if not (isinstance(payload, list) and len(payload) == 2):
        return False
    return hmac.compare_digest(
        str(payload[1]), session_binding(request.cookies.get(SESSION_COOKIE))
    )


def csrf_token(request: Request) -> str:
    """The token for this browser and session, created on first use (and anew when the session
    changed); pages put it into every form."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and _bound_to_this_session(request, existing):
        return existing
    token: str = getattr(request.state, "new_csrf_token", "")
    if not token:
        token = issue_token(request.app.state.secret_key, request.cookies.get(SESSION_COOKIE))
        request.state.new_csrf_token = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise Forbidden("The form expired or did not come from canyu; reload the page and retry.")
    if not _bound_to_this_session(request, cookie):
        raise Forbidden("Invalid CSRF token for this session; reload the page and retry.")
