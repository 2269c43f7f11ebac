"""The IoT JSON API: pairing codes and pairing, an owner's devices and commands, the team's
fleet counts. Thin: rules live in canyu.iot.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from canyu.accounts.deps import CurrentUser, TeamUser, current_user, optional_user
from canyu.accounts.models import User
from canyu.config import Settings as AppSettings
from canyu.deps import DbSession, RowId, get_database, get_settings
from canyu.devices import identity
from canyu.devices import service as devices
from canyu.devices.push import publish_after_commit
from canyu.errors import InvalidInput, Unavailable
from canyu.iot import service, topics
from canyu.iot.deps import FleetQuery
from canyu.iot.runtime import Runtime, get_runtime, sync_after_commit
from canyu.iot.schemas import (
    CodeOut,
    CommandIn,
    CommandOut,
    CountOut,
    DeviceOut,
    FleetOut,
    MqttOut,
    PairedOut,
    PairIn,
    TelemetryOut,
    TufOut,
)
from canyu.ratelimit import client_ip, network_of

router = APIRouter(prefix="/api/v1/iot", tags=["iot"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def code_owner(request: Request, session: DbSession) -> tuple[User, str | None]:
    """Who asks for a pairing code: the owner's phone (its device token: the code is for its
    owner, in its country) or the owner (an API token or a signed-in session)."""
    raw = identity.bearer(request.headers.get("authorization"))
    if raw is not None and raw.startswith(identity.TOKEN_PREFIX):
        phone = devices.authenticate(session, raw_token=raw)
        owner = session.get(User, phone.owner_id) if phone.owner_id is not None else None
        if owner is None:
            raise InvalidInput("This phone has no owner: register it signed in to pair devices.")
        return owner, phone.country
    return current_user(optional_user(request, session)), None


CodeOwner = Annotated[tuple[User, str | None], Depends(code_owner)]


@router.post("/pairing-codes", response_model=CodeOut, status_code=status.HTTP_201_CREATED)
def create_code(
    request: Request, asker: CodeOwner, session: DbSession, runtime: RuntimeDep
) -> CodeOut:
    """A one-time pairing code for a small device (standing a few minutes), asked by its
    owner's phone (device token) or account."""
    owner, country = asker
    request.app.state.limiter.hit(
        runtime.settings.code_rate, "iot-code", str(owner.id), what="pairing code"
    )
    made = service.create_pairing_code(
        session, owner=owner, country=country, minutes=runtime.settings.pairing_minutes
    )
    return CodeOut(code=made.code, expires_at=made.expires_at, country=country or owner.country)


@router.post("/pair", response_model=PairedOut, status_code=status.HTTP_201_CREATED)
def pair(
    body: PairIn,
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    app_settings: Annotated[AppSettings, Depends(get_settings)],
) -> PairedOut:
    """A small device pairs with the code its owner gave it: it gets its own broker account
    (shown once) and the topics it may use. Tries are limited per network."""
    if not runtime.settings.broker_url:
        raise Unavailable("No MQTT broker is configured for small devices on this server.")
    request.app.state.limiter.hit(
        runtime.settings.pair_rate, "iot-pair", network_of(client_ip(request)), what="pairing"
    )
    paired = service.pair(
        session,
        code=body.code,
        product_key=body.product,
        hardware_id=body.hardware_id,
        model=body.model,
        version=body.version,
    )
    sync_after_commit(session, get_database(request), runtime)
    base = str(request.base_url).rstrip("/")
    key = paired.product.key
    name = paired.username
    return PairedOut(
        device_id=paired.device.id,
        product=key,
        owner_id=paired.device.owner_id,
        mqtt=MqttOut(
            url=runtime.settings.broker_url,
            username=name,
            password=paired.password,
            telemetry=topics.device_topic(name, topics.TELEMETRY),
            checkin=topics.device_topic(name, topics.CHECKIN),
            commands=topics.device_topic(name, topics.COMMANDS),
        ),
        tuf=TufOut(
            metadata_url=f"{base}/tuf/{key}/metadata/", targets_url=f"{base}/tuf/{key}/targets/"
        ),
    )


def device_out(view: service.DeviceView) -> DeviceOut:
    t = view.telemetry
    return DeviceOut(
        id=view.device.id,
        product=view.product.key,
        kind=view.product.kind,
        model=view.device.model,
        version=view.device.current_version,
        channel=view.device.channel,
        country=view.device.country,
        last_seen=view.last_seen,
        paired=view.paired,
        telemetry=TelemetryOut(
            received_at=t.received_at,
            state=t.state,
            mode=t.mode,
            version=t.version,
            readings=t.readings,
        )
        if t is not None
        else None,
    )


@router.get("/devices", response_model=list[DeviceOut])
def my_devices(user: CurrentUser, session: DbSession) -> list[DeviceOut]:
    """The caller's devices, phones and small ones, with their last telemetry."""
    return [device_out(v) for v in service.owner_devices(session, user=user)]


@router.post(
    "/devices/{device_id}/commands",
    response_model=CommandOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def command(
    device_id: RowId, body: CommandIn, user: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> CommandOut:
    """Send a command to one's own device (power on/off, a mode); published once stored."""
    sent, topic = service.send_command(
        session, actor=user, device_id=device_id, action=body.action, value=body.value
    )
    message = topics.command_message(sent.id, sent.action, sent.value)
    publish_after_commit(session, runtime.pusher, [(topic, message)])
    return CommandOut(id=sent.id, action=sent.action, value=sent.value, created_at=sent.created_at)


@router.delete("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
def unpair(
    device_id: RowId, request: Request, user: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> None:
    """Let a device go (its owner, or the team): its token and broker account are revoked."""
    service.unpair(session, device_id=device_id, actor=user)
    sync_after_commit(session, get_database(request), runtime)


@router.get("/fleet", response_model=FleetOut)
def fleet(actor: TeamUser, session: DbSession, filters: FleetQuery) -> FleetOut:
    """The team's fleet: devices by product, model, build, channel and country (filters:
    product, kind, model, version, channel, country, seen = 1d, 7d, 30d or never)."""
    found = service.inventory(session, actor=actor, filters=filters)
    return FleetOut(
        total=found.total,
        counts={
            name: [CountOut(value=v, devices=n) for v, n in rows]
            for name, rows in found.counts.items()
        },
    )
