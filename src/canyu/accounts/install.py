"""How the accounts domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu.accounts import api, pages


def install(app: FastAPI) -> None:
    app.include_router(api.router)
    app.include_router(pages.router)
