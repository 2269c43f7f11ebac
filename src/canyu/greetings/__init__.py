"""Seasonal greetings: every country's festivals, friends' greetings for them, packs for phones."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from canyu.greetings import api, pages, scheduling

    app.include_router(api.router)
    app.include_router(pages.router)
    scheduling.register()
