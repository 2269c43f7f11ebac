"""The IoT rules: pairing a small device to its owner with a one-time code, its broker
credentials (issued at pairing, gone with the device), its owner's commands, the telemetry the
ingest stores in batches, and the team's fleet inventory.

A small device is a device of the registry (canyu.devices) whose product is of kind ``iot``;
releases enrols it and answers its check-ins (sent over MQTT, canyu.iot.ingest)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.accounts.service import require_team
from canyu.db import utcnow
from canyu.devices import identity
from canyu.devices import service as devices
from canyu.devices.models import Device
from canyu.devices.topics import topic
from canyu.errors import Conflict, InvalidInput, NotFound, Unauthorized
from canyu.iot import broker, topics
from canyu.iot.models import BrokerCredential, DeviceCommand, PairingCode, TelemetryRecord
from canyu.releases import service as releases
from canyu.releases.models import ProductKind, ReleaseProduct

# Crockford-like: no 0/O, 1/I/L to misread from a phone's screen. 8 characters: 32^8 codes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def _normal_code(code: str) -> str:
    return "".join(c for c in code.upper() if c not in " -")


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normal_code(code).encode()).hexdigest()


def _display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class NewCode:
    code: str  # shown once, as XXXX-XXXX
    expires_at: datetime


def create_pairing_code(
    session: Session, *, owner: User, country: str | None = None, minutes: int = 10
) -> NewCode:
    """A one-time code for pairing a small device to ``owner``, standing for ``minutes``. The
    device will be registered in ``country`` (the phone's that asked), else the owner's."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = utcnow() + timedelta(minutes=minutes)
    session.add(
        PairingCode(
            code_hash=_code_hash(raw),
            owner_id=owner.id,
            country=country or owner.country,
            expires_at=expires,
        )
    )
    session.flush()
    return NewCode(_display(raw), expires)


@dataclass(frozen=True)
class Paired:
    device: Device
    product: ReleaseProduct
    username: str
    password: str  # shown to the device once; the broker keeps only its hash


def pair(
    session: Session,
    *,
    code: str,
    product_key: str,
    hardware_id: str,
    model: str | None = None,
    version: str | None = None,
) -> Paired:
    """Pair a small device with the owner whose code it was given: registered for its updates,
    and given its own broker account. A code works once, before it expires; a wrong, used or
    expired one is refused alike (401), so the answer tells a guesser nothing."""
    normal = _normal_code(code or "")
    if len(normal) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in normal):
        raise InvalidInput(
            f"A pairing code has {CODE_LENGTH} letters and digits, e.g. K7QX-4MPA.",
            details={"field": "code"},
        )
    found = session.scalar(
        select(PairingCode).where(PairingCode.code_hash == _code_hash(normal)).with_for_update()
    )
    if found is None or found.used_at is not None or found.expires_at <= utcnow():
        raise Unauthorized("This pairing code is unknown, used or expired; ask for a new one.")
    product = releases.get_product(session, key=product_key)
    if product.kind != ProductKind.IOT.value:
        raise InvalidInput(
            f"{product.key} is not a small device; phones register with 'canyu device register'.",
            details={"field": "product"},
        )
    owner = session.get(User, found.owner_id)
    enrolled = releases.enrol_device(
        session,
        product_key=product.key,
        hardware_id=hardware_id,
        country=found.country,
        channel="stable",
        model=model,
        owner=owner,
        version=version,
    )
    device = enrolled.device
    password = broker.new_password()
    credential = session.get(BrokerCredential, device.id)
    if credential is None:
        credential = BrokerCredential(device_id=device.id, username=topics.username(device.id))
        session.add(credential)
    credential.password_hash = broker.password_hash(password)
    credential.issued_at = utcnow()
    credential.revoked_at = None
    found.used_at = utcnow()
    found.device_id = device.id
    session.flush()
    return Paired(device, product, credential.username, password)


def _owned(session: Session, *, device_id: int, user: User) -> Device:
    """The user's device; 404 for anyone else's (whether it exists is not theirs to know)."""
    device = session.get(Device, device_id)
    if device is None or device.owner_id != user.id:
        raise NotFound(f"You have no device {device_id}.")
    return device


def unpair(session: Session, *, device_id: int, actor: User) -> Device:
    """The owner (or the team) lets a device go: its registry token and broker account are
    revoked (the broker's files drop it at the next sync)."""
    if actor.is_team:
        device = session.get(Device, device_id)
        if device is None:
            raise NotFound(f"No device {device_id}.")
    else:
        device = _owned(session, device_id=device_id, user=actor)
    # The ownership check above is this rule's; the registry's revoke acts on it.
    devices.revoke(session, device_id=device.id)
    revoke_credentials(session, device_ids=[device.id])
    return device


def revoke_credentials(session: Session, *, device_ids: Sequence[int]) -> None:
    session.execute(
        update(BrokerCredential)
        .where(BrokerCredential.device_id.in_(list(device_ids)))
        .where(BrokerCredential.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def send_command(
    session: Session, *, actor: User, device_id: int, action: str, value: str
) -> tuple[DeviceCommand, str]:
    """Store the owner's command for their device; (command, the topic it is published on)."""
    device = _owned(session, device_id=device_id, user=actor)
    allowed = topics.ACTIONS.get(action)
    if allowed is None:
        raise InvalidInput(
            f"Unknown action {action!r}; one of: {', '.join(topics.ACTIONS)}.",
            details={"field": "action"},
        )
    if value not in allowed:
        raise InvalidInput(
            f"{action} takes one of: {', '.join(allowed)}.", details={"field": "value"}
        )
    credential = session.get(BrokerCredential, device.id)
    if credential is None or credential.revoked_at is not None or device.revoked_at is not None:
        raise Conflict("This device is not paired: pair it again before sending it commands.")
    command = DeviceCommand(device_id=device.id, action=action, value=value, sent_by_id=actor.id)
    session.add(command)
    session.flush()
    return command, topics.device_topic(credential.username, topics.COMMANDS)


# --- the broker's accounts ------------------------------------------------------------------------


def broker_accounts(session: Session) -> list[broker.Account]:
    """Every device account that stands (credential and device both unrevoked)."""
    rows = session.execute(
        select(BrokerCredential.username, BrokerCredential.password_hash)
        .join(Device, Device.id == BrokerCredential.device_id)
        .where(BrokerCredential.revoked_at.is_(None), Device.revoked_at.is_(None))
        .order_by(BrokerCredential.device_id)
    )
    return [broker.Account(username, pw) for username, pw in rows]


@dataclass(frozen=True)
class Known:
    """A device whose credentials stand, as the ingest checks messages against it; ``scope``
    is the announcement topic it listens to (canyu.devices.topics.topic)."""

    scope: str
    token_hash: str
    current_version: str | None
    last_seen_at: datetime


def known_devices(session: Session, *, ids: Sequence[int] | None = None) -> dict[int, Known]:
    """Every device whose credentials stand, or those of ``ids`` that do."""
    query = (
        select(Device.id, ReleaseProduct.key, Device.channel, Device.country, Device.token_hash)
        .add_columns(Device.current_version, Device.last_seen_at)
        .join(BrokerCredential, BrokerCredential.device_id == Device.id)
        .join(ReleaseProduct, ReleaseProduct.id == Device.product_id)
        .where(BrokerCredential.revoked_at.is_(None), Device.revoked_at.is_(None))
    )
    if ids is not None:
        query = query.where(Device.id.in_(list(ids)))
    return {
        device_id: Known(topic(key, channel, country), digest, version, seen)
        for device_id, key, channel, country, digest, version, seen in session.execute(query)
    }


def revoked_since(session: Session, *, since: datetime) -> set[int]:
    """Devices whose credentials, or registry token, were revoked at or after ``since``."""
    by_credential = select(BrokerCredential.device_id).where(BrokerCredential.revoked_at >= since)
    by_registry = select(Device.id).where(Device.revoked_at >= since)
    return set(session.scalars(by_credential)) | set(session.scalars(by_registry))


# --- telemetry ------------------------------------------------------------------------------------


TELEMETRY_COLUMNS = ("device_id", "received_at", "state", "mode", "version", "readings", "sent_ms")


def store_telemetry(
    session: Session, *, received_at: datetime, rows: Sequence[tuple[Any, ...]]
) -> None:
    """One batch of telemetry, in the session's transaction: rows of (device id, state, mode,
    version, readings as JSON text, sent_ms), all received at ``received_at``.

    The ingest's hot path (20,000 rows a second): PostgreSQL takes the batch by COPY, SQLite
    by one executemany, both through the driver, since SQLAlchemy's per-row processing costs
    more than the insert itself. The time is converted once per batch by the column's own
    type, so the rows read back as any other."""
    if not rows:
        return
    connection = session.connection()
    table = TelemetryRecord.__table__
    kind = table.c.received_at.type
    convert = kind.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    when = convert(received_at) if convert is not None else received_at
    names = ", ".join(TELEMETRY_COLUMNS)
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {TelemetryRecord.__tablename__} ({names}) FROM STDIN") as copy:
                for device_id, state, mode, version, readings, sent_ms in rows:
                    copy.write_row((device_id, when, state, mode, version, readings, sent_ms))
        else:
            marks = ", ".join("?" for _ in TELEMETRY_COLUMNS)
            cursor.executemany(
                f"INSERT INTO {TelemetryRecord.__tablename__} ({names}) VALUES ({marks})",  # noqa: S608 (constants)
                [(r[0], when, *r[1:]) for r in rows],
            )
    finally:
        cursor.close()


def record_sightings(session: Session, seen: Mapping[int, str | None]) -> None:
    """Devices seen now, each running the build given (None: as before)."""
    now = utcnow()
    for device_id, version in seen.items():
        values: dict[str, Any] = {"last_seen_at": now}
        if version is not None:
            values["current_version"] = version
        session.execute(update(Device).where(Device.id == device_id).values(**values))


def sighting_due(known: Known, version: str | None, now: datetime) -> bool:
    return identity.sighting_due(
        known=known.current_version,
        current=version or known.current_version,
        stale=now - known.last_seen_at > identity.SEEN_EVERY,
    )


def forget_telemetry(session: Session, *, older_than: datetime) -> int:
    result = session.execute(
        delete(TelemetryRecord).where(TelemetryRecord.received_at < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def latest_telemetry(session: Session, *, device_ids: Sequence[int]) -> dict[int, TelemetryRecord]:
    """Each device's last telemetry, one indexed look-up per device (an owner has a few)."""
    found: dict[int, TelemetryRecord] = {}
    for device_id in device_ids:
        record = session.scalar(
            select(TelemetryRecord)
            .where(TelemetryRecord.device_id == device_id)
            .order_by(TelemetryRecord.id.desc())
            .limit(1)
        )
        if record is not None:
            found[device_id] = record
    return found


# --- what owners and the team see -----------------------------------------------------------------


@dataclass(frozen=True)
class DeviceView:
    device: Device
    product: ReleaseProduct
    telemetry: TelemetryRecord | None = None
    paired: bool = False
    commands: list[DeviceCommand] = field(default_factory=list)

    @property
    def is_iot(self) -> bool:
        return self.product.kind == ProductKind.IOT.value

    @property
    def last_seen(self) -> datetime | None:
        seen = [t for t in (self.device.last_seen_at,) if t > devices.NEVER]
        if self.telemetry is not None:
            seen.append(self.telemetry.received_at)
        return max(seen) if seen else None


def _views(session: Session, rows: Sequence[tuple[Device, ReleaseProduct]]) -> list[DeviceView]:
    ids = [d.id for d, _p in rows]
    latest = latest_telemetry(session, device_ids=ids)
    paired = set(
        session.scalars(
            select(BrokerCredential.device_id).where(
                BrokerCredential.device_id.in_(ids), BrokerCredential.revoked_at.is_(None)
            )
        )
    )
    return [
        DeviceView(d, p, latest.get(d.id), d.id in paired and d.revoked_at is None) for d, p in rows
    ]


def owner_devices(session: Session, *, user: User) -> list[DeviceView]:
    """The user's devices, phones and small ones, that stand; newest first."""
    rows = session.execute(
        select(Device, ReleaseProduct)
        .join(ReleaseProduct, ReleaseProduct.id == Device.product_id)
        .where(Device.owner_id == user.id, Device.revoked_at.is_(None))
        .order_by(Device.id.desc())
        .limit(100)
    )
    return _views(session, [(d, p) for d, p in rows])


def device_page(session: Session, *, device_id: int, viewer: User) -> DeviceView:
    """A device as the team sees it (or its owner): registry, telemetry, recent commands."""
    device = session.get(Device, device_id)
    if device is None or not (viewer.is_team or device.owner_id == viewer.id):
        raise NotFound(f"No device {device_id}.")
    product = session.get(ReleaseProduct, device.product_id)
    assert product is not None
    view = _views(session, [(device, product)])[0]
    commands = list(
        session.scalars(
            select(DeviceCommand)
            .where(DeviceCommand.device_id == device.id)
            .order_by(DeviceCommand.id.desc())
            .limit(20)
        )
    )
    return DeviceView(device, product, view.telemetry, view.paired, commands)


def recent_telemetry(session: Session, *, device_id: int, limit: int = 20) -> list[TelemetryRecord]:
    return list(
        session.scalars(
            select(TelemetryRecord)
            .where(TelemetryRecord.device_id == device_id)
            .order_by(TelemetryRecord.id.desc())
            .limit(limit)
        )
    )


SEEN_WITHIN = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@dataclass(frozen=True)
class FleetFilters:
    product: str = ""
    kind: str = ""
    model: str = ""
    version: str = ""
    channel: str = ""
    country: str = ""
    seen: str = ""  # "1d", "7d", "30d", "never", or "" for any

    def clauses(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [Device.revoked_at.is_(None)]
        for column, wanted in (
            (ReleaseProduct.key, self.product),
            (ReleaseProduct.kind, self.kind),
            (Device.model, self.model),
            (Device.current_version, self.version),
            (Device.channel, self.channel),
            (Device.country, self.country),
        ):
            if wanted:
                where.append(column == wanted)
        if self.seen == "never":
            where.append(Device.last_seen_at <= devices.NEVER)
        elif self.seen:
            window = SEEN_WITHIN.get(self.seen)
            if window is None:
                raise InvalidInput(
                    "Seen within one of: 1d, 7d, 30d, never.", details={"field": "seen"}
                )
            where.append(Device.last_seen_at >= utcnow() - window)
        return where


DIMENSIONS = {
    "product": ReleaseProduct.key,
    "model": Device.model,
    "version": Device.current_version,
    "channel": Device.channel,
    "country": Device.country,
}


@dataclass(frozen=True)
class Inventory:
    total: int
    counts: dict[str, list[tuple[str, int]]]
    devices: list[DeviceView]
    page: int
    pages: int


PAGE_SIZE = 50
TOP = 12


def inventory(session: Session, *, actor: User, filters: FleetFilters, page: int = 1) -> Inventory:
    """The team's fleet: how many devices stand by product, model, build, channel and country
    (the largest first), and a page of them, last seen first."""
    require_team(actor)
    where = filters.clauses()
    base = select(func.count(Device.id)).join(
        ReleaseProduct, ReleaseProduct.id == Device.product_id
    )
    total = int(session.scalar(base.where(*where)) or 0)
    counts: dict[str, list[tuple[str, int]]] = {}
    for name, column in DIMENSIONS.items():
        n = func.count(Device.id)
        grouped = session.execute(
            select(column, n)
            .join(ReleaseProduct, ReleaseProduct.id == Device.product_id)
            .where(*where)
            .group_by(column)
            .order_by(n.desc(), column)
            .limit(TOP)
        )
        counts[name] = [(str(v) if v is not None else "?", int(c)) for v, c in grouped]
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    listed = session.execute(
        select(Device, ReleaseProduct)
        .join(ReleaseProduct, ReleaseProduct.id == Device.product_id)
        .where(*where)
        .order_by(Device.last_seen_at.desc(), Device.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return Inventory(total, counts, _views(session, [(d, p) for d, p in listed]), page, pages)
