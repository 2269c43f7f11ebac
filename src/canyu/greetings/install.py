"""How the greetings domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

import threading

from fastapi import FastAPI

from canyu import lifecycle
from canyu.greetings import api, pages, scheduling, service


def _warm() -> None:
    # Every country's festival keys (about 2 s once per process), so a first greeting need not
    # wait for them.
    threading.Thread(
        target=service.known_festival_keys, name="canyu-greetings-warmup", daemon=True
    ).start()


def install(app: FastAPI) -> None:
    """Routes, the daily pack job, and warming the festival keys when the server starts."""
    app.include_router(api.router)
    app.include_router(pages.router)
    lifecycle.schedule(app, scheduling.JOB)
    lifecycle.on_start(app, _warm)
