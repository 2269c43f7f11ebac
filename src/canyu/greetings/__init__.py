"""Seasonal greetings: every country's festivals, friends' greetings for them, packs for phones."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> None:
    import threading

    from canyu.greetings import api, pages, scheduling, service

    app.include_router(api.router)
    app.include_router(pages.router)
    scheduling.register()
    # Every country's festival keys (about 2 s once per process), so a first greeting need not wait.
    threading.Thread(
        target=service.known_festival_keys, name="canyu-greetings-warmup", daemon=True
    ).start()
