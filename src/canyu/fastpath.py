"""What the ASGI fast paths share with the app: one way to answer with JSON, and the same error
for the same failure (the app's handlers in canyu.app give these answers too).

A fast path (the check-in edge, the flash-sale purchase lane) answers one hot request without
FastAPI's routing and dependency solving; tests/test_fastpaths.py holds each to its route.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.types import Receive, Send

from canyu.db import reason, unavailable
from canyu.errors import CanyuError, InternalError, Unavailable, error_headers, error_json

log = logging.getLogger("canyu")

Headers = Sequence[tuple[bytes, bytes]]
JSON = (b"content-type", b"application/json")


def as_error(exc: Exception, *, where: str) -> CanyuError:
    """The error the app would answer for ``exc``: itself when it is one of ours, 503 when the
    database cannot be reached, else a 500 naming a request id that the log line also names."""
    if isinstance(exc, CanyuError):
        return exc
    if unavailable(exc):
        log.error("database unavailable, %s answered 503: %s", where, reason(exc))
        return Unavailable.database()
    request_id = uuid.uuid4().hex[:16]
    log.exception("%s failed id=%s", where, request_id, exc_info=exc)
    return InternalError.for_request(request_id)


def error_answer(exc: CanyuError) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """Status, body and headers of an API error (``Retry-After`` on a 503, ``WWW-Authenticate``
    on a 401), as the app's handlers give them."""
    headers = [(k.lower().encode(), v.encode()) for k, v in error_headers(exc.status_code).items()]
    return exc.status_code, error_json(exc), headers


def start(status: int, payload: bytes, extra: Headers = ()) -> dict[str, Any]:
    headers = [JSON, (b"content-length", b"%d" % len(payload)), *extra]
    return {"type": "http.response.start", "status": status, "headers": headers}


async def send_json(send: Send, status: int, payload: bytes, extra: Headers = ()) -> None:
    await send(start(status, payload, extra))
    await send({"type": "http.response.body", "body": payload})


async def send_error(send: Send, exc: CanyuError) -> None:
    status, payload, headers = error_answer(exc)
    await send_json(send, status, payload, headers)


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request's body, read until it ends or passes ``limit`` bytes (the caller refuses
    one that did)."""
    message = await receive()
    body: bytes = message.get("body", b"")
    while message.get("more_body", False) and len(body) <= limit:
        message = await receive()
        body += message.get("body", b"")
    return body
