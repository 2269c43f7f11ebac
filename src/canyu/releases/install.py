"""How the releases domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu import lifecycle
from canyu.releases import api, pages, runtime, scheduling, tuf_http
from canyu.releases.settings import get_release_settings


def install(app: FastAPI) -> None:
    """Routes (API, pages, the TUF repositories), the per-process runtime (live offers, pushes,
    settings) and the periodic jobs: the weekly train, health gates, TUF timestamps. The
    check-in fast path (canyu.releases.edge) is put in front of the app by canyu.asgi."""
    runtime.configure(app, get_release_settings())
    app.include_router(api.router)
    app.include_router(tuf_http.router)
    app.include_router(pages.router)
    lifecycle.schedule(app, *scheduling.JOBS)
