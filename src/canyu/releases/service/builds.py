"""Releases rules: builds."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community.models import Post, Status
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.releases import signing, versions
from canyu.releases.models import (
    Build,
    BuildPayload,
    BuildPost,
    ReleaseProduct,
    TrainItem,
)
from canyu.releases.service.common import (
    CHUNK,
    FILENAME,
    MAX_NOTES,
    MAX_POSTS_PER_BUILD,
    SHA256,
    PayloadTooLarge,
    _clean_text,
    parse_channel,
)
from canyu.releases.service.products import get_product
from canyu.releases.settings import ReleaseSettings


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
    accounts.require_team(actor)
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
    accounts.require_team(actor)
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
    # In a build, a post no longer waits for its product's next train.
    session.execute(
        delete(TrainItem).where(
            TrainItem.product_id == build.product_id, TrainItem.post_id.in_(unique)
        )
    )
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
    accounts.require_team(actor)
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
