"""A served canyu with phones: the app in its own process (lab.servers.Uvicorn) over a fresh
database, TUF keys and a product, friends with API tokens and phones registered to them over
HTTP. The phone benchmark and the phone's end-to-end tests both stand on it.

The lab is one machine, so every mark comes from one network: the world lowers
``min_networks`` to 1 and lifts the one-network cap (``CANYU_CALLS_*``), or no number could
ever be labelled here. Everything else is the product's defaults."""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType

import httpx
import numpy as np

from canyu import migrate
from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.client.device import Device
from canyu.db import Database, utcnow
from canyu.lab.servers import Uvicorn
from canyu.releases.settings import ReleaseSettings

PRODUCT = "canyu-1s"


@dataclass
class Friend:
    id: int
    token: str


@dataclass
class PhoneWorld:
    workdir: Path | None = None
    database_url: str | None = None
    mqtt_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="canyu-phones-")
            self.workdir = Path(self._tmp.name)
        self.home = self.workdir
        self.database_url = self.database_url or f"sqlite:///{self.home / 'world.db'}"
        self.release = ReleaseSettings(
            tuf_dir=self.home / "tuf",
            keys_dir=self.home / "keys" / "online",
            root_keys_dir=self.home / "keys" / "root",
            offer_cache_seconds=0,
        )
        self.database: Database | None = None
        self.server: Uvicorn | None = None
        self.team_token = ""
        self.team_id = 0
        self._count = 0

    def __enter__(self) -> PhoneWorld:
        from canyu.releases import service as releases
        from canyu.releases.tuf_repo import init_keys

        assert self.database_url is not None
        init_keys(self.release.keys_dir, root_keys_dir=self.release.root_keys_dir)
        migrate.upgrade(self.database_url)
        self.database = Database(self.database_url)
        with self.database.session() as session:
            team = accounts.create_user(
                session,
                email="phones-team@lab.example.com",
                password=secrets.token_urlsafe(12),
                display_name="Team",
                role=Role.TEAM,
            )
            releases.create_product(session, actor=team, key=PRODUCT, name="canyu 1S")
            _row, self.team_token = accounts.create_api_token(session, user=team, name="lab")
            self.team_id = team.id
        env = dict(os.environ)
        env.update(
            {
                "CANYU_DATABASE_URL": self.database_url,
                "CANYU_SECRET_KEY": secrets.token_urlsafe(16),
                "CANYU_RELEASE_TUF_DIR": str(self.release.tuf_dir),
                "CANYU_RELEASE_KEYS_DIR": str(self.release.keys_dir),
                "CANYU_RELEASE_ROOT_KEYS_DIR": str(self.release.root_keys_dir),
                "CANYU_RELEASE_OFFER_CACHE_SECONDS": "0",
                "CANYU_CALLS_PACK_DIR": str(self.home / "packs"),
                "CANYU_CALLS_MIN_NETWORKS": "1",
                "CANYU_CALLS_NETWORK_CAP": "100",
                "CANYU_CALLS_LOOKUP_MIN_BUCKET": "1",
                "CANYU_CALLS_LOOKUP_COUNT_CACHE_SECONDS": "0",
                "CANYU_MQTT_URL": self.mqtt_url,
                "CANYU_JOBS_ENABLED": "false",
                "CANYU_LOG_LEVEL": "WARNING",
                "CANYU_DEVICE_REGISTER_RATE": "1000000/minute",
                **self.env,
            }
        )
        self.server = Uvicorn("canyu.asgi:app", env, cwd=self.home, start_seconds=180)
        self.server.__enter__()
        self.url = self.server.url
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.server is not None:
            self.server.__exit__(kind, error, trace)
        if self.database is not None:
            self.database.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _db(self) -> Database:
        assert self.database is not None, "use the world in a with block"
        return self.database

    # --- people and phones ---------------------------------------------------------------------

    def friend(self, *, age_days: float = 400, locale: str = "en") -> Friend:
        """A friend whose account is ``age_days`` old, with an API token."""
        self._count += 1
        with self._db().session() as session:
            user = accounts.create_user(
                session,
                email=f"friend-{self._count}-{secrets.token_hex(3)}@lab.example.com",
                password=secrets.token_urlsafe(12),
                display_name=f"Friend {self._count}",
                locale=locale,
            )
            user.created_at = utcnow() - timedelta(days=age_days)
            _row, token = accounts.create_api_token(session, user=user, name="lab")
            return Friend(user.id, token)

    def phone(self, owner: Friend | None, home: Path, *, country: str = "CN") -> Device:
        """A phone registered over HTTP (owned by ``owner``), trusting the product's root."""
        device = Device(home, client=httpx.Client(timeout=30))
        device.register(
            server=self.url,
            product=PRODUCT,
            hardware_id=hashlib.sha256(str(home).encode()).hexdigest()[:16],
            country=country,
            channel="stable",
            version="1.0.0",
            owner_token=owner.token if owner else None,
        )
        return device

    def team(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.team_token}"}

    # --- what the team publishes ---------------------------------------------------------------

    def build_pack(self, region: str = "CN") -> dict[str, object]:
        response = httpx.post(f"{self.url}/api/v1/calls/packs/{region}", headers=self.team())
        response.raise_for_status()
        return dict(response.json())

    def publish_sms(self, texts: Sequence[str], labels: np.ndarray, *, language: str = "en") -> int:
        """Train and publish the phone's SMS model (with the friends' reports held)."""
        from canyu.calls import service
        from canyu.releases.publishing import TargetPublisher

        with self._db().session() as session:
            report_texts, report_labels = service.reports_for_training(session, language=language)
        published = service.publish_sms_model(
            texts=texts,
            labels=labels,
            language=language,
            publisher=TargetPublisher("calls", self.release),
            report_texts=report_texts,
            report_labels=report_labels,
        )
        return published.version

    def ship_fix(self, version: str, post_ids: Sequence[int]) -> None:
        """A build that fixes these posts, rolled out over the API to every stable phone at once
        (so the server pushes the offer)."""
        from canyu.community import service as community
        from canyu.releases import service as releases

        content = f"canyu {version}".encode()
        with self._db().session() as session:
            team = session.get(User, self.team_id)
            assert team is not None
            for post_id in post_ids:  # the team planned the fix
                community.change_status(session, actor=team, post_id=post_id, status="planned")
            build = releases.create_build(
                session,
                actor=team,
                product_key=PRODUCT,
                channel="stable",
                version=version,
                post_ids=post_ids,
            )
            releases.add_payload_bytes(
                session,
                actor=team,
                build=build,
                filename="update.zip",
                content=content,
                declared_sha256=hashlib.sha256(content).hexdigest(),
                settings=self.release,
                spool_dir=self.home / "spool",
            )
            build_id = build.id
        response = httpx.post(
            f"{self.url}/api/v1/rollouts",
            json={"build_id": build_id, "stages": [100]},
            headers=self.team(),
        )
        response.raise_for_status()
