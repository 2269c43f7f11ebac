"""How the devices domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu.devices import api


def install(app: FastAPI) -> None:
    app.include_router(api.router)
