"""How the portal domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu.portal import pages


def install(app: FastAPI) -> None:
    app.include_router(pages.router)
