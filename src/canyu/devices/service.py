"""Device rules: registration and tokens, check-ins, install and crash reports, notices.

Check-ins are the hot path: one indexed lookup of the device by its token hash, the offer decided
in memory (canyu.releases.offers), and a write only when the device's build changed or it was
last seen long ago.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community.models import Notification, Post
from canyu.db import utcnow
from canyu.devices.models import Device, DeviceReport, InstalledNotice
from canyu.errors import InvalidInput, NotFound, Unauthorized
from canyu.releases import offers as offers_mod
from canyu.releases import versions
from canyu.releases.models import Build, BuildPost, Channel, ReleaseProduct
from canyu.releases.offers import Offer, OfferBook

TOKEN_PREFIX = "cyd_"  # noqa: S105 (a public prefix, not a secret)
_TOKEN_RE = re.compile(r"^cyd_[A-Za-z0-9_-]{43}$")
_REPORT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,39}$")
_FAILURE_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_HARDWARE_ID = 256
MAX_CRASHES = 10_000
SEEN_EVERY = timedelta(hours=1)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def hardware_hash(product_key: str, hardware_id: str) -> str:
    """The serial is never stored: its SHA-256 with the product, also the device's cohort key."""
    return hashlib.sha256(f"{product_key}\x1f{hardware_id}".encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Registered:
    device: Device
    token: str
    product: ReleaseProduct


def register(
    session: Session,
    *,
    product_key: str,
    hardware_id: str,
    country: str,
    channel: str,
    model: str | None = None,
    owner: User | None = None,
    version: str | None = None,
) -> Registered:
    """Register a device (or re-register it after a reset: same hardware, a new token)."""
    from canyu.releases import service as releases

    product = releases.get_product(session, key=product_key)
    hw = (hardware_id or "").strip()
    if not hw or len(hw) > MAX_HARDWARE_ID or "\x00" in hw:
        raise InvalidInput(
            f"A hardware id has 1 to {MAX_HARDWARE_ID} characters.",
            details={"field": "hardware_id"},
        )
    chosen_channel = releases.parse_channel(channel).value
    code = accounts.check_country(country)
    chosen_model = (model or product.key).strip()
    if not _MODEL.fullmatch(chosen_model):
        raise InvalidInput(
            "A device model has 1 to 40 letters, digits, spaces or '._+-'.",
            details={"field": "model"},
        )
    current = versions.normalise(version) if version else None
    raw = new_token()
    key = hardware_hash(product.key, hw)
    device = session.scalar(
        select(Device).where(Device.product_id == product.id, Device.hardware_hash == key)
    )
    if device is None:
        device = Device(product_id=product.id, hardware_hash=key, token_hash=token_hash(raw))
        session.add(device)
    device.token_hash = token_hash(raw)
    device.revoked_at = None
    device.model = chosen_model
    device.country = code
    device.channel = chosen_channel
    if owner is not None:
        device.owner_id = owner.id
    if current is not None:
        device.current_version = current
    device.last_seen_at = utcnow()
    session.flush()
    return Registered(device, raw, product)


def authenticate(session: Session, *, raw_token: str | None) -> Device:
    """The device holding this token; 401 for a missing, malformed, unknown or revoked one."""
    if not raw_token:
        raise Unauthorized("Send the device token: 'Authorization: Bearer cyd_...'.")
    if not _TOKEN_RE.fullmatch(raw_token):
        raise Unauthorized("Malformed device token: expected 'cyd_' and 43 URL-safe characters.")
    device = session.scalar(select(Device).where(Device.token_hash == token_hash(raw_token)))
    if device is None:
        raise Unauthorized("Unknown device token; register the device again.")
    if device.revoked_at is not None:
        raise Unauthorized("This device token was revoked; register the device again.")
    return device


def revoke(session: Session, *, device_id: int, actor: User | None = None) -> Device:
    if actor is not None and not actor.is_team:
        from canyu.errors import Forbidden

        raise Forbidden("Only team members can revoke other devices.")
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"No device {device_id}.")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
    session.flush()
    return device


def product_key(session: Session, *, product_id: int) -> str:
    return str(session.scalar(select(ReleaseProduct.key).where(ReleaseProduct.id == product_id)))


def check_in(
    session: Session, *, device: Device, version: str | None, offers: OfferBook
) -> Offer | None:
    """What this device should install now, if anything (no scan: see releases.offers)."""
    current = device.current_version
    if version is not None:
        current = versions.normalise(version)
    now = utcnow()
    if current != device.current_version or now - device.last_seen_at > SEEN_EVERY:
        device.current_version = current
        device.last_seen_at = now
    return offers_mod.choose(
        offers.rules(session, device.product_id),
        channel=device.channel,
        country=device.country,
        model=device.model,
        device_key=device.hardware_hash,
        current_version=current,
    )


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
    from the in-memory rules when they know it, else one indexed query."""
    normalised = versions.normalise(version)
    for rule in offers.rules(session, device.product_id):
        if rule.version == normalised and rule.covers(
            channel=device.channel, country=device.country, model=device.model
        ):
            return BuildRef(rule.build_id, rule.version), rule.rollout_id
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
        device.current_version = build.version
        device.last_seen_at = utcnow()
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
    session.add_all(
        Notification(
            user_id=device.owner_id,
            post_id=post.id,
            kind="installed",
            payload={
                "event": "installed",
                "post_id": post.id,
                "post_title": post.title,
                "build": build.version,
                "product": product_name,
            },
            created_at=utcnow(),
        )
        for post in posts
    )
    session.flush()
    return len(posts)


# --- counts the health gates read ----------------------------------------------------------------


def report_counts(session: Session, *, rollout_id: int) -> tuple[int, int, int]:
    """(successful installs, failed installs, crashes) reported within a rollout."""
    installs = {
        success: count
        for success, count in session.execute(
            select(DeviceReport.success, func.count())
            .where(DeviceReport.rollout_id == rollout_id, DeviceReport.kind == "install")
            .group_by(DeviceReport.success)
        )
    }
    crashes = session.scalar(
        select(func.coalesce(func.sum(DeviceReport.crashes), 0)).where(
            DeviceReport.rollout_id == rollout_id, DeviceReport.kind == "crash"
        )
    )
    return int(installs.get(True, 0)), int(installs.get(False, 0)), int(crashes or 0)


def build_installs(session: Session, *, build_id: int) -> int:
    """Devices that installed a build successfully (its exposure)."""
    query = select(func.count(func.distinct(DeviceReport.device_id))).where(
        DeviceReport.build_id == build_id,
        DeviceReport.kind == "install",
        DeviceReport.success.is_(True),
    )
    return int(session.scalar(query) or 0)


def devices_in_scope(
    session: Session,
    *,
    product_id: int,
    channels: Sequence[str],
    countries: Sequence[str] = (),
    models: Sequence[str] = (),
) -> int:
    query = select(func.count(Device.id)).where(
        Device.product_id == product_id,
        Device.channel.in_(list(channels)),
        Device.revoked_at.is_(None),
    )
    if countries:
        query = query.where(Device.country.in_(list(countries)))
    if models:
        query = query.where(Device.model.in_(list(models)))
    return int(session.scalar(query) or 0)


def countries_in_scope(session: Session, *, product_id: int, channel: str) -> list[str]:
    query = (
        select(Device.country)
        .where(Device.product_id == product_id, Device.channel == channel)
        .distinct()
        .order_by(Device.country)
    )
    return list(session.scalars(query))


def fleet(session: Session, *, product_id: int | None = None) -> list[tuple[str, str, str, int]]:
    """(product, channel, version, devices): who runs what."""
    query = (
        select(ReleaseProduct.key, Device.channel, Device.current_version, func.count(Device.id))
        .join(ReleaseProduct, ReleaseProduct.id == Device.product_id)
        .group_by(ReleaseProduct.key, Device.channel, Device.current_version)
        .order_by(ReleaseProduct.key, Device.channel, Device.current_version)
    )
    if product_id is not None:
        query = query.where(Device.product_id == product_id)
    return [(p, c, v or "?", int(n)) for p, c, v, n in session.execute(query)]


CHANNELS = tuple(c.value for c in Channel)
