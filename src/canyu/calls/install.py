"""How the calls domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu import lifecycle
from canyu.calls import api, pages, scheduling
from canyu.calls.sender import load_sender
from canyu.calls.settings import get_calls_settings


def install(app: FastAPI) -> None:
    """Routes, the settings and code sender the routes share, and the periodic jobs (rescoring,
    packs, reporters' agreement)."""
    settings = get_calls_settings()
    app.state.calls_settings = settings
    app.state.calls_sender = load_sender(settings.code_sender)
    app.include_router(api.router)
    app.include_router(pages.router)
    lifecycle.schedule(app, *scheduling.JOBS)
