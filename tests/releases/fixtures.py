"""Shared by the releases, devices and client tests: keys and repositories in a temporary
directory, a team member, a product, builds with payloads, and the runtime a server keeps."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.accounts.models import Role, User
from canyu.db import Database
from canyu.releases import health
from canyu.releases import service as releases
from canyu.releases.models import Build, ReleaseProduct, Rollout
from canyu.releases.offers import OfferBook
from canyu.releases.runtime import STATE_KEY
from canyu.releases.settings import ReleaseSettings, get_release_settings
from canyu.releases.tuf_repo import init_keys

UserMaker = Callable[..., User]


@pytest.fixture(scope="session")
def key_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One set of keys for the whole run (generating keys is the slow part)."""
    base = tmp_path_factory.mktemp("keys")
    init_keys(base / "online", root_keys_dir=base / "root")
    return base / "online", base / "root"


@pytest.fixture
def release_settings(tmp_path: Path, key_dirs: tuple[Path, Path]) -> ReleaseSettings:
    online, root = key_dirs
    return ReleaseSettings(
        tuf_dir=tmp_path / "tuf",
        keys_dir=online,
        root_keys_dir=root,
        max_payload_bytes=64 * 1024,
        offer_cache_seconds=0.0,
        gate_min_interval_seconds=0.0,
    )


@pytest.fixture
def runtime(release_settings: ReleaseSettings) -> releases.Runtime:
    # Every change in the tests goes through a service given this runtime, which invalidates
    # the offers at once; the long TTL keeps the check-in path as it is in production.
    return releases.Runtime(settings=release_settings, offers=OfferBook(ttl=300.0))


@pytest.fixture
def release_app(
    app: FastAPI, release_settings: ReleaseSettings, runtime: releases.Runtime
) -> FastAPI:
    """The app with the test's release settings, sharing the test's runtime."""
    app.dependency_overrides[get_release_settings] = lambda: release_settings
    setattr(app.state, STATE_KEY, runtime)
    return app


@pytest.fixture
def api(release_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(release_app) as test_client:
        yield test_client


def payload_bytes(version: str) -> bytes:
    return f"canyu update {version}\n".encode() * 64


@dataclass
class Shop:
    """Builds a small release world through the services."""

    database: Database
    settings: ReleaseSettings
    runtime: releases.Runtime
    team: User

    def product(self, key: str = "canyu-1s", name: str = "canyu 1S") -> ReleaseProduct:
        with self.database.session() as s:
            return releases.create_product(s, actor=self.team, key=key, name=name)

    def build(
        self,
        version: str,
        *,
        product: str = "canyu-1s",
        channel: str = "stable",
        post_ids: tuple[int, ...] = (),
        payload: bool = True,
    ) -> Build:
        with self.database.session() as s:
            build = releases.create_build(
                s,
                actor=self.team,
                product_key=product,
                channel=channel,
                version=version,
                post_ids=post_ids,
            )
            if payload:
                content = payload_bytes(version)
                releases.add_payload_bytes(
                    s,
                    actor=self.team,
                    build=build,
                    filename="update.zip",
                    content=content,
                    declared_sha256=hashlib.sha256(content).hexdigest(),
                    settings=self.settings,
                    spool_dir=self.settings.tuf_dir.parent / "spool",
                )
            return build

    def rollout(
        self,
        build: Build,
        *,
        stages: tuple[float, ...] = (10, 50, 100),
        thresholds: health.Thresholds | None = None,
        countries: tuple[str, ...] = (),
        device_models: tuple[str, ...] = (),
        channels: tuple[str, ...] | None = None,
    ) -> Rollout:
        with self.database.session() as s:
            team = s.get(User, self.team.id)
            assert team is not None
            return releases.start_rollout(
                s,
                actor=team,
                build_id=build.id,
                stages=stages,
                thresholds=thresholds or health.Thresholds(min_successes=5, min_sample=10),
                countries=countries,
                device_models=device_models,
                channels=channels,
                runtime=self.runtime,
            )

    def evaluate(self, rollout: Rollout, now: datetime | None = None) -> health.Decision:
        with self.database.session() as s:
            return releases.evaluate(s, rollout_id=rollout.id, runtime=self.runtime, now=now)

    def reload(self, rollout: Rollout) -> Rollout:
        self.runtime.settle()  # the gates that reports triggered have run
        with self.database.session() as s:
            return releases.get_rollout(s, rollout_id=rollout.id)


@pytest.fixture
def shop(
    database: Database,
    release_settings: ReleaseSettings,
    runtime: releases.Runtime,
    make_user: UserMaker,
) -> Shop:
    return Shop(database, release_settings, runtime, make_user(Role.TEAM))


@pytest.fixture
def serve() -> Iterator[Callable[[Path], tuple[str, list[str]]]]:
    """Start a static HTTP server on a free 127.0.0.1 port; return its URL and request log."""
    servers: list[ThreadingHTTPServer] = []

    def start(directory: Path) -> tuple[str, list[str]]:
        requests: list[str] = []

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(directory)))
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
