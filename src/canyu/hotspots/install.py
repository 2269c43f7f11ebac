"""How the hotspots domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu import lifecycle
from canyu.hotspots import api, pages, scheduling


def install(app: FastAPI) -> None:
    """Routes, the near-me fast lane in front of them, and the hourly pack job."""
    app.include_router(api.router)
    app.include_router(pages.router)
    # Phones ask "what is near me" more than anything else: a thin lane in front of the app.
    reads = api.NearReads(app.state.database.engine)
    app.add_middleware(api.NearFastLane, reads=reads)
    lifecycle.on_stop(app, reads.close)
    lifecycle.schedule(app, *scheduling.JOBS)
