"""The check-in fast path: an ASGI layer that answers ``POST /api/v1/devices/checkin`` before the
request reaches FastAPI's router, and passes every other request on untouched.

Why: a check-in is one indexed read and an in-memory decision (about 0.2 ms), but the full app
stack (routing through every domain's routes, dependency solving, middlewares) costs several
times that per request. Devices check in all the time, so the hot path skips it. The decision
is canyu.releases.checkin's, the one the documented route in canyu.releases.api makes; this
layer only reads the device and writes its sightings faster (canyu.devices.lookups).

canyu.asgi wraps the app in it (``app = CheckinEdge(create_app())``), so every server has it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from canyu import fastpath
from canyu.db import Database
from canyu.devices.identity import SeenDevice
from canyu.devices.lookups import FastRegistry
from canyu.releases import checkin
from canyu.releases.checkin import MAX_BODY, PATH
from canyu.releases.offers import ProductRules
from canyu.releases.runtime import runtime_for
from canyu.releases.service import Runtime


@dataclass
class _Serving:
    """What every check-in reads, resolved at the first one: the app's database and release
    runtime do not change while it serves."""

    runtime: Runtime
    registry: FastRegistry
    poll_seconds: int


# A 200's headers by the answer's length: the answers are few (canyu.releases.checkin.answer).
_OK_HEADERS: dict[int, Sequence[tuple[bytes, bytes]]] = {}


def _ok_start(payload: bytes) -> dict[str, Any]:
    headers = _OK_HEADERS.get(len(payload))
    if headers is None:
        headers = fastpath.start(200, payload)["headers"]
        if len(_OK_HEADERS) < 64:
            _OK_HEADERS[len(payload)] = headers
    return {"type": "http.response.start", "status": 200, "headers": headers}


class CheckinEdge:
    def __init__(self, app: ASGIApp, fastapi_app: FastAPI | None = None) -> None:
        self.app = app
        # The FastAPI app whose state (database, settings, offers) the fast path shares.
        if fastapi_app is None:
            if not isinstance(app, FastAPI):
                raise TypeError("give the FastAPI app whose state the fast path shares")
            fastapi_app = app
        self.fastapi_app: FastAPI = fastapi_app
        self._serving: _Serving | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        # A check-in's body comes in one message; only a longer one is read on (one await less).
        message = await receive()
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            body += await fastpath.read_body(receive, MAX_BODY)
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
        # Awaits only PostgreSQL's lookup and a due sighting's commit; the rest is synchronous.
        try:
            digest, current = checkin.read_request(body, authorization)
            serving = self._serving or self._serving_now()
            registry = serving.registry
            if registry.postgresql:
                row = await registry.find_later(digest)
            else:
                row = registry.find(digest)
            payload, recorded = self._answer(serving, row, current)
            if recorded is not None:
                await recorded
        except Exception as exc:
            # As the app answers: 4xx for ours, 503 for an outage, else a 500 naming the request.
            await fastpath.send_error(send, fastpath.as_error(exc, where="check-in"))
            return
        await send(_ok_start(payload))
        await send({"type": "http.response.body", "body": payload})

    def _serving_now(self) -> _Serving:
        database: Database = self.fastapi_app.state.database
        runtime = runtime_for(self.fastapi_app)
        self._serving = _Serving(
            runtime=runtime,
            registry=FastRegistry(database.engine),
            poll_seconds=runtime.settings.poll_seconds,
        )
        return self._serving

    def _rules(self, product_id: int) -> ProductRules:
        serving = self._serving
        assert serving is not None
        return serving.runtime.offers.rules_for(serving.registry.sessions, product_id)

    def _answer(
        self, serving: _Serving, row: SeenDevice | None, current: str | None
    ) -> tuple[bytes, asyncio.Future[None] | None]:
        """The answer, and the commit of the device's sighting to wait for, if one is due."""
        decision = checkin.decide(row, current, self._rules)
        recorded = None
        if decision.sighting_due and row is not None:
            recorded = serving.registry.record(row[0], decision.current)
        return checkin.answer(decision.offer, serving.poll_seconds), recorded
