"""How the IoT domain joins the app: ``install(app)`` is all canyu.app calls."""

from __future__ import annotations

from fastapi import FastAPI

from canyu import lifecycle
from canyu.iot import api, pages, scheduling
from canyu.iot.ingest import TelemetryIngest
from canyu.iot.runtime import configure, runtime_for
from canyu.iot.settings import get_iot_settings
from canyu.releases.runtime import runtime_for as release_runtime


def install(app: FastAPI) -> None:
    """Routes, the runtime (publisher, broker files), the ingest when a broker account is set,
    and the periodic broker sync and telemetry retention."""
    configure(app, get_iot_settings())
    app.include_router(api.router)
    app.include_router(pages.router)
    lifecycle.schedule(app, *scheduling.JOBS)

    def start_ingest() -> None:
        runtime = runtime_for(app)
        if not runtime.settings.server_url or not runtime.settings.ingest_name:
            return
        releases = release_runtime(app)
        runtime.ingest = TelemetryIngest(
            app.state.database,
            server_url=runtime.settings.server_url,
            settings=runtime.settings,
            offers=releases.offers,
            poll_seconds=releases.settings.poll_seconds,
            name=runtime.settings.ingest_name,
        )
        runtime.ingest.start()

    def stop_ingest() -> None:
        runtime = runtime_for(app)
        if runtime.ingest is not None:
            runtime.ingest.stop()
            runtime.ingest = None

    lifecycle.on_start(app, start_ingest)
    lifecycle.on_stop(app, stop_ingest)
