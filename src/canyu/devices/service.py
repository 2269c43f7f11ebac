"""The device registry: registration and tokens, sightings, revocation, who is where.

Devices sit beneath releases: releases decides what a device is offered and counts its install
reports; this domain knows who a device is (canyu.devices.identity), whom it belongs to and
where it is, and pushes to it (canyu.devices.push).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.db import utcnow
from canyu.devices import identity
from canyu.devices.identity import SeenDevice
from canyu.devices.models import Device
from canyu.errors import InvalidInput, NotFound

_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,39}$")
MAX_HARDWARE_ID = 256


@dataclass(frozen=True)
class Registered:
    device: Device
    token: str


def register(
    session: Session,
    *,
    product_id: int,
    product_key: str,
    hardware_id: str,
    country: str,
    channel: str,
    model: str,
    owner: User | None = None,
    version: str | None = None,
) -> Registered:
    """Register a device of a product (or re-register it after a reset: same hardware, a new
    token). The caller has checked the product and channel, and normalised the version."""
    hw = (hardware_id or "").strip()
    if not hw or len(hw) > MAX_HARDWARE_ID or "\x00" in hw:
        raise InvalidInput(
            f"A hardware id has 1 to {MAX_HARDWARE_ID} characters.",
            details={"field": "hardware_id"},
        )
    code = accounts.check_country(country)
    chosen_model = model.strip()
    if not _MODEL.fullmatch(chosen_model):
        raise InvalidInput(
            "A device model has 1 to 40 letters, digits, spaces or '._+-'.",
            details={"field": "model"},
        )
    raw = identity.new_token()
    key = identity.hardware_hash(product_key, hw)
    device = session.scalar(
        select(Device).where(Device.product_id == product_id, Device.hardware_hash == key)
    )
    if device is None:
        device = Device(
            product_id=product_id, hardware_hash=key, token_hash=identity.token_hash(raw)
        )
        session.add(device)
    device.token_hash = identity.token_hash(raw)
    device.revoked_at = None
    device.model = chosen_model
    device.country = code
    device.channel = channel
    if owner is not None:
        device.owner_id = owner.id
    if version is not None:
        device.current_version = version
    device.last_seen_at = utcnow()
    session.flush()
    return Registered(device, raw)


def by_token_digest(session: Session, *, digest: str) -> Device | None:
    return session.scalar(select(Device).where(Device.token_hash == digest))


def authenticate(session: Session, *, raw_token: str | None) -> Device:
    """The device holding this token; 401 for a missing, malformed, unknown or revoked one."""
    device = by_token_digest(session, digest=identity.token_digest(raw_token))
    identity.require_standing(
        found=device is not None, revoked=device is not None and device.revoked_at is not None
    )
    assert device is not None
    return device


def as_seen(device: Device) -> SeenDevice:
    """The device as a check-in reads it (the fast path reads the same columns by SQL)."""
    return (
        device.id,
        device.product_id,
        device.channel,
        device.country,
        device.model,
        device.hardware_hash,
        device.current_version,
        utcnow() - device.last_seen_at > identity.SEEN_EVERY,
        device.revoked_at is not None,
    )


def record_sighting(device: Device, *, version: str | None) -> None:
    """The device was seen now, running ``version``."""
    device.current_version = version
    device.last_seen_at = utcnow()


def revoke(session: Session, *, device_id: int, actor: User | None = None) -> Device:
    accounts.require_team(actor)
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"No device {device_id}.")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
    session.flush()
    return device


def owns_active_device(user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL: whether the user in ``user_id`` owns a device whose token stands (an EXISTS)."""
    return select(Device.id).where(Device.owner_id == user_id, Device.revoked_at.is_(None)).exists()


# --- who is where -------------------------------------------------------------------------------


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


def fleet(session: Session, *, product_id: int | None = None) -> list[tuple[int, str, str, int]]:
    """(product id, channel, version, devices): who runs what."""
    query = (
        select(Device.product_id, Device.channel, Device.current_version, func.count(Device.id))
        .group_by(Device.product_id, Device.channel, Device.current_version)
        .order_by(Device.product_id, Device.channel, Device.current_version)
    )
    if product_id is not None:
        query = query.where(Device.product_id == product_id)
    return [(p, c, v or "?", int(n)) for p, c, v, n in session.execute(query)]
