"""Builds the ASGI app: every domain's routes, consistent errors, request logging."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from canyu import __version__, db, hotspots, jobs
from canyu.accounts import api as accounts_api
from canyu.accounts import pages as accounts_pages
from canyu.calls import api as calls_api
from canyu.calls import pages as calls_pages
from canyu.community import api as community_api
from canyu.community import pages as community_pages
from canyu.community.similar import SimilarPosts
from canyu.community.similarity import embedding_model
from canyu.config import Settings, get_settings
from canyu.db import Database
from canyu.devices import api as devices_api
from canyu.devices import pages as devices_pages
from canyu.errors import CanyuError, InternalError, Unavailable, error_headers
from canyu.logs import RequestLogMiddleware
from canyu.mail import Mailer, send_on_commit
from canyu.ratelimit import RateLimiter
from canyu.releases import api as releases_api
from canyu.releases import pages as releases_pages
from canyu.releases import tuf_http
from canyu.store import api as store_api
from canyu.store import pages as store_pages
from canyu.web import errors as web_errors

log = logging.getLogger("canyu")
STATIC_DIR = Path(__file__).parent / "web" / "static"


def _error_body(code: str, message: str, details: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details}}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def _error_response(
    request: Request, status: int, code: str, message: str, details: object = None
) -> Response:
    if _wants_json(request):
        return JSONResponse(
            _error_body(code, message, details), status_code=status, headers=error_headers(status)
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
    similar = SimilarPosts(settings.similarity_method)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Warm the similar-posts index without delaying start-up; queries wait for it.
        def warm() -> None:
            embedding_model()
            with database.session() as session:
                similar.catch_up(session)

        threading.Thread(target=warm, name="canyu-index-warmup", daemon=True).start()
        scheduler = jobs.start(jobs.JobContext(database=database, settings=settings, app=_app))
        yield
        if scheduler is not None:
            scheduler.shutdown()
        mailer.close()

    app = FastAPI(
        title="canyu",
        version=__version__,
        description="Friends' feedback, weekly builds and the services on top of the phone.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.secret_key = settings.resolved_secret_key()
    app.state.limiter = RateLimiter(settings.ratelimit_storage_url)
    app.state.mailer = mailer
    app.state.similar = similar

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

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        with database.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    for domain_api in (
        accounts_api,
        community_api,
        devices_api,
        releases_api,
        calls_api,
        store_api,
    ):
        app.include_router(domain_api.router)
    app.include_router(tuf_http.router)
    for domain_pages in (
        accounts_pages,
        community_pages,
        releases_pages,
        calls_pages,
        store_pages,
        devices_pages,
    ):
        app.include_router(domain_pages.router)
    hotspots.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Flash-sale purchases skip FastAPI's routing on the hot path (see store/api.py).
    app.add_middleware(store_api.PurchaseFastLane)
    app.add_middleware(RequestLogMiddleware)
    return app
