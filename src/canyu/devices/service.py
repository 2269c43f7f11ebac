"""The device registry: registration and tokens, sightings, revocation, who is where.

Devices sit beneath releases: releases decides what a device is offered and counts its install
reports; this domain knows who a device is (canyu.devices.identity), whom it belongs to and
where it is, and pushes to it (canyu.devices.push).
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.db import utcnow
from canyu.devices import attestation as attestation_rules
from canyu.devices import identity
from canyu.devices.identity import SeenDevice
from canyu.devices.models import Device, DeviceKey
from canyu.errors import Conflict, InvalidInput, NotFound, Unauthorized

_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,39}$")
MAX_HARDWARE_ID = 256


@dataclass(frozen=True)
class Registered:
    device: Device
    token: str
    # How a known device proved itself ("token", "owner", "attestation", "released"), or "new".
    proof: str = "new"


@dataclass(frozen=True)
class Attestation:
    """A registration statement signed by the device's enrolled key (canyu.devices.attestation)."""

    signed_at: int
    signature: str


# A device that has registered but never checked in was last seen "never": registering is not a
# check-in (releases counts a device's reports only once it checked in for the rollout).
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _attested(
    session: Session,
    *,
    product_id: int,
    product_key: str,
    hardware_id: str,
    key: str,
    attestation: Attestation | None,
) -> bool:
    """Whether the registration is signed by the device's enrolled key; 401 when a key is
    enrolled and the statement is missing or does not stand, or one is sent and none is."""
    enrolled = session.scalar(
        select(DeviceKey)
        .where(DeviceKey.product_id == product_id, DeviceKey.hardware_hash == key)
        .with_for_update()
    )
    if enrolled is None:
        if attestation is not None:
            raise Unauthorized("No attestation key is enrolled for this device.")
        return False
    if attestation is None:
        raise Unauthorized(
            "This device was provisioned with an attestation key: sign the registration "
            "('attestation': signed_at and signature)."
        )
    why = attestation_rules.verify(
        enrolled.public_key,
        product=product_key,
        hardware_id=hardware_id,
        signed_at=attestation.signed_at,
        signature=attestation.signature,
        now=time.time(),
        last_signed_at=enrolled.last_signed_at,
    )
    if why is not None:
        raise Unauthorized(f"Attestation refused: {why}.")
    enrolled.last_signed_at = attestation.signed_at
    return True


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
    device_token: str | None = None,
    attestation: Attestation | None = None,
    admit_new: Callable[[], None] | None = None,
) -> Registered:
    """Register a device of a product, or re-register it after a reset (same hardware, a new
    token). The caller has checked the product and channel, and normalised the version.

    A device already registered (and not revoked) registers again only with proof: its current
    token (``device_token``), its owner signed in (``owner``), or a statement signed by its
    enrolled attestation key. Only a proven device changes owner: to the friend signed in, if
    any. A device with an enrolled key always signs. ``admit_new`` is called before an unknown,
    unsigned device is added (the route's per-network limit)."""
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
    key = identity.hardware_hash(product_key, hw)
    attested = _attested(
        session,
        product_id=product_id,
        product_key=product_key,
        hardware_id=hw,
        key=key,
        attestation=attestation,
    )
    device = session.scalar(
        select(Device)
        .where(Device.product_id == product_id, Device.hardware_hash == key)
        .with_for_update()
    )
    raw = identity.new_token()
    if device is None:
        if not attested and admit_new is not None:
            admit_new()
        device = Device(
            product_id=product_id,
            hardware_hash=key,
            token_hash=identity.token_hash(raw),
            last_seen_at=NEVER,
            owner_id=owner.id if owner is not None else None,
        )
        session.add(device)
        proof = "attestation" if attested else "new"
    else:
        proof = _proof(device, owner=owner, device_token=device_token, attested=attested)
        if proof == "released":  # revoked: given up by its device or the team; a new owner
            device.owner_id = owner.id if owner is not None else None
        elif owner is not None:
            device.owner_id = owner.id
    device.token_hash = identity.token_hash(raw)
    device.revoked_at = None
    device.model = chosen_model
    device.country = code
    device.channel = channel
    if version is not None:
        device.current_version = version
    try:
        session.flush()
    except IntegrityError:  # the same new device registered twice at once (rolled back)
        raise Conflict("This device is being registered by another request; try again.") from None
    return Registered(device, raw, proof)


def _proof(device: Device, *, owner: User | None, device_token: str | None, attested: bool) -> str:
    """How a known device proves it is itself; 409 when it does not."""
    if attested:
        return "attestation"
    if device_token and hmac.compare_digest(identity.token_hash(device_token), device.token_hash):
        return "token"
    if owner is not None and device.owner_id == owner.id:
        return "owner"
    if device.revoked_at is not None:
        return "released"
    raise Conflict(
        "This device is already registered. Register it again with its current token "
        "('device_token'), signed in as its owner, or signed with its attestation key.",
        details={"field": "hardware_id"},
    )


def by_token_digest(session: Session, *, digest: str) -> Device | None:
    return session.scalar(select(Device).where(Device.token_hash == digest))


def authenticate(session: Session, *, raw_token: str | None) -> Device:
    """The device holding this token; 401 for a missing, malformed, unknown or revoked one."""
    device = by_token_digest(session, digest=identity.token_digest(raw_token))
    if device is None or device.revoked_at is not None:
        identity.refuse(found=device is not None)
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
    registered_since: datetime | None = None,
) -> int:
    """Devices in a rollout's scope whose tokens stand (those registered since a time, if
    given)."""
    query = select(func.count(Device.id)).where(
        Device.product_id == product_id,
        Device.channel.in_(list(channels)),
        Device.revoked_at.is_(None),
    )
    if registered_since is not None:
        query = query.where(Device.registered_at >= registered_since)
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


# --- attestation keys ----------------------------------------------------------------------------


def is_provisioned(session: Session, *, product_id: int, hardware_hash: str) -> bool:
    """Whether the device's factory enrolled an attestation key for it (so it registered
    signed: a real device, not one made up by whoever knows a serial)."""
    found = session.scalar(
        select(DeviceKey.id).where(
            DeviceKey.product_id == product_id, DeviceKey.hardware_hash == hardware_hash
        )
    )
    return found is not None


@dataclass(frozen=True)
class Provisioned:
    added: int
    unchanged: int


def enrol_keys(
    session: Session,
    *,
    product_id: int,
    product_key: str,
    keys: Sequence[tuple[str, str]],
    replace: bool = False,
) -> Provisioned:
    """Enrol a factory's (hardware id, public key) pairs in bulk. A pair already enrolled is
    left as it is; a different key for an enrolled device is refused (nothing written) unless
    ``replace`` (a board re-keyed at the factory). Lines are checked before any is written."""
    wanted: dict[str, str] = {}
    for line, (hardware_id, public_key) in enumerate(keys, start=1):
        hw = (hardware_id or "").strip()
        if not hw or len(hw) > MAX_HARDWARE_ID or "\x00" in hw:
            raise InvalidInput(
                f"Entry {line}: a hardware id has 1 to {MAX_HARDWARE_ID} characters.",
                details={"entry": line, "field": "hardware_id"},
            )
        try:
            parsed = attestation_rules.parse_public_key(public_key)
        except attestation_rules.BadKey as exc:
            raise InvalidInput(
                f"Entry {line} ({hw}): {exc}.", details={"entry": line, "field": "public_key"}
            ) from None
        key = identity.hardware_hash(product_key, hw)
        if wanted.get(key, parsed) != parsed:
            raise InvalidInput(
                f"Entry {line} ({hw}): the file gives this device two different keys.",
                details={"entry": line},
            )
        wanted[key] = parsed
    existing: dict[str, DeviceKey] = {}
    hashes = list(wanted)
    for start in range(0, len(hashes), 500):
        for row in session.scalars(
            select(DeviceKey).where(
                DeviceKey.product_id == product_id,
                DeviceKey.hardware_hash.in_(hashes[start : start + 500]),
            )
        ):
            existing[row.hardware_hash] = row
    changed = [k for k, row in existing.items() if row.public_key != wanted[k]]
    if changed and not replace:
        raise Conflict(
            f"{len(changed)} device(s) already have a different key enrolled; "
            "use --replace to re-key them.",
            details={"conflicts": len(changed)},
        )
    for k in changed:
        existing[k].public_key = wanted[k]
        existing[k].last_signed_at = None
    new = [k for k in wanted if k not in existing]
    session.add_all(
        DeviceKey(product_id=product_id, hardware_hash=k, public_key=wanted[k]) for k in new
    )
    session.flush()
    return Provisioned(added=len(new) + len(changed), unchanged=len(existing) - len(changed))
