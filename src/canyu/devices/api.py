"""The device API: register, check in, report. Thin: rules live in canyu.devices.service.

Devices authenticate with their own token (``Authorization: Bearer cyd_...``), not a friend's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import Response
from pydantic import ValidationError

from canyu.accounts.deps import MaybeUser, TeamUser
from canyu.config import Settings
from canyu.db import MAX_ID
from canyu.deps import DbSession, get_database, get_settings
from canyu.devices import service
from canyu.devices.models import Device
from canyu.devices.push import topic
from canyu.devices.schemas import (
    CheckinIn,
    CheckinOut,
    FleetRow,
    OfferOut,
    PushOut,
    RegisteredOut,
    RegisterIn,
    ReportIn,
    ReportOut,
    TufOut,
    checkin_answer,
)
from canyu.errors import InvalidInput
from canyu.releases import service as releases
from canyu.releases.runtime import evaluate_after_commit, get_runtime

router = APIRouter(prefix="/api/v1", tags=["devices"])
RuntimeDep = Annotated[releases.Runtime, Depends(get_runtime)]


def device_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else None


def current_device(request: Request, session: DbSession) -> Device:
    return service.authenticate(session, raw_token=device_token(request))


CurrentDevice = Annotated[Device, Depends(current_device)]


@router.post("/devices", response_model=RegisteredOut, status_code=status.HTTP_201_CREATED)
def register(
    body: RegisterIn,
    request: Request,
    session: DbSession,
    owner: MaybeUser,
    settings: Annotated[Settings, Depends(get_settings)],
    runtime: RuntimeDep,
) -> RegisteredOut:
    """Register a device; send a friend's API token to make them its owner."""
    done = service.register(
        session,
        product_key=body.product,
        hardware_id=body.hardware_id,
        country=body.country,
        channel=body.channel.value,
        model=body.model,
        owner=owner,
        version=body.version,
    )
    base = str(request.base_url).rstrip("/")
    key = done.product.key
    return RegisteredOut(
        device_id=done.device.id,
        token=done.token,
        owner_id=done.device.owner_id,
        push=PushOut(
            broker=settings.mqtt_url or None,
            topic=topic(key, done.device.channel, done.device.country),
        ),
        tuf=TufOut(
            metadata_url=f"{base}/tuf/{key}/metadata/", targets_url=f"{base}/tuf/{key}/targets/"
        ),
        poll_seconds=runtime.settings.poll_seconds,
    )


async def check_in_fast(request: Request) -> Response:
    """The check-in hot path, served without FastAPI's dependency machinery (which costs more
    than the check-in itself): one indexed lookup of the device, the offer decided in memory.

    The lookup runs on the event loop rather than in a worker thread: it is a single read by a
    unique index, shorter than the two thread switches a worker would add. The documented route
    below has the same contract; this one is registered first, so it is the one that answers.
    """
    try:
        raw = await request.body()
        body = CheckinIn.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise InvalidInput(f"Invalid check-in: {exc.errors()[0]['msg']}") from None
    runtime = get_runtime(request)
    database = get_database(request)
    with database.session() as session:
        device = service.authenticate(session, raw_token=device_token(request))
        offer = service.check_in(
            session, device=device, version=body.version, offers=runtime.offers
        )
        if not session.dirty:
            session.rollback()  # nothing to write: skip the commit
    return Response(
        checkin_answer(offer, runtime.settings.poll_seconds), media_type="application/json"
    )


router.add_route(
    router.prefix + "/devices/checkin", check_in_fast, methods=["POST"], include_in_schema=False
)


@router.post("/devices/checkin", response_model=CheckinOut)
def check_in(
    body: CheckinIn, device: CurrentDevice, session: DbSession, runtime: RuntimeDep
) -> CheckinOut:
    """Say which build the device runs; get the update to install (a TUF target), if any."""
    offer = service.check_in(session, device=device, version=body.version, offers=runtime.offers)
    return CheckinOut(
        offer=None
        if offer is None
        else OfferOut(
            target=offer.target.name,
            version=offer.target.version,
            length=offer.target.length,
            sha256=offer.target.sha256,
            rollout_id=offer.rollout_id,
            rollback=offer.rollback,
        ),
        poll_seconds=runtime.settings.poll_seconds,
    )


@router.post("/devices/reports", response_model=ReportOut)
def report(
    body: ReportIn,
    request: Request,
    device: CurrentDevice,
    session: DbSession,
    runtime: RuntimeDep,
) -> ReportOut:
    """An install result or a crash count. Idempotent: a retry with the same report_id is
    acknowledged and counted once."""
    outcome = service.report(
        session,
        device=device,
        report_id=body.report_id,
        kind=body.kind,
        version=body.version,
        success=body.success,
        failure_code=body.failure_code,
        crashes=body.crashes,
        offers=runtime.offers,
    )
    if not outcome.duplicate:
        evaluate_after_commit(session, get_database(request), runtime, outcome.report.rollout_id)
    return ReportOut(report_id=body.report_id, accepted=True, duplicate=outcome.duplicate)


@router.delete("/devices/me", status_code=status.HTTP_204_NO_CONTENT)
def revoke_me(device: CurrentDevice, session: DbSession) -> None:
    """Revoke this device's token (a reset or a sale): it must register again."""
    service.revoke(session, device_id=device.id)


@router.post("/devices/{device_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke(
    device_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: TeamUser, session: DbSession
) -> None:
    service.revoke(session, device_id=device_id, actor=actor)


@router.get("/devices/fleet", response_model=list[FleetRow])
def fleet(
    actor: TeamUser,
    session: DbSession,
    product: Annotated[str | None, Query(min_length=2, max_length=40)] = None,
) -> list[FleetRow]:
    product_id = releases.get_product(session, key=product).id if product else None
    return [
        FleetRow(product=p, channel=c, version=v, devices=n)
        for p, c, v, n in service.fleet(session, product_id=product_id)
    ]
