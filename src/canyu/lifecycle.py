"""What a domain's ``install(app)`` may ask of the app beyond its routes: work to do when the
server starts or stops, and periodic jobs. canyu.app runs them from its lifespan, so nothing
starts at import time and nothing is created lazily from inside a route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI

from canyu.jobs import Job


@dataclass
class Lifecycle:
    starting: list[Callable[[], None]] = field(default_factory=list)
    stopping: list[Callable[[], None]] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)


def prepare(app: FastAPI) -> Lifecycle:
    lifecycle = Lifecycle()
    app.state.lifecycle = lifecycle
    return lifecycle


def of(app: FastAPI) -> Lifecycle:
    lifecycle: Lifecycle = app.state.lifecycle
    return lifecycle


def on_start(app: FastAPI, step: Callable[[], None]) -> None:
    of(app).starting.append(step)


def on_stop(app: FastAPI, step: Callable[[], None]) -> None:
    of(app).stopping.append(step)


def schedule(app: FastAPI, *jobs: Job) -> None:
    """Periodic jobs that `canyu serve` runs (see canyu.jobs for who runs them)."""
    of(app).jobs.extend(jobs)
