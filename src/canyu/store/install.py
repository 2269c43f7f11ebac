"""How the store domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu.store import api, pages, runtime


def install(app: FastAPI) -> None:
    """Routes, the purchase fast lane in front of them, and the store's runtime (the stock
    ledger: Redis or the database)."""
    runtime.configure(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    # Flash-sale purchases skip FastAPI's routing on the hot path (see store/api.py).
    app.add_middleware(api.PurchaseFastLane)
