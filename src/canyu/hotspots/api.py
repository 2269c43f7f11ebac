"""JSON routes of the hotspots domain (thin: validation and auth; rules in service)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from canyu import fastpath
from canyu.accounts.deps import CurrentUser, TeamUser
from canyu.db import utcnow
from canyu.deps import DbSession, RowId
from canyu.errors import NotFound
from canyu.hotspots import service
from canyu.hotspots.deps import claim_checks
from canyu.hotspots.models import Claim, Hotspot
from canyu.hotspots.pack import SuccessClass
from canyu.hotspots.schemas import (
    ClaimIn,
    ClaimOut,
    ConfirmIn,
    ConfirmOut,
    ConnectOut,
    CredentialsIn,
    HotspotOut,
    NearOut,
    PackOut,
    ReviewIn,
    SuggestIn,
    VerifyIn,
)

router = APIRouter(prefix="/api/v1/hotspots", tags=["hotspots"])


def hotspot_fields(
    hotspot: Hotspot | service.NearRow, distance: float | None, now: datetime
) -> dict[str, Any]:
    """What the API shows of a hotspot (or a near row, which has the same attributes), in
    :class:`HotspotOut`'s order without its sources: one mapping for the near lane's JSON and
    the other routes' models."""
    counts = service.counts(hotspot, now)
    return {
        "id": hotspot.id,
        "lat": hotspot.lat,
        "lon": hotspot.lon,
        "ssid": hotspot.ssid,
        "name": hotspot.name,
        "kind": hotspot.kind,
        "free": hotspot.free,
        "status": hotspot.status,
        "owned": hotspot.owner_id is not None,
        "success_rate": round(counts.rate, 3),
        "success_class": CLASS_NAMES[hotspot.success_class],
        "confirmations": hotspot.confirmations,
        "last_confirmed_at": hotspot.last_confirmed_at,
        "freshness": round(service.freshness(hotspot, now), 3),
        "failing": hotspot.failing,
        "sources": [],
        "distance_m": None if distance is None else round(distance, 1),
    }


CLASS_NAMES = {c.value: c.name.lower() for c in SuccessClass}


def hotspot_out(session: Session, hotspot: Hotspot, *, sources: bool = False) -> HotspotOut:
    """A hotspot as the API shows it. Built without validation: every field comes from our own
    columns (a test checks the shape)."""
    fields = hotspot_fields(hotspot, None, utcnow())
    if sources:
        fields["sources"] = [
            f"{s.source} ({s.licence})" for s in service.sources(session, hotspot_id=hotspot.id)
        ]
    return HotspotOut.model_construct(**fields)


def claim_out(claim: Claim) -> ClaimOut:
    return ClaimOut(
        id=claim.id,
        hotspot_id=claim.hotspot_id,
        url=claim.url,
        code=claim.code,
        status=claim.status,
        instructions=(
            f"Show this line on {claim.url} (the captive portal page, or a file such as "
            f"/.well-known/canyu-hotspot.txt on your website), or publish it as a TXT record at "
            f"{service.TXT_LABEL}.<your website's domain>, then verify: {claim.code}"
        ),
        last_error=claim.last_error,
    )


class NearQuery(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=1000, ge=1, le=50_000)
    limit: int = Field(default=20, ge=1, le=200)
    free: bool = False
    no_login: bool = False
    min_rate: float = Field(default=0.0, ge=0, le=1)


def near_answer(connection: Session | Connection, q: NearQuery) -> bytes:
    """The one rule behind the route and its fast lane: the answer's JSON (a
    :class:`NearOut`), serialised from plain values in one call."""
    found = service.near(
        connection,
        lat=q.lat,
        lon=q.lon,
        radius_m=q.radius_m,
        limit=q.limit,
        filters=service.Filters(free_only=q.free, no_login=q.no_login, min_rate=q.min_rate),
    )
    now = utcnow()
    hotspots = [hotspot_fields(row, d, now) for d, row in found]
    return orjson.dumps({"hotspots": hotspots}, option=orjson.OPT_UTC_Z)


@router.get("/near", response_model=NearOut)
def near(session: DbSession, q: Annotated[NearQuery, Query()]) -> Response:
    """Listed hotspots within ``radius_m`` metres, nearest first (failing ones left out).
    Served by :class:`NearFastLane`; this route documents it and answers what the lane
    passes on (requests that do not validate, or that carry credentials)."""
    return Response(near_answer(session, q), media_type="application/json")


NEAR_PATH = "/api/v1/hotspots/near"


class NearReads:
    """The near lane's side of the database: two threads (the query runs in SQLite's or
    psycopg's C code while the event loop reads the next requests), each holding a connection
    of its own between requests, in autocommit: no pool checkout (with PostgreSQL's ping), no
    session, no BEGIN or ROLLBACK round trips; every pass is one statement. A connection that
    fails is dropped, and the next request opens another."""

    THREADS = 2

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(self.THREADS, thread_name_prefix="canyu-near")
        self._local = threading.local()
        self._held: list[Connection] = []
        self._lock = threading.Lock()

    async def answer(self, q: NearQuery) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._answer, q)

    def _answer(self, q: NearQuery) -> bytes:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with self._lock:
                self._held.append(connection)
            self._local.connection = connection
        try:
            return near_answer(connection, q)
        except Exception:
            self._local.connection = None
            self._drop(connection)
            raise

    def _drop(self, connection: Connection) -> None:
        with self._lock:
            if connection in self._held:
                self._held.remove(connection)
        connection.invalidate()
        connection.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        for connection in list(self._held):
            self._drop(connection)


class NearFastLane:
    """ASGI middleware for the phones' one frequent request, ``GET /api/v1/hotspots/near``:
    the same :func:`near_answer` as the route, without FastAPI's routing and dependency
    resolution (per request they cost more than the query), on :class:`NearReads`. Queries that
    do not validate, and requests with credentials, go on to the app, which answers them as
    usual."""

    def __init__(self, app: ASGIApp, *, reads: NearReads) -> None:
        self.app = app
        self.reads = reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != NEAR_PATH
            or scope["method"] != "GET"
            or any(k in (b"authorization", b"cookie") for k, _ in scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        raw = scope.get("query_string", b"").decode("latin-1")
        try:
            q = NearQuery.model_validate(dict(parse_qsl(raw, keep_blank_values=True)))
        except ValidationError:
            await self.app(scope, receive, send)
            return
        try:
            payload = await self.reads.answer(q)
        except Exception as exc:
            # As the app answers: 4xx for ours, 503 for an outage, else a 500 naming the request.
            await fastpath.send_error(send, fastpath.as_error(exc, where="near"))
            return
        await fastpath.send_json(send, 200, payload)


@router.get("/packs", response_model=list[PackOut])
def packs(session: DbSession) -> object:
    """The newest pack of each region; phones fetch them through TUF (/tuf/hotspots/)."""
    return [
        PackOut(
            region=p.region,
            version=p.version,
            count=p.count,
            size=p.size,
            sha256=p.sha256,
            built_at=p.built_at,
            published=p.published,
            index=f"{p.region}/index.json",
        )
        for p in service.packs_index(session)
    ]


@router.post("/suggestions", response_model=HotspotOut, status_code=status.HTTP_201_CREATED)
def suggest(body: SuggestIn, user: CurrentUser, session: DbSession) -> object:
    """Suggest a hotspot (place, SSID, open or captive) for the team or its owner to confirm.
    Passwords never come from friends: only a verified owner publishes one."""
    hotspot = service.suggest(
        session,
        user=user,
        lat=body.lat,
        lon=body.lon,
        ssid=body.ssid,
        name=body.name,
        captive=body.captive,
    )
    return hotspot_out(session, hotspot)


@router.get("/suggestions", response_model=list[HotspotOut])
def suggestions(_team: TeamUser, session: DbSession) -> object:
    return [hotspot_out(session, h) for h in service.suggestions(session)]


@router.post("/claims/{claim_id}/verify", response_model=ClaimOut)
def verify_claim(
    claim_id: RowId,
    request: Request,
    user: CurrentUser,
    session: DbSession,
    body: VerifyIn | None = None,
) -> object:
    """Look for the claim's code: on its page (``{"method": "page"}``, the default: the server
    fetches it) or in the TXT records of ``_canyu-hotspot.<the page's host>``
    (``{"method": "dns"}``). The first verified claim owns the hotspot."""
    try:
        claim = service.verify_claim(
            session,
            user=user,
            claim_id=claim_id,
            **claim_checks(request, dns=body is not None and body.method == "dns"),
        )
    except Exception:
        session.commit()  # keep the attempt count and the reason
        raise
    return claim_out(claim)


@router.get("/claims/{claim_id}", response_model=ClaimOut)
def get_claim(claim_id: RowId, user: CurrentUser, session: DbSession) -> object:
    return claim_out(service.get_claim(session, user=user, claim_id=claim_id))


@router.get("/{hotspot_id}", response_model=HotspotOut)
def get_hotspot(hotspot_id: RowId, session: DbSession) -> object:
    hotspot = service.get(session, hotspot_id=hotspot_id)
    if hotspot.status == "rejected":
        raise NotFound(f"No hotspot {hotspot_id}.")
    return hotspot_out(session, hotspot, sources=True)


@router.get("/{hotspot_id}/connect", response_model=ConnectOut)
def connect(hotspot_id: RowId, _user: CurrentUser, session: DbSession) -> object:
    """How to join: a WIFI: QR payload and an Android suggestion (open, captive or with the
    owner's password), or the owner's Passpoint profile; captive ones add the portal."""
    hotspot = service.get(session, hotspot_id=hotspot_id)
    if hotspot.status != "active":
        raise NotFound(f"No hotspot {hotspot_id}.")
    return ConnectOut(id=hotspot.id, artefact=service.artefact(hotspot))


@router.post("/{hotspot_id}/confirmations", response_model=ConfirmOut, status_code=201)
def confirm(hotspot_id: RowId, body: ConfirmIn, user: CurrentUser, session: DbSession) -> object:
    """After a try: ``worked``, ``failed`` or ``login`` (worked after a login page)."""
    row = service.confirm(session, user=user, hotspot_id=hotspot_id, outcome=body.outcome)
    return ConfirmOut(
        hotspot=hotspot_out(session, service.get(session, hotspot_id=hotspot_id)),
        weight=row.weight,
    )


@router.post("/{hotspot_id}/review", response_model=HotspotOut)
def review(hotspot_id: RowId, body: ReviewIn, team: TeamUser, session: DbSession) -> object:
    hotspot = service.review(session, actor=team, hotspot_id=hotspot_id, accept=body.accept)
    return hotspot_out(session, hotspot)


@router.post("/{hotspot_id}/claims", response_model=ClaimOut, status_code=201)
def claim(hotspot_id: RowId, body: ClaimIn, user: CurrentUser, session: DbSession) -> object:
    """Start an owner's claim: the answer carries the code to show on the portal or website."""
    return claim_out(service.claim(session, user=user, hotspot_id=hotspot_id, url=body.url))


@router.put("/{hotspot_id}/credentials", response_model=HotspotOut)
def credentials(
    hotspot_id: RowId, body: CredentialsIn, user: CurrentUser, session: DbSession
) -> object:
    """The verified owner publishes a WPA2 password, a Passpoint profile or a portal."""
    hotspot = service.set_credentials(
        session,
        user=user,
        hotspot_id=hotspot_id,
        password=body.password,
        passpoint=body.passpoint,
        portal_url=body.portal_url,
        portal_api=body.portal_api,
        captive=body.captive,
    )
    return hotspot_out(session, hotspot)
