"""What the ASGI fast paths share with the app: one way to answer with JSON, and the same error
for the same failure (the app's handlers in canyu.app give these answers too).

A fast path (the check-in edge, the flash-sale purchase lane) answers one hot request without
FastAPI's routing and dependency solving; tests/test_fastpaths.py holds each to its route.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Receive, Scope, Send

from canyu.db import make_engine, reason, unavailable
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


# --- admission: a flood is answered at once, never queued on the pool ----------------------------

# Connections held outside requests: the check-in fast path's two on SQLite, the near lane's two
# (canyu.hotspots.api.NearReads), the gates' thread,
# the periodic jobs. Requests get the rest of the pool.
HELD_CONNECTIONS = 6


def pool_capacity(engine: Engine) -> int:
    """How many requests may use the database at once without waiting on its pool."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return max(2, pool.size() + max(pool._max_overflow, 0) - HELD_CONNECTIONS)
    return 8


def admitted(engine: Engine) -> int:
    """How many requests the app serves at once by default: no more than the pool serves, nor
    more than twice the cores. The routes' work holds the GIL; more threads at it make each
    answer slower and starve the event loop that reads the crowd (canyu bench flood: 1,000 at
    once, limit 11: p99 1.9 s; limit 4: 1.0 s, on 2 cores; docs/hardening.md)."""
    return min(pool_capacity(engine), max(4, 2 * (os.cpu_count() or 1)))


class Admission:
    """At most ``limit`` requests inside the app at once (sized to the connection pool, so none
    waits for a connection). A request that finds no room within ``wait`` seconds (0.2) is answered
    503 with Retry-After at once, instead of waiting on the pool and holding a thread for the
    pool's timeout. ``/healthz`` and static files never wait: they use no pooled connection.

    Pure ASGI, one counter per event loop: the cost is a comparison when there is room."""

    EXEMPT = ("/healthz", "/static/")

    def __init__(self, app: ASGIApp, *, limit: int, wait: float = 0.2) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room: asyncio.Semaphore | None = None
        self.shed = 0

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._room is None:  # a new loop (tests start new ones)
            self._loop, self._room = loop, asyncio.Semaphore(self.limit)
        return self._room

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        room = self._semaphore()
        if room.locked():
            try:
                await asyncio.wait_for(room.acquire(), self.wait)
            except TimeoutError:
                self.shed += 1
                await send_error(send, Unavailable.busy())
                return
        else:
            await room.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            room.release()


class HealthProbe:
    """``/healthz``'s check of the database: ``SELECT 1`` on a connection of its own (no pool)
    in a thread of its own (not the request threads), answered 503 when it takes more than
    ``timeout`` seconds. Database errors are raised as they are (the app answers an outage
    503)."""

    def __init__(self, url: str, *, timeout: float = 1.0) -> None:
        self.url = url
        self.timeout = timeout
        self._engine: Engine | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="canyu-health")

    def _ping(self) -> None:
        if self._engine is None:
            self._engine = make_engine(self.url, pooled=False)
        with self._engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    async def check(self) -> None:
        try:
            await asyncio.wait_for(
                asyncio.wrap_future(self._thread.submit(self._ping)), self.timeout
            )
        except TimeoutError:
            log.error("database unavailable, health check answered 503: no answer in time")
            raise Unavailable.database() from None

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()
