"""Release rules: products, builds and payloads, the weekly train, changelogs, rollouts, gates.

Every function takes the session first and keyword arguments after it; none knows about HTTP.
The pure parts live beside this module: versions (ordering), cohort (who is in a stage),
health (gate decisions and their statistical tests), changelog (credits), train (schedule).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community import service as community
from canyu.community import workflow
from canyu.community.models import Post, Status
from canyu.db import utcnow
from canyu.devices.push import Message, NullPusher, Pusher, publish_after_commit, topic
from canyu.errors import CanyuError, Conflict, Forbidden, InvalidInput, NotFound
from canyu.releases import changelog as changelog_mod
from canyu.releases import health, signing, versions
from canyu.releases.models import (
    LIVE_STATUSES,
    Build,
    BuildPayload,
    BuildPost,
    Channel,
    CreditOptout,
    HealthSample,
    ProductKind,
    ReleaseProduct,
    Rollout,
    RolloutEvent,
    RolloutStatus,
    TrainItem,
)
from canyu.releases.offers import OfferBook
from canyu.releases.settings import ReleaseSettings
from canyu.releases.train import TrainSchedule, holiday_name

log = logging.getLogger("canyu.releases")

PRODUCT_KEY = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_NOTES = 20_000
MAX_REASON = 2_000
MAX_POSTS_PER_BUILD = 500
DEFAULT_STAGES = (1.0, 5.0, 20.0, 50.0, 100.0)
SAMPLE_EVERY = timedelta(seconds=2)
CHUNK = 1024 * 1024


class PayloadTooLarge(CanyuError):
    status_code = 413
    code = "payload_too_large"


@dataclass
class Runtime:
    """What a server process keeps beside the database: its copy of the live rollouts, its way
    to push to devices, the release settings, and when each rollout's gates last ran."""

    settings: ReleaseSettings = field(default_factory=ReleaseSettings)
    offers: OfferBook = field(default_factory=OfferBook)
    pusher: Pusher = field(default_factory=NullPusher)
    last_gate_run: dict[int, float] = field(default_factory=dict)
    # Gates triggered by reports run here, one at a time, after the report has committed.
    gate_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="canyu-gates")
    )

    def settle(self) -> None:
        """Wait until the gates already triggered have run (tests, the CLI)."""
        self.gate_pool.submit(lambda: None).result()


# --- small checks ------------------------------------------------------------------------------


def _require_team(actor: User | None) -> None:
    if actor is not None and not actor.is_team:
        raise Forbidden("Only team members can do this.")


def parse_channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise InvalidInput(
            f"Unknown channel {value!r}; one of: {allowed}.", details={"field": "channel"}
        ) from None


def _clean_text(value: str | None, *, field: str, maximum: int) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise InvalidInput(f"The {field} contains a NUL character.", details={"field": field})
    if len(text) > maximum:
        raise InvalidInput(
            f"The {field} has at most {maximum} characters.", details={"field": field}
        )
    return text


# --- products ----------------------------------------------------------------------------------


def create_product(
    session: Session, *, actor: User | None, key: str, name: str, kind: str = "phone"
) -> ReleaseProduct:
    _require_team(actor)
    if not PRODUCT_KEY.fullmatch(key or ""):
        raise InvalidInput(
            "A product key has 2 to 40 lowercase letters, digits or '-' (e.g. canyu-1s).",
            details={"field": "key"},
        )
    clean_name = _clean_text(name, field="name", maximum=80)
    if not clean_name:
        raise InvalidInput("A product needs a name.", details={"field": "name"})
    try:
        product_kind = ProductKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ProductKind)
        raise InvalidInput(f"Unknown kind {kind!r}; one of: {allowed}.") from None
    if session.scalar(select(ReleaseProduct.id).where(ReleaseProduct.key == key)) is not None:
        raise Conflict(f"ReleaseProduct {key!r} exists already.")
    product = ReleaseProduct(key=key, name=clean_name, kind=product_kind.value)
    session.add(product)
    session.flush()
    return product


def get_product(session: Session, *, key: str) -> ReleaseProduct:
    product = session.scalar(select(ReleaseProduct).where(ReleaseProduct.key == key))
    if product is None:
        raise NotFound(f"No product {key!r}.")
    return product


def list_products(session: Session) -> list[ReleaseProduct]:
    return list(session.scalars(select(ReleaseProduct).order_by(ReleaseProduct.key)))


# --- builds ------------------------------------------------------------------------------------


def latest_build(session: Session, *, product_id: int, channel: str) -> Build | None:
    """Versions only grow per product and channel, so the newest row holds the highest one."""
    return session.scalar(
        select(Build)
        .where(Build.product_id == product_id, Build.channel == channel)
        .order_by(Build.id.desc())
        .limit(1)
    )


def _lock_product(session: Session, product_id: int) -> None:
    # Serialises build creation per product on PostgreSQL (SQLite serialises writers anyway).
    session.execute(
        select(ReleaseProduct.id).where(ReleaseProduct.id == product_id).with_for_update()
    )


def create_build(
    session: Session,
    *,
    actor: User | None,
    product_key: str,
    channel: str,
    version: str,
    notes: str = "",
    post_ids: Sequence[int] = (),
) -> Build:
    """A new build; its version must come after every earlier one on its product and channel."""
    _require_team(actor)
    product = get_product(session, key=product_key)
    chosen = parse_channel(channel)
    parsed = versions.parse_version(version)
    clean_notes = _clean_text(notes, field="notes", maximum=MAX_NOTES)
    _lock_product(session, product.id)
    latest = latest_build(session, product_id=product.id, channel=chosen.value)
    versions.check_follows(parsed, versions.parse_version(latest.version) if latest else None)
    build = Build(
        product_id=product.id,
        channel=chosen.value,
        version=str(parsed),
        notes=clean_notes,
        created_by_id=actor.id if actor else None,
    )
    session.add(build)
    session.flush()
    if post_ids:
        attach_posts(session, actor=actor, build=build, post_ids=post_ids)
    return build


def get_build(session: Session, *, build_id: int) -> Build:
    build = session.get(Build, build_id)
    if build is None:
        raise NotFound(f"No build {build_id}.")
    return build


def find_build(
    session: Session, *, product_key: str, version: str, channel: str | None = None
) -> Build:
    product = get_product(session, key=product_key)
    query = select(Build).where(
        Build.product_id == product.id, Build.version == versions.normalise(version)
    )
    if channel is not None:
        query = query.where(Build.channel == parse_channel(channel).value)
    found = session.scalars(query.order_by(Build.id.desc())).first()
    if found is None:
        raise NotFound(f"No build {version} of {product_key}.")
    return found


def list_builds(
    session: Session, *, product_key: str | None = None, limit: int = 100
) -> list[Build]:
    query = select(Build).order_by(Build.created_at.desc(), Build.id.desc()).limit(limit)
    if product_key:
        query = query.where(Build.product_id == get_product(session, key=product_key).id)
    return list(session.scalars(query))


ATTACHABLE = frozenset({Status.PLANNED.value, Status.SHIPPED.value})


def attach_posts(
    session: Session, *, actor: User | None, build: Build, post_ids: Sequence[int]
) -> list[Post]:
    """Put posts (planned, or shipped in an earlier build) into a build's changelog."""
    _require_team(actor)
    if build.released_at is not None:
        raise Conflict(f"Build {build.version} is released; its contents are fixed.")
    unique = list(dict.fromkeys(post_ids))
    if len(unique) > MAX_POSTS_PER_BUILD:
        raise InvalidInput(f"At most {MAX_POSTS_PER_BUILD} posts per build.")
    posts = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(unique)))}
    problems = {str(i): "no such post" for i in unique if i not in posts}
    problems |= {
        str(p.id): f"is {p.status}; only planned posts go into a build"
        for p in posts.values()
        if p.status not in ATTACHABLE
    }
    if problems:
        raise Conflict(
            f"{len(problems)} of the posts cannot go into the build; nothing changed.",
            details=problems,
        )
    present = set(session.scalars(select(BuildPost.post_id).where(BuildPost.build_id == build.id)))
    session.add_all(BuildPost(build_id=build.id, post_id=i) for i in unique if i not in present)
    session.flush()
    return [posts[i] for i in unique]


def build_posts(session: Session, *, build: Build) -> list[Post]:
    query = (
        select(Post)
        .join(BuildPost, BuildPost.post_id == Post.id)
        .where(BuildPost.build_id == build.id)
        .order_by(Post.vote_count.desc(), Post.id)
    )
    return list(session.scalars(query))


def _check_filename(filename: str) -> str:
    name = filename or ""
    if not FILENAME.fullmatch(name):
        raise InvalidInput(
            f"Invalid payload file name {filename!r}: letters, digits and '._+-', at most 128.",
            details={"field": "filename"},
        )
    return name


def check_sha256(value: str) -> str:
    text = (value or "").strip().lower()
    if not SHA256.fullmatch(text):
        raise InvalidInput(
            "The declared sha256 must be 64 hexadecimal digits.", details={"field": "sha256"}
        )
    return text


def read_payload(stream: BinaryIO, *, limit: int, spool: Path) -> tuple[Path, int, str]:
    """Copy ``stream`` to ``spool`` while hashing it; 413 as soon as it passes ``limit`` bytes."""
    digest = hashlib.sha256()
    size = 0
    with spool.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    f"The payload is larger than the {limit} bytes allowed.",
                    details={"limit": limit},
                )
            digest.update(chunk)
            out.write(chunk)
    return spool, size, digest.hexdigest()


def add_payload(
    session: Session,
    *,
    actor: User | None,
    build: Build,
    filename: str,
    data: Path,
    length: int,
    actual_sha256: str,
    declared_sha256: str,
    settings: ReleaseSettings,
) -> BuildPayload:
    """Publish a payload file (already received and hashed) as a signed TUF target of its build.

    The declared hash is what the uploader built; if the bytes received differ, nothing is kept.
    """
    _require_team(actor)
    name = _check_filename(filename)
    declared = check_sha256(declared_sha256)
    if length > settings.max_payload_bytes:
        raise PayloadTooLarge(
            f"The payload is larger than the {settings.max_payload_bytes} bytes allowed."
        )
    if length == 0:
        raise InvalidInput("The payload file is empty.", details={"field": "file"})
    if actual_sha256 != declared:
        raise InvalidInput(
            "The file received does not match the declared sha256; nothing was stored.",
            details={"declared": declared, "received": actual_sha256},
        )
    if build.released_at is not None:
        raise Conflict(f"Build {build.version} is released; its payloads are fixed.")
    existing = session.scalar(
        select(BuildPayload).where(BuildPayload.build_id == build.id, BuildPayload.filename == name)
    )
    if existing is not None:
        if existing.sha256 == actual_sha256:
            return existing  # the same upload again changes nothing
        raise Conflict(f"Build {build.version} already has a different {name}.")
    product = build.product
    target = signing.target_name(build.channel, build.version, name)
    info = signing.publish(
        product.key,
        target,
        data,
        settings,
        custom={"product": product.key, "channel": build.channel, "version": build.version},
    )
    payload = BuildPayload(
        build_id=build.id,
        filename=name,
        target_name=info.name,
        length=info.length,
        sha256=info.sha256,
    )
    session.add(payload)
    session.flush()
    session.refresh(build, attribute_names=["payloads"])
    return payload


def add_payload_bytes(
    session: Session,
    *,
    actor: User | None,
    build: Build,
    filename: str,
    content: bytes,
    declared_sha256: str,
    settings: ReleaseSettings,
    spool_dir: Path,
) -> BuildPayload:
    """The same as :func:`add_payload` for bytes in memory (the CLI, the demo, tests)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    spool = spool_dir / f".upload-{hashlib.sha256(content).hexdigest()[:16]}"
    spool.write_bytes(content)
    try:
        return add_payload(
            session,
            actor=actor,
            build=build,
            filename=filename,
            data=spool,
            length=len(content),
            actual_sha256=hashlib.sha256(content).hexdigest(),
            declared_sha256=declared_sha256,
            settings=settings,
        )
    finally:
        spool.unlink(missing_ok=True)


# --- the weekly train --------------------------------------------------------------------------


def train_attach(session: Session, *, actor: User, product_key: str, post_id: int) -> Post:
    """Put a planned post on the product's next weekly train."""
    _require_team(actor)
    product = get_product(session, key=product_key)
    post = community.get_post(session, post_id=post_id)
    if post.status != Status.PLANNED.value:
        raise Conflict(f"Post {post_id} is {post.status}; only planned posts board the train.")
    if session.get(TrainItem, (product.id, post.id)) is None:
        session.add(TrainItem(product_id=product.id, post_id=post.id, attached_by_id=actor.id))
        session.flush()
    return post


def train_detach(session: Session, *, actor: User, product_key: str, post_id: int) -> None:
    _require_team(actor)
    product = get_product(session, key=product_key)
    session.execute(
        delete(TrainItem).where(TrainItem.product_id == product.id, TrainItem.post_id == post_id)
    )


def train_posts(session: Session, *, product_key: str) -> list[Post]:
    product = get_product(session, key=product_key)
    query = (
        select(Post)
        .join(TrainItem, TrainItem.post_id == Post.id)
        .where(TrainItem.product_id == product.id)
        .order_by(Post.vote_count.desc(), Post.id)
    )
    return list(session.scalars(query))


def cut_train(
    session: Session,
    *,
    actor: User | None,
    product_key: str,
    version: str | None = None,
    notes: str = "",
    allow_empty: bool = False,
) -> Build:
    """This week's developer build, from the planned posts the team put on the train."""
    _require_team(actor)
    product = get_product(session, key=product_key)
    boarded = train_posts(session, product_key=product_key)
    planned = [p for p in boarded if p.status == Status.PLANNED.value]
    if not planned and not allow_empty:
        raise Conflict(
            f"No planned posts are on {product_key}'s train; attach some or allow an empty build."
        )
    if version is None:
        latest = latest_build(session, product_id=product.id, channel=Channel.DEVELOPER.value)
        parsed = versions.next_version(versions.parse_version(latest.version) if latest else None)
        version = str(parsed)
    build = create_build(
        session,
        actor=actor,
        product_key=product_key,
        channel=Channel.DEVELOPER.value,
        version=version,
        notes=notes,
        post_ids=[p.id for p in planned],
    )
    session.execute(
        delete(TrainItem).where(
            TrainItem.product_id == product.id, TrainItem.post_id.in_([p.id for p in boarded])
        )
    )
    return build


@dataclass(frozen=True)
class TrainRun:
    skipped_holiday: str | None
    builds: list[Build]
    nothing_planned: list[str]


def scheduled_train(
    session: Session, *, schedule: TrainSchedule, now: datetime, products: Sequence[str] = ()
) -> TrainRun:
    """What the weekly job does: cut every product's train, unless today is a public holiday."""
    local_day = now.astimezone(schedule.zone).date()
    holiday = holiday_name(schedule.country, local_day)
    if holiday:
        log.info("weekly train skipped: %s is %s in %s", local_day, holiday, schedule.country)
        return TrainRun(holiday, [], [])
    keys = list(products) or [p.key for p in list_products(session)]
    built: list[Build] = []
    empty: list[str] = []
    for key in keys:
        try:
            built.append(cut_train(session, actor=None, product_key=key))
        except Conflict as exc:
            log.info("weekly train for %s: %s", key, exc.message)
            empty.append(key)
    return TrainRun(None, built, empty)


# --- changelogs and credits --------------------------------------------------------------------


def set_credit_optout(session: Session, *, user: User, opted_out: bool) -> bool:
    row = session.get(CreditOptout, user.id)
    if opted_out and row is None:
        session.add(CreditOptout(user_id=user.id))
    elif not opted_out and row is not None:
        session.delete(row)
    session.flush()
    return opted_out


def credit_opted_out(session: Session, *, user: User) -> bool:
    return session.get(CreditOptout, user.id) is not None


def changelog(session: Session, *, build: Build) -> changelog_mod.Changelog:
    posts = build_posts(session, build=build)
    voters_by_post = {p.id: community.voters_of(session, post=p) for p in posts}
    user_ids = {p.author_id for p in posts}.union(*voters_by_post.values()) if posts else set()
    names = {
        uid: name
        for uid, name in session.execute(
            select(User.id, User.display_name).where(User.id.in_(user_ids))
        )
    }
    optouts = set(
        session.scalars(select(CreditOptout.user_id).where(CreditOptout.user_id.in_(user_ids)))
    )

    def person(user_id: int) -> changelog_mod.Person:
        return changelog_mod.Person(user_id, names.get(user_id, "?"), user_id in optouts)

    return changelog_mod.assemble(
        changelog_mod.PostFacts(
            post_id=p.id,
            kind=p.kind,
            title=p.title,
            language=p.language,
            vote_count=p.vote_count,
            reporter=person(p.author_id),
            voters=[person(v) for v in sorted(voters_by_post[p.id])],
        )
        for p in posts
    )


def release_build(session: Session, *, actor: User, build: Build) -> list[Post]:
    """The build goes out: its posts become shipped, and their authors and voters are told."""
    if build.released_at is not None:
        return []
    build.released_at = utcnow()
    reason = f"Shipped in {build.product.name} {build.version} ({build.channel})."
    moved = []
    for post in build_posts(session, build=build):
        try:
            workflow.check_transition(Status(post.status), Status.SHIPPED, reason)
        except CanyuError:
            continue  # already shipped in an earlier build, or reopened meanwhile
        moved.append(
            community.change_status(
                session, actor=actor, post_id=post.id, status=Status.SHIPPED.value, reason=reason
            )
        )
    return moved


# --- rollouts ----------------------------------------------------------------------------------


def _event(
    session: Session,
    rollout: Rollout,
    kind: str,
    *,
    actor: User | None = None,
    reason: str | None = None,
    signals: dict[str, Any] | None = None,
) -> RolloutEvent:
    event = RolloutEvent(
        rollout_id=rollout.id,
        kind=kind,
        stage_index=rollout.stage_index,
        reason=reason,
        actor_id=actor.id if actor else None,
        signals=signals or {},
        created_at=utcnow(),
    )
    session.add(event)
    return event


def _check_countries(countries: Iterable[str]) -> list[str]:
    return sorted({accounts.check_country(c) for c in countries})


def previous_build(session: Session, *, build: Build) -> Build | None:
    """The build devices go back to: the newest completed rollout's build on this channel."""
    query = (
        select(Build)
        .join(Rollout, Rollout.build_id == Build.id)
        .where(
            Build.product_id == build.product_id,
            Build.channel == build.channel,
            Build.id != build.id,
            Rollout.status == RolloutStatus.COMPLETED.value,
        )
        .order_by(Rollout.completed_at.desc(), Rollout.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def start_rollout(
    session: Session,
    *,
    actor: User,
    build_id: int,
    stages: Sequence[float] = DEFAULT_STAGES,
    channels: Sequence[str] | None = None,
    countries: Sequence[str] = (),
    device_models: Sequence[str] = (),
    thresholds: health.Thresholds | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    """Start offering a build in stages; the build is released (its posts shipped) now."""
    _require_team(actor)
    build = session.get(Build, build_id)
    if build is None:
        raise NotFound(f"No build {build_id} to roll out.")
    checked_stages = health.check_stages(list(stages))
    chosen_channels = sorted({parse_channel(c).value for c in (channels or [build.channel])})
    chosen_countries = _check_countries(countries)
    models = sorted({m.strip() for m in device_models if m.strip()})
    if any(len(m) > 40 for m in models):
        raise InvalidInput("A device model has at most 40 characters.")
    if not build.payloads:
        raise Conflict(f"Build {build.version} has no payload to install; upload one first.")
    live = session.scalars(
        select(Rollout)
        .join(Build, Build.id == Rollout.build_id)
        .where(Build.product_id == build.product_id, Rollout.status.in_(LIVE_STATUSES))
    ).all()
    for other in live:
        if set(other.channels) & set(chosen_channels):
            raise Conflict(
                f"Rollout {other.id} of {other.build.version} is still {other.status} on "
                f"{', '.join(sorted(set(other.channels) & set(chosen_channels)))}; finish, halt "
                "or roll it back first.",
                details={"rollout_id": other.id},
            )
    gates = thresholds or health.Thresholds()
    previous = previous_build(session, build=build)
    rollout = Rollout(
        build_id=build.id,
        previous_build_id=previous.id if previous else None,
        status=RolloutStatus.ACTIVE.value,
        stages=list(checked_stages),
        stage_index=0,
        stage_started_at=utcnow(),
        stage_base_successes=0,
        channels=chosen_channels,
        countries=chosen_countries,
        device_models=models,
        thresholds=gates.as_dict(),
        gate_base={},
        created_by_id=actor.id,
    )
    session.add(rollout)
    session.flush()
    release_build(session, actor=actor, build=build)
    _event(session, rollout, "started", actor=actor, reason=f"{checked_stages[0]:g}%")
    _sample(session, rollout, counts=health.Counts(0, 0, 0, 0), force=True)
    _changed(session, rollout, runtime, push=True)
    return rollout


def get_rollout(session: Session, *, rollout_id: int) -> Rollout:
    rollout = session.get(Rollout, rollout_id)
    if rollout is None:
        raise NotFound(f"No rollout {rollout_id}.")
    return rollout


def list_rollouts(
    session: Session, *, build_id: int | None = None, limit: int = 50
) -> list[Rollout]:
    query = select(Rollout).order_by(Rollout.id.desc()).limit(limit)
    if build_id is not None:
        query = query.where(Rollout.build_id == build_id)
    return list(session.scalars(query))


def _reason(reason: str | None) -> str | None:
    text = _clean_text(reason, field="reason", maximum=MAX_REASON)
    return text or None


def _changed(session: Session, rollout: Rollout, runtime: Runtime | None, *, push: bool) -> None:
    session.flush()
    if runtime is None:
        return
    runtime.offers.invalidate()
    if push:
        publish_after_commit(session, runtime.pusher, push_messages(session, rollout=rollout))
    # Other sessions' offers must see the change too once it commits.
    from sqlalchemy import event

    event.listen(session, "after_commit", lambda _s: runtime.offers.invalidate(), once=True)


def push_messages(session: Session, *, rollout: Rollout) -> list[Message]:
    """One message per product/channel/country topic the rollout reaches."""
    from canyu.devices import service as devices

    build = rollout.build
    messages: list[Message] = []
    for channel in rollout.channels:
        countries = rollout.countries or devices.countries_in_scope(
            session, product_id=build.product_id, channel=channel
        )
        for country in countries:
            messages.append(
                (
                    topic(build.product.key, channel, country),
                    {
                        "event": "check-in",
                        "rollout": rollout.id,
                        "status": rollout.status,
                        "version": build.version,
                        "percent": rollout.percent,
                    },
                )
            )
    return messages


def _team_action(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    allowed_from: Sequence[str],
    verb: str,
) -> Rollout:
    _require_team(actor)
    rollout = get_rollout(session, rollout_id=rollout_id)
    if rollout.status not in allowed_from:
        raise Conflict(
            f"Cannot {verb} a rollout that is {rollout.status.replace('_', ' ')}.",
            details={"status": rollout.status},
        )
    return rollout


def pause(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    rollout = _team_action(
        session,
        actor=actor,
        rollout_id=rollout_id,
        allowed_from=[RolloutStatus.ACTIVE],
        verb="pause",
    )
    text = _reason(reason) or f"paused by {actor.display_name}"
    rollout.status = RolloutStatus.PAUSED.value
    rollout.reason = text
    rollout.auto_paused = False
    _event(session, rollout, "paused", actor=actor, reason=text)
    _changed(session, rollout, runtime, push=False)
    return rollout


def resume(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    rollout = _team_action(
        session,
        actor=actor,
        rollout_id=rollout_id,
        allowed_from=[RolloutStatus.PAUSED],
        verb="resume",
    )
    counts = rollout_counts(session, rollout=rollout, since_resume=False)
    rollout.status = RolloutStatus.ACTIVE.value
    rollout.reason = None
    rollout.auto_paused = False
    # The gates judge what happens from now on; what made them pause has been looked at.
    rollout.gate_base = {
        "successes": counts.successes,
        "failures": counts.failures,
        "crashes": counts.crashes,
        "feedback": counts.feedback,
    }
    _event(session, rollout, "resumed", actor=actor, reason=_reason(reason))
    _changed(session, rollout, runtime, push=True)
    return rollout


def halt(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    rollout = _team_action(
        session, actor=actor, rollout_id=rollout_id, allowed_from=LIVE_STATUSES, verb="halt"
    )
    text = _reason(reason) or f"halted by {actor.display_name}"
    rollout.status = RolloutStatus.HALTED.value
    rollout.reason = text
    _event(session, rollout, "halted", actor=actor, reason=text)
    _changed(session, rollout, runtime, push=False)
    return rollout


def roll_back(
    session: Session,
    *,
    actor: User,
    rollout_id: int,
    reason: str | None = None,
    runtime: Runtime | None = None,
) -> Rollout:
    """Devices that installed this build are offered the previous build."""
    rollout = _team_action(
        session,
        actor=actor,
        rollout_id=rollout_id,
        allowed_from=[*LIVE_STATUSES, RolloutStatus.HALTED, RolloutStatus.COMPLETED],
        verb="roll back",
    )
    if rollout.previous_build is None or not rollout.previous_build.payloads:
        raise Conflict("There is no earlier completed build with a payload to roll back to.")
    text = _reason(reason) or f"rolled back by {actor.display_name}"
    rollout.status = RolloutStatus.ROLLED_BACK.value
    rollout.reason = text
    _event(
        session,
        rollout,
        "rolled_back",
        actor=actor,
        reason=text,
        signals={"to": rollout.previous_build.version},
    )
    _changed(session, rollout, runtime, push=True)
    return rollout


# --- health gates ------------------------------------------------------------------------------


def feedback_count(session: Session, *, build: Build) -> int:
    """Posts friends wrote about this build (its version, on this product or no model named)."""
    product = build.product
    query = select(func.count(Post.id)).where(
        Post.software_build == build.version,
        or_(Post.device_model.is_(None), Post.device_model.in_([product.name, product.key])),
    )
    return int(session.scalar(query) or 0)


def rollout_counts(
    session: Session, *, rollout: Rollout, since_resume: bool = True
) -> health.Counts:
    from canyu.devices import service as devices

    successes, failures, crashes = devices.report_counts(session, rollout_id=rollout.id)
    counts = health.Counts(
        successes, failures, crashes, feedback_count(session, build=rollout.build)
    )
    if not since_resume or not rollout.gate_base:
        return counts
    base = rollout.gate_base
    return health.Counts(
        counts.successes - base.get("successes", 0),
        counts.failures - base.get("failures", 0),
        counts.crashes - base.get("crashes", 0),
        counts.feedback - base.get("feedback", 0),
    )


def baseline(session: Session, *, rollout: Rollout) -> health.Baseline | None:
    """The previous build's feedback and exposure, if it has enough installs to compare with."""
    from canyu.devices import service as devices

    previous = rollout.previous_build
    if previous is None:
        return None
    installs = devices.build_installs(session, build_id=previous.id)
    if installs < health.Thresholds.from_dict(rollout.thresholds).min_sample:
        return None
    return health.Baseline(previous.version, installs, feedback_count(session, build=previous))


def _stage_state(
    session: Session, rollout: Rollout, successes: int, now: datetime
) -> health.StageState:
    from canyu.devices import service as devices

    stages = tuple(float(s) for s in rollout.stages)
    in_scope = devices.devices_in_scope(
        session,
        product_id=rollout.build.product_id,
        channels=rollout.channels,
        countries=rollout.countries,
        models=rollout.device_models,
    )
    before = stages[rollout.stage_index - 1] if rollout.stage_index else 0.0
    new_devices = round(in_scope * (stages[rollout.stage_index] - before) / 100.0)
    return health.StageState(
        index=rollout.stage_index,
        stages=stages,
        stage_successes=successes - rollout.stage_base_successes,
        stage_new_devices=new_devices,
        stage_age_seconds=(now - rollout.stage_started_at).total_seconds(),
    )


def _sample(session: Session, rollout: Rollout, *, counts: health.Counts, force: bool) -> None:
    if not force:
        last = session.scalar(
            select(func.max(HealthSample.created_at)).where(HealthSample.rollout_id == rollout.id)
        )
        if last is not None and utcnow() - last < SAMPLE_EVERY:
            return
    session.add(
        HealthSample(
            rollout_id=rollout.id,
            stage_index=rollout.stage_index,
            percent=rollout.percent,
            successes=counts.successes,
            failures=counts.failures,
            crashes=counts.crashes,
            feedback=counts.feedback,
            created_at=utcnow(),
        )
    )


def evaluate(
    session: Session,
    *,
    rollout_id: int,
    runtime: Runtime | None = None,
    now: datetime | None = None,
) -> health.Decision:
    """Run the health gates of an active rollout and act on them: advance, complete or pause."""
    locked = session.scalar(
        select(Rollout).where(Rollout.id == rollout_id).with_for_update(of=Rollout)
    )
    if locked is None:
        raise NotFound(f"No rollout {rollout_id}.")
    rollout = locked
    if rollout.status != RolloutStatus.ACTIVE:
        return health.Decision(health.Action.HOLD, f"rollout is {rollout.status}")
    when = now or utcnow()
    total = rollout_counts(session, rollout=rollout, since_resume=False)
    judged = rollout_counts(session, rollout=rollout, since_resume=True)
    gates = health.Thresholds.from_dict(rollout.thresholds)
    decision = health.decide(
        judged,
        _stage_state(session, rollout, total.successes, when),
        gates,
        baseline(session, rollout=rollout),
    )
    acted = decision.action != health.Action.HOLD
    if decision.action == health.Action.PAUSE:
        rollout.status = RolloutStatus.PAUSED.value
        rollout.reason = decision.reason
        rollout.auto_paused = True
        _event(session, rollout, "auto_paused", reason=decision.reason, signals=decision.signals)
    elif decision.action == health.Action.ADVANCE:
        rollout.stage_index += 1
        rollout.stage_started_at = when
        rollout.stage_base_successes = total.successes
        _event(session, rollout, "advanced", reason=decision.reason, signals=decision.signals)
    elif decision.action == health.Action.COMPLETE:
        rollout.status = RolloutStatus.COMPLETED.value
        rollout.completed_at = when
        rollout.reason = None
        _event(session, rollout, "completed", reason=decision.reason, signals=decision.signals)
    _sample(session, rollout, counts=total, force=acted)
    if acted:
        _changed(session, rollout, runtime, push=decision.action == health.Action.ADVANCE)
    return decision


def active_rollout_ids(session: Session) -> list[int]:
    return list(
        session.scalars(select(Rollout.id).where(Rollout.status == RolloutStatus.ACTIVE.value))
    )


def rollout_events(session: Session, *, rollout_id: int) -> list[RolloutEvent]:
    query = (
        select(RolloutEvent)
        .where(RolloutEvent.rollout_id == rollout_id)
        .order_by(RolloutEvent.created_at, RolloutEvent.id)
    )
    return list(session.scalars(query))


def health_samples(session: Session, *, rollout_id: int, limit: int = 500) -> list[HealthSample]:
    query = (
        select(HealthSample)
        .where(HealthSample.rollout_id == rollout_id)
        .order_by(HealthSample.created_at.desc(), HealthSample.id.desc())
        .limit(limit)
    )
    return list(reversed(session.scalars(query).all()))
