"""CSRF for pages: a signed double-submit token (a cookie plus a form field or header)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from canyu.errors import Forbidden

CSRF_COOKIE = "canyu_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


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
