"""The releases domain's per-process state, kept on the FastAPI app: its copy of the live
rollouts (offers), its MQTT pusher and the release settings. Made by canyu.releases.install when
the app is built; ``configure`` makes it again with other settings (a deployment's or a test's)."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI, Request
from sqlalchemy import event
from sqlalchemy.orm import Session

from canyu.config import Settings
from canyu.db import Database
from canyu.devices.push import pusher_for
from canyu.releases import service
from canyu.releases.offers import OfferBook
from canyu.releases.settings import ReleaseSettings, get_release_settings

log = logging.getLogger("canyu.releases")
STATE_KEY = "releases"


def configure(app: FastAPI, settings: ReleaseSettings) -> service.Runtime:
    """The app's release runtime, made with these settings; the routes' settings dependency
    (``get_release_settings``) answers with the same ones."""
    app_settings: Settings = app.state.settings
    runtime = service.Runtime(
        settings=settings,
        offers=OfferBook(ttl=settings.offer_cache_seconds),
        pusher=pusher_for(app_settings.mqtt_url),
    )
    setattr(app.state, STATE_KEY, runtime)
    app.dependency_overrides[get_release_settings] = lambda: settings
    return runtime


def runtime_for(app: FastAPI) -> service.Runtime:
    runtime: service.Runtime = getattr(app.state, STATE_KEY)
    return runtime


def release_settings(app: FastAPI) -> ReleaseSettings:
    return runtime_for(app).settings


def get_runtime(request: Request) -> service.Runtime:
    return runtime_for(request.app)


def evaluate_after_commit(
    session: Session, database: Database, runtime: service.Runtime, rollout_id: int | None
) -> None:
    """Once the report is committed, run its rollout's gates in the runtime's gate thread, at
    most every ``gate_min_interval_seconds`` per rollout (never inside the request's own
    transaction, which on SQLite would wait for itself)."""
    if rollout_id is None:
        return
    now = time.monotonic()
    last = runtime.last_gate_run.get(rollout_id, float("-inf"))
    if now - last < runtime.settings.gate_min_interval_seconds:
        return
    runtime.last_gate_run[rollout_id] = now

    def submit(_committed: Session) -> None:
        runtime.gate_pool.submit(_evaluate, database, runtime, rollout_id)

    event.listen(session, "after_commit", submit, once=True)


def _evaluate(database: Database, runtime: service.Runtime, rollout_id: int) -> None:
    try:
        with database.session() as session:
            service.evaluate(session, rollout_id=rollout_id, runtime=runtime)
    except Exception:
        log.exception("health gates of rollout %s failed", rollout_id)


def evaluate_all(database: Database, runtime: service.Runtime) -> dict[int, str]:
    """Every active rollout's gates (the periodic job)."""
    with database.session() as session:
        ids = service.active_rollout_ids(session)
    outcomes: dict[int, str] = {}
    for rollout_id in ids:
        with database.session() as session:
            decision = service.evaluate(session, rollout_id=rollout_id, runtime=runtime)
        runtime.last_gate_run[rollout_id] = time.monotonic()
        outcomes[rollout_id] = decision.action.value
    return outcomes
