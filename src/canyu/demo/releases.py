"""The releases part of the demo world: products, signed builds, a finished rollout, and this
week's build in rollout with devices that checked in, installed, failed and crashed.

Called by canyu.demo after the friends and posts exist; everything goes through the services, so
the TUF repositories, notifications and histories are the real ones.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.community.models import Post, Status
from canyu.db import utcnow
from canyu.devices import service as devices
from canyu.devices.identity import token_hash
from canyu.releases import health, service
from canyu.releases.models import HealthSample, ProductKind, RolloutStatus
from canyu.releases.offers import OfferBook
from canyu.releases.settings import ReleaseSettings, get_release_settings
from canyu.releases.tuf_repo import init_keys

Progress = Callable[[str, int, int], None]

PRODUCTS = (
    ("canyu 1", ProductKind.PHONE),
    ("canyu 1S", ProductKind.PHONE),
    ("canyu Note", ProductKind.PHONE),
    ("canyu Pad", ProductKind.TABLET),
    ("canyu Air Purifier", ProductKind.IOT),
)
COUNTRIES = ("CN", "IN", "ID", "MY", "SG", "PH", "US", "ES")
PREVIOUS = "4.11.18"
CURRENT = "4.11.22"
ROLLING = "canyu 1S"


@dataclass(frozen=True)
class ReleaseDemoSummary:
    products: int
    builds: int
    devices: int
    rollout_id: int
    installs: int


def product_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _ensure_keys(settings: ReleaseSettings) -> None:
    if not (settings.keys_dir / "timestamp.pem").exists():
        init_keys(settings.keys_dir, root_keys_dir=settings.root_keys_dir)


def _payload(version: str, name: str) -> bytes:
    return (f"canyu OTA {name} {version}\n" * 512).encode()


def _build(
    session: Session,
    *,
    team: User,
    key: str,
    name: str,
    version: str,
    settings: ReleaseSettings,
    posts: Sequence[int] = (),
    notes: str = "",
) -> int:
    build = service.create_build(
        session,
        actor=team,
        product_key=key,
        channel="stable",
        version=version,
        notes=notes,
        post_ids=posts,
    )
    content = _payload(version, name)
    service.add_payload_bytes(
        session,
        actor=team,
        build=build,
        filename="ota.zip",
        content=content,
        declared_sha256=hashlib.sha256(content).hexdigest(),
        settings=settings,
        spool_dir=settings.tuf_dir / ".spool",
    )
    return build.id


def add_demo_releases(
    session: Session,
    *,
    team: User,
    friends: Sequence[User],
    rng: random.Random | None = None,
    now: datetime | None = None,
    settings: ReleaseSettings | None = None,
    progress: Progress | None = None,
) -> ReleaseDemoSummary:
    """Products, builds, devices and a rollout in progress; see the module docstring."""
    rng = rng or random.Random(11)
    now = now or utcnow()
    settings = settings or get_release_settings()
    report = progress or (lambda _stage, _done, _total: None)
    _ensure_keys(settings)
    runtime = service.Runtime(settings=settings, offers=OfferBook(ttl=0.0))
    owners = list(friends)
    products = {
        name: service.create_product(
            session, actor=team, key=product_key(name), name=name, kind=kind.value
        )
        for name, kind in PRODUCTS
    }
    built = 0
    registered = 0
    tokens: dict[str, list[tuple[str, User | None]]] = {}
    for step, (name, product) in enumerate(products.items()):
        build_id = _build(
            session,
            team=team,
            key=product.key,
            name=name,
            version=PREVIOUS,
            settings=settings,
            notes="Last week's build.",
        )
        built += 1
        fleet = 40 if name == ROLLING else 12
        tokens[name] = []
        for i in range(fleet):
            owner = owners[(step * 97 + i) % len(owners)] if owners and rng.random() < 0.7 else None
            done = service.enrol_device(
                session,
                product_key=product.key,
                hardware_id=f"demo-{product.key}-{i:04d}",
                country=owner.country
                if owner is not None and owner.country in COUNTRIES
                else rng.choice(COUNTRIES),
                channel="stable",
                owner=owner,
                version="4.11.15",
            )
            tokens[name].append((done.token, owner))
            registered += 1
        rollout = service.start_rollout(
            session,
            actor=team,
            build_id=build_id,
            stages=(100,),
            runtime=runtime,
            thresholds=health.Thresholds(min_successes=5, min_sample=10),
        )
        for n, (token, _owner) in enumerate(tokens[name]):
            device = devices.authenticate(session, raw_token=token)
            if service.check_in(
                session, token_digest=token_hash(token), version=None, offers=runtime.offers
            ):
                service.report(
                    session,
                    device=device,
                    report_id=f"demo-{PREVIOUS}-{n:04d}",
                    kind="install",
                    version=PREVIOUS,
                    success=True,
                    offers=runtime.offers,
                )
        service.evaluate(session, rollout_id=rollout.id, runtime=runtime)
        report("releases", step + 1, len(products) + 1)

    # This week's build of the most popular phone: the planned posts about it, in rollout.
    rolling = products[ROLLING]
    planned = session.scalars(
        select(Post)
        .where(Post.status == Status.PLANNED.value, Post.device_model.in_([ROLLING, None]))
        .order_by(Post.vote_count.desc(), Post.id)
        .limit(8)
    ).all()
    build_id = _build(
        session,
        team=team,
        key=rolling.key,
        name=ROLLING,
        version=CURRENT,
        settings=settings,
        posts=[p.id for p in planned],
        notes="This week's build: fixes and ideas from friends.",
    )
    built += 1
    # The other planned posts wait on their product's next train.
    for post in session.scalars(
        select(Post)
        .where(Post.status == Status.PLANNED.value, Post.id.not_in([p.id for p in planned]))
        .limit(12)
    ):
        target = products.get(post.device_model or "") or rolling
        service.train_attach(session, actor=team, product_key=target.key, post_id=post.id)
    rollout = service.start_rollout(
        session,
        actor=team,
        build_id=build_id,
        stages=(5, 20, 50, 100),
        runtime=runtime,
        thresholds=health.Thresholds(min_successes=5, min_sample=20, min_stage_seconds=6 * 3600),
    )
    # Devices check in; the cohort installs (one runs out of space, one crashes).
    installs = 0
    for stage in (0, 1):
        if stage:
            # The team moves it on from 5 % (the gates would wait out the soak time); the
            # history records the move like any other.
            service.advance(session, actor=team, rollout_id=rollout.id, runtime=runtime)
        runtime.offers.invalidate()
        for n, (token, _owner) in enumerate(tokens[ROLLING]):
            device = devices.authenticate(session, raw_token=token)
            offer = service.check_in(
                session, token_digest=token_hash(token), version=None, offers=runtime.offers
            )
            if offer is None or offer.target.version != CURRENT:
                continue
            ok = installs % 9 != 4
            service.report(
                session,
                device=device,
                report_id=f"demo-{CURRENT}-{n:04d}",
                kind="install",
                version=CURRENT,
                success=ok,
                failure_code=None if ok else "E_NO_SPACE",
                offers=runtime.offers,
            )
            installs += 1
            if installs == 3:
                service.report(
                    session,
                    device=device,
                    report_id=f"demo-crash-{n:04d}",
                    kind="crash",
                    version=CURRENT,
                    crashes=1,
                    offers=runtime.offers,
                )
    # A believable history for the health chart: the last six hours, stage 1 then stage 2.
    row = service.get_rollout(session, rollout_id=rollout.id)
    row.status = RolloutStatus.ACTIVE.value
    start = now - timedelta(hours=6)
    row.created_at = start
    # The history's times match the chart's: started six hours ago, moved on three hours later.
    times = (start, start + timedelta(hours=3))
    for event, at in zip(service.rollout_events(session, rollout_id=row.id), times, strict=True):
        event.created_at = at
    session.execute(delete(HealthSample).where(HealthSample.rollout_id == row.id))
    counts = service.rollout_counts(session, rollout=row, since_resume=False)
    for step in range(13):
        share = step / 12
        session.add(
            HealthSample(
                rollout_id=row.id,
                stage_index=0 if step < 6 else 1,
                percent=5.0 if step < 6 else 20.0,
                successes=round(counts.successes * share),
                failures=round(counts.failures * share),
                crashes=round(counts.crashes * share),
                feedback=round(counts.feedback * share),
                created_at=start + timedelta(minutes=30 * step),
            )
        )
    session.flush()
    report("releases", len(products) + 1, len(products) + 1)
    return ReleaseDemoSummary(len(products), built, registered, rollout.id, installs)
