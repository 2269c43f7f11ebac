"""Releases rules: devices: enrolment, check-ins, install and crash reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.accounts.service import require_team
from canyu.community import service as community
from canyu.community.models import Post
from canyu.db import utcnow
from canyu.devices import service as devices
from canyu.devices.models import Device
from canyu.errors import InvalidInput, NotFound
from canyu.releases import checkin, versions
from canyu.releases.models import (
    Build,
    BuildPost,
    DeviceReport,
    InstalledNotice,
    ReleaseProduct,
)
from canyu.releases.offers import Offer, OfferBook
from canyu.releases.service.common import _FAILURE_CODE, _REPORT_ID, MAX_CRASHES, parse_channel
from canyu.releases.service.products import get_product, list_products


@dataclass(frozen=True)
class Enrolled:
    device: Device
    token: str
    product: ReleaseProduct


def enrol_device(
    session: Session,
    *,
    product_key: str,
    hardware_id: str,
    country: str,
    channel: str,
    model: str | None = None,
    owner: User | None = None,
    version: str | None = None,
    device_token: str | None = None,
    attestation: devices.Attestation | None = None,
    admit_new: Callable[[], None] | None = None,
) -> Enrolled:
    """Register a device of a product for its updates (or again after a reset, with proof:
    canyu.devices.service.register says which)."""
    product = get_product(session, key=product_key)
    done = devices.register(
        session,
        product_id=product.id,
        product_key=product.key,
        hardware_id=hardware_id,
        country=country,
        channel=parse_channel(channel).value,
        model=model or product.key,
        owner=owner,
        version=versions.normalise(version) if version else None,
        device_token=device_token,
        attestation=attestation,
        admit_new=admit_new,
    )
    return Enrolled(done.device, done.token, product)


def provision(
    session: Session,
    *,
    product_key: str,
    keys: Sequence[tuple[str, str]],
    replace: bool = False,
    actor: User | None = None,
) -> devices.Provisioned:
    """Enrol a factory's attestation keys for a product's devices, in bulk (the team's)."""
    require_team(actor)
    product = get_product(session, key=product_key)
    return devices.enrol_keys(
        session, product_id=product.id, product_key=product.key, keys=keys, replace=replace
    )


def check_in(
    session: Session, *, token_digest: str, version: str | None, offers: OfferBook
) -> Offer | None:
    """What the device holding this token should install now, if anything: the rule in
    canyu.releases.checkin, with the device read and its sighting written through the session."""
    device = devices.by_token_digest(session, digest=token_digest)
    decision = checkin.decide(
        devices.as_seen(device) if device is not None else None,
        version,
        lambda product_id: offers.rules(session, product_id),
    )
    if decision.sighting_due and device is not None:
        devices.record_sighting(device, version=decision.current)
    return decision.offer


@dataclass(frozen=True)
class ReportOutcome:
    report: DeviceReport
    duplicate: bool
    notified: int = 0


@dataclass(frozen=True)
class BuildRef:
    id: int
    version: str


def _report_build(
    session: Session, *, device: Device, version: str, offers: OfferBook
) -> tuple[BuildRef, int | None]:
    """The build a report is about, and the rollout that offered it to this device, if any:
    from the in-memory rules when they know it, else one indexed query. A report counts for a
    rollout's gates only when that rollout offered the build to this very device
    (offers.Rule.offered_to): a device outside its scope or cohort, or one that has not
    checked in since it started, or one registered since it started without a factory key,
    cannot move its gates, however many such devices report."""
    normalised = versions.normalise(version)
    for rule in offers.rules(session, device.product_id):
        if rule.version == normalised and rule.covers(
            channel=device.channel, country=device.country, model=device.model
        ):
            offered = rule.offered_to(
                channel=device.channel,
                country=device.country,
                model=device.model,
                device_key=device.hardware_hash,
                last_seen=device.last_seen_at,
            )
            if offered and rule.started_at is not None and device.registered_at >= rule.started_at:
                # A device that joined after the rollout started steers its gates only if it
                # proved to be real hardware (a factory key): otherwise a crowd made up for
                # the purpose, checking in and landing in the cohort, could.
                offered = devices.is_provisioned(
                    session, product_id=device.product_id, hardware_hash=device.hardware_hash
                )
            return BuildRef(rule.build_id, rule.version), rule.rollout_id if offered else None
        if rule.previous is not None and rule.previous.version == normalised:
            return BuildRef(rule.previous.build_id, normalised), None
    candidates = session.execute(
        select(Build.id, Build.channel)
        .where(Build.product_id == device.product_id, Build.version == normalised)
        .order_by(Build.id.desc())
    ).all()
    if not candidates:
        raise NotFound(f"No build {normalised} for this device's product.")
    same_channel = [row.id for row in candidates if row.channel == device.channel]
    return BuildRef((same_channel or [candidates[0].id])[0], normalised), None


def report(
    session: Session,
    *,
    device: Device,
    report_id: str,
    kind: str,
    version: str,
    success: bool | None = None,
    failure_code: str | None = None,
    crashes: int = 0,
    offers: OfferBook,
) -> ReportOutcome:
    """Record an install result or a crash count once; a retry with the same id changes nothing."""
    if not _REPORT_ID.fullmatch(report_id or ""):
        raise InvalidInput(
            "A report id has 8 to 64 letters, digits or '_.:-' (a UUID is fine).",
            details={"field": "report_id"},
        )
    existing = session.scalar(
        select(DeviceReport).where(
            DeviceReport.device_id == device.id, DeviceReport.report_id == report_id
        )
    )
    if existing is not None:
        return ReportOutcome(existing, duplicate=True)
    if kind == "install":
        if success is None:
            raise InvalidInput(
                "An install report says whether it succeeded.", details={"field": "success"}
            )
        if not success and not (failure_code and _FAILURE_CODE.fullmatch(failure_code)):
            raise InvalidInput(
                "A failed install needs a failure code (1 to 64 of letters, digits, '_.:-').",
                details={"field": "failure_code"},
            )
        if success:
            failure_code = None
        crashes = 0
    elif kind == "crash":
        if not 1 <= crashes <= MAX_CRASHES:
            raise InvalidInput(
                f"A crash report counts 1 to {MAX_CRASHES} crashes.", details={"field": "crashes"}
            )
        success, failure_code = None, None
    else:
        raise InvalidInput("A report is of kind 'install' or 'crash'.", details={"field": "kind"})
    build, rollout_id = _report_build(session, device=device, version=version, offers=offers)
    row = DeviceReport(
        device_id=device.id,
        report_id=report_id,
        kind=kind,
        build_id=build.id,
        rollout_id=rollout_id,
        success=success,
        failure_code=failure_code,
        crashes=crashes,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same report arrived twice at once
        again = session.scalar(
            select(DeviceReport).where(
                DeviceReport.device_id == device.id, DeviceReport.report_id == report_id
            )
        )
        if again is None:
            raise
        return ReportOutcome(again, duplicate=True)
    notified = 0
    if kind == "install" and success:
        devices.record_sighting(device, version=build.version)
        notified = notify_installed(session, device=device, build=build)
    return ReportOutcome(row, duplicate=False, notified=notified)


def notify_installed(session: Session, *, device: Device, build: BuildRef) -> int:
    """ "Fixed in build X — it is on your phone now": once per friend and build, for the posts
    the device's owner wrote that are in the build."""
    if device.owner_id is None:
        return 0
    posts = session.scalars(
        select(Post)
        .join(BuildPost, BuildPost.post_id == Post.id)
        .where(BuildPost.build_id == build.id, Post.author_id == device.owner_id)
        .order_by(Post.id)
    ).all()
    if not posts or session.get(InstalledNotice, (device.owner_id, build.id)) is not None:
        return 0
    try:
        with session.begin_nested():
            session.add(
                InstalledNotice(user_id=device.owner_id, build_id=build.id, device_id=device.id)
            )
            session.flush()
    except IntegrityError:
        return 0
    product_name = session.scalar(
        select(ReleaseProduct.name).where(ReleaseProduct.id == device.product_id)
    )
    community.tell(
        session,
        user_id=device.owner_id,
        posts=posts,
        event="installed",
        build=build.version,
        product=product_name,
    )
    return len(posts)


def fleet(session: Session, *, product_key: str | None = None) -> list[tuple[str, str, str, int]]:
    """(product, channel, version, devices): who runs what."""
    keys = {p.id: p.key for p in list_products(session)}
    product_id = get_product(session, key=product_key).id if product_key else None
    rows = devices.fleet(session, product_id=product_id)
    return sorted((keys.get(p, "?"), c, v, n) for p, c, v, n in rows)
