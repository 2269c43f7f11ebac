"""Markets: public indicators per country and year, a three-criteria scorer ranked as of any
year and judged by history, and the team's record of opened markets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from canyu.markets import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
