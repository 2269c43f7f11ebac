"""Free Wi-Fi hotspots: open data and owners' claims, friends' confirmations, near-me queries,
signed offline packs per region (H3 cell), one-tap connect artefacts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from canyu.hotspots import api, pages
    from canyu.hotspots import scheduling as _scheduling  # noqa: F401  (registers the pack job)

    app.include_router(api.router)
    app.include_router(pages.router)
    # Phones ask "what is near me" more than anything else: a thin lane in front of the app.
    app.add_middleware(api.NearFastLane)
