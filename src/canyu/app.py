"""Builds the ASGI app: every domain's routes, consistent errors, request logging."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from canyu import __version__, db, fastpath, jobs, lifecycle
from canyu.accounts import install as accounts
from canyu.calls import install as calls
from canyu.community import install as community
from canyu.config import Settings, get_settings
from canyu.db import Database
from canyu.devices import install as devices
from canyu.errors import CanyuError, InternalError, Unavailable, error_body, error_headers
from canyu.greetings import install as greetings
from canyu.hotspots import install as hotspots
from canyu.iot import install as iot
from canyu.logs import RequestLogMiddleware
from canyu.mail import Mailer, send_on_commit
from canyu.markets import install as markets
from canyu.portal import install as portal
from canyu.ratelimit import RateLimiter, parse_proxies
from canyu.releases import install as releases
from canyu.store import install as store
from canyu.web import docs, templating
from canyu.web import errors as web_errors
from canyu.web.security import SecurityHeaders

log = logging.getLogger("canyu")
STATIC_DIR = Path(__file__).parent / "web" / "static"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def _error_response(
    request: Request, status: int, code: str, message: str, details: object = None
) -> Response:
    if _wants_json(request):
        return JSONResponse(
            error_body(code, message, details), status_code=status, headers=error_headers(status)
        )
    response = web_errors.render_error(request, status, message)
    response.headers.update(error_headers(status, bearer=False))
    return response


def _canyu_error_response(request: Request, exc: CanyuError) -> Response:
    return _error_response(request, exc.status_code, exc.code, exc.message, exc.details)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings.database_url)
    mailer = Mailer(settings)
    send_on_commit(database.sessionmaker, mailer)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        steps = lifecycle.of(_app)
        for start in steps.starting:
            start()
        context = jobs.JobContext(database=database, settings=settings, app=_app)
        scheduler = jobs.start(context, steps.jobs)
        yield
        if scheduler is not None:
            scheduler.shutdown()
        for stop in steps.stopping:
            stop()
        mailer.close()

    app = FastAPI(
        title="canyu",
        version=__version__,
        description="Friends' feedback, weekly builds and the services on top of the phone.",
        lifespan=lifespan,
        docs_url=None,  # canyu.web.docs serves /docs from a package, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.secret_key = settings.resolved_secret_key()
    app.state.limiter = RateLimiter(settings.ratelimit_storage_url)
    app.state.trusted_proxies = parse_proxies(settings.trusted_proxies)
    app.state.mailer = mailer
    lifecycle.prepare(app)
    templating.prepare(app)

    @app.exception_handler(CanyuError)
    async def canyu_error(request: Request, exc: CanyuError) -> Response:
        return _canyu_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = details[0] if details else {"field": "", "message": "invalid"}
        if not _wants_json(request) and all(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            # A page address that cannot name anything (/posts/abc): not found, as a person
            # reads it, rather than a validation message.
            return _error_response(request, 404, "not_found", "No such page.")
        message = f"Invalid {first['field'] or 'request'}: {first['message']}"
        return _error_response(request, 422, "invalid_input", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error_response(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def database_error(request: Request, exc: Exception) -> Response:
        if not db.unavailable(exc):
            raise exc  # a fault, not an outage: the 500 below
        log.error("database unavailable, answered 503: %s", db.reason(exc))
        return _canyu_error_response(request, Unavailable.database())

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", "")
        log.exception("unhandled error id=%s", request_id)
        return _canyu_error_response(request, InternalError.for_request(request_id))

    health = fastpath.HealthProbe(database.url)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Whether this server and its database answer, without waiting on the connection
        pool or the request threads (both may be full in a burst): its own connection and
        thread, answered 503 within a second when the database does not answer."""
        await health.check()
        return {"status": "ok", "version": __version__}

    # A burst beyond what the pool serves is answered 503 at once (inside the purchase lane,
    # which the domains add below and which uses no pooled connection).
    app.add_middleware(
        fastpath.Admission,
        limit=settings.max_concurrent_requests or fastpath.admitted(database.engine),
        wait=settings.admission_wait_seconds,
    )
    lifecycle.on_stop(app, health.close)
    # The composition root: each domain adds its routes, runtime state and jobs, lowest first.
    for domain in (
        accounts,
        community,
        markets,
        devices,
        releases,
        calls,
        greetings,
        hotspots,
        store,
        iot,
        portal,
    ):
        domain.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    docs.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLogMiddleware)
    return app
