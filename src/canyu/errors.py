"""Errors the services raise; the app turns each into one consistent HTTP error body.

Body shape for every error: ``{"error": {"code": "...", "message": "...", "details": ...}}``.
"""

from __future__ import annotations

import json
from typing import Any


class CanyuError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(CanyuError):
    status_code = 422
    code = "invalid_input"


class Unauthorized(CanyuError):
    status_code = 401
    code = "unauthorized"


class Forbidden(CanyuError):
    status_code = 403
    code = "forbidden"


class NotFound(CanyuError):
    status_code = 404
    code = "not_found"


class Conflict(CanyuError):
    status_code = 409
    code = "conflict"


class Unavailable(CanyuError):
    """Something the request needs (the database) cannot serve right now; a retry after
    RETRY_AFTER_SECONDS may succeed. Every 503 carries that as ``Retry-After``."""

    status_code = 503
    code = "unavailable"

    @classmethod
    def database(cls) -> Unavailable:
        return cls("The database cannot be reached right now; try again in a few seconds.")

    @classmethod
    def busy(cls) -> Unavailable:
        return cls("The server is busy right now; try again in a few seconds.")


RETRY_AFTER_SECONDS = 5


def error_headers(status_code: int, *, bearer: bool = True) -> dict[str, str]:
    """The headers an error answer carries by its status: when to ask again (every 503), and
    which credentials to send (a 401, when ``bearer``: the API's, not a page's, where friends
    sign in instead). The app's handlers and the check-in fast path both answer with these."""
    if status_code == 503:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if status_code == 401 and bearer:
        return {"WWW-Authenticate": "Bearer"}
    return {}


class InternalError(CanyuError):
    """A fault on our side. The message names the request, so that its log line can be found."""

    status_code = 500
    code = "internal_error"

    @classmethod
    def for_request(cls, request_id: str) -> InternalError:
        return cls(f"Something broke on our side (request {request_id}).")


class RateLimited(CanyuError):
    status_code = 429
    code = "rate_limited"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error shape every answer uses, the app's and the fast paths' alike."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_json(exc: CanyuError) -> bytes:
    return json.dumps(error_body(exc.code, exc.message, exc.details)).encode()
