"""Errors the services raise; the app turns each into one consistent HTTP error body.

Body shape for every error: ``{"error": {"code": "...", "message": "...", "details": ...}}``.
"""

from __future__ import annotations

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


class RateLimited(CanyuError):
    status_code = 429
    code = "rate_limited"
