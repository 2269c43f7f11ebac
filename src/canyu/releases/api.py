"""The releases JSON API: products, builds and payloads, the train, rollouts. Thin: rules live in
canyu.releases.service."""

from __future__ import annotations

import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from canyu.accounts.deps import CurrentUser, MaybeUser, TeamUser
from canyu.accounts.models import User
from canyu.community import notices
from canyu.config import Settings as AppSettings
from canyu.db import MAX_ID
from canyu.deps import DbSession, get_database, get_settings
from canyu.devices.deps import CurrentDevice
from canyu.devices.push import publish_after_commit
from canyu.devices.service import Attestation
from canyu.devices.topics import topic
from canyu.errors import InvalidInput
from canyu.i18n import gettext_for
from canyu.ratelimit import client_ip, network_of
from canyu.releases import changelog as changelog_mod
from canyu.releases import checkin, service, signing
from canyu.releases.models import Build, Rollout
from canyu.releases.runtime import evaluate_after_commit, get_runtime
from canyu.releases.schemas import (
    BuildDetail,
    BuildIn,
    BuildOut,
    ChangelogOut,
    CheckinIn,
    CheckinOut,
    CountsOut,
    CreditOut,
    CreditPreference,
    CutIn,
    DecisionOut,
    DeviceFeedbackIn,
    DeviceFeedbackOut,
    DeviceNoticeOut,
    DeviceNoticesOut,
    EntryOut,
    EventOut,
    FleetRow,
    PayloadOut,
    ProductIn,
    ProductOut,
    PushOut,
    ReasonIn,
    RegisteredOut,
    RegisterIn,
    ReportIn,
    ReportOut,
    RolloutDetail,
    RolloutIn,
    RolloutOut,
    SampleOut,
    TrainPostOut,
    TufOut,
)
from canyu.releases.settings import ReleaseSettings, get_release_settings

router = APIRouter(prefix="/api/v1", tags=["releases"])

BuildId = Annotated[int, Path(ge=1, le=MAX_ID)]
RolloutId = Annotated[int, Path(ge=1, le=MAX_ID)]
PostId = Annotated[int, Path(ge=1, le=MAX_ID)]
ProductKey = Annotated[str, Path(min_length=2, max_length=40)]
Settings = Annotated[ReleaseSettings, Depends(get_release_settings)]
RuntimeDep = Annotated[service.Runtime, Depends(get_runtime)]


# --- products ----------------------------------------------------------------------------------


@router.get("/products", response_model=list[ProductOut])
def list_products(session: DbSession) -> object:
    return service.list_products(session)


@router.post("/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
def create_product(body: ProductIn, actor: TeamUser, session: DbSession) -> object:
    return service.create_product(
        session, actor=actor, key=body.key, name=body.name, kind=body.kind.value
    )


@router.get("/products/{key}/root.json", summary="The product's current TUF root (trust anchor)")
def trusted_root(key: ProductKey, session: DbSession, settings: Settings) -> Response:
    product = service.get_product(session, key=key)
    return Response(signing.trusted_root(product.key, settings), media_type="application/json")


# --- builds ------------------------------------------------------------------------------------


def changelog_out(log: changelog_mod.Changelog, version: str, locale: str) -> ChangelogOut:
    def entry(e: changelog_mod.Entry) -> EntryOut:
        credit = CreditOut(
            reporter=e.credit.reporter,
            voters=list(e.credit.voters),
            other_voters=e.credit.other_voters,
        )
        return EntryOut(
            post_id=e.post_id,
            kind=e.kind,
            title=e.title,
            language=e.language,
            votes=e.votes,
            credit=credit,
        )

    return ChangelogOut(
        fixed=[entry(e) for e in log.fixed],
        new=[entry(e) for e in log.new],
        contributors=log.contributors,
        text=changelog_mod.render_text(log, version, gettext_for(locale)),
    )


def build_detail(session: Session, build: Build, locale: str) -> BuildDetail:
    out = BuildOut.model_validate(build)
    log = service.changelog(session, build=build)
    return BuildDetail(**out.model_dump(), changelog=changelog_out(log, build.version, locale))


@router.get("/builds", response_model=list[BuildOut])
def list_builds(
    session: DbSession,
    product: Annotated[str | None, Query(min_length=2, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> object:
    return service.list_builds(session, product_key=product, limit=limit)


@router.post("/builds", response_model=BuildDetail, status_code=status.HTTP_201_CREATED)
def create_build(body: BuildIn, actor: TeamUser, session: DbSession) -> object:
    build = service.create_build(
        session,
        actor=actor,
        product_key=body.product,
        channel=body.channel.value,
        version=body.version,
        notes=body.notes,
        post_ids=body.post_ids,
    )
    return build_detail(session, build, actor.locale)


@router.get("/builds/{build_id}", response_model=BuildDetail)
def get_build(
    build_id: BuildId,
    session: DbSession,
    locale: Annotated[str, Query(pattern="^(en|zh)$")] = "en",
) -> object:
    return build_detail(session, service.get_build(session, build_id=build_id), locale)


@router.post(
    "/builds/{build_id}/payloads",
    response_model=PayloadOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "sha256"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        },
                    }
                }
            },
        }
    },
)
async def upload_payload(
    build_id: BuildId,
    request: Request,
    actor: TeamUser,
    settings: Settings,
) -> object:
    """Upload a payload (multipart: ``file`` and its declared ``sha256``); it becomes a TUF
    target. Too large: 413. Bytes not matching the declared hash: 422, nothing kept."""
    limit = settings.max_payload_bytes
    declared_length = request.headers.get("content-length")
    if declared_length and declared_length.isdigit() and int(declared_length) > limit + 64 * 1024:
        raise service.PayloadTooLarge(
            f"The payload is larger than the {limit} bytes allowed.", details={"limit": limit}
        )
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    declared = form.get("sha256")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            "Send the payload as the multipart field 'file'.", details={"field": "file"}
        )
    if not isinstance(declared, str):
        raise InvalidInput("Declare the payload's sha256.", details={"field": "sha256"})
    database = get_database(request)
    with tempfile.TemporaryDirectory(prefix="canyu-upload-") as spool_dir:
        spool, length, digest = await run_in_threadpool(
            service.read_payload, upload.file, limit=limit, spool=FsPath(spool_dir) / "payload"
        )

        def store() -> PayloadOut:
            with database.session() as session:
                build = service.get_build(session, build_id=build_id)
                payload = service.add_payload(
                    session,
                    actor=session.get(User, actor.id),
                    build=build,
                    filename=upload.filename or "",
                    data=spool,
                    length=length,
                    actual_sha256=digest,
                    declared_sha256=declared,
                    settings=settings,
                )
                return PayloadOut.model_validate(payload)

        return await run_in_threadpool(store)


# --- the weekly train --------------------------------------------------------------------------


@router.get("/products/{key}/train", response_model=list[TrainPostOut])
def train(key: ProductKey, session: DbSession) -> object:
    return service.train_posts(session, product_key=key)


@router.put("/products/{key}/train/{post_id}", response_model=TrainPostOut)
def board_train(key: ProductKey, post_id: PostId, actor: TeamUser, session: DbSession) -> object:
    return service.train_attach(session, actor=actor, product_key=key, post_id=post_id)


@router.delete("/products/{key}/train/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
def leave_train(key: ProductKey, post_id: PostId, actor: TeamUser, session: DbSession) -> None:
    service.train_detach(session, actor=actor, product_key=key, post_id=post_id)


@router.post(
    "/products/{key}/train/cut", response_model=BuildDetail, status_code=status.HTTP_201_CREATED
)
def cut(key: ProductKey, body: CutIn, actor: TeamUser, session: DbSession) -> object:
    build = service.cut_train(
        session,
        actor=actor,
        product_key=key,
        version=body.version,
        notes=body.notes,
        allow_empty=body.allow_empty,
    )
    return build_detail(session, build, actor.locale)


# --- rollouts ----------------------------------------------------------------------------------


def rollout_out(rollout: Rollout) -> RolloutOut:
    return RolloutOut(
        id=rollout.id,
        build_id=rollout.build_id,
        version=rollout.build.version,
        product=rollout.build.product.key,
        previous_build_id=rollout.previous_build_id,
        status=rollout.status,
        stages=rollout.stages,
        stage_index=rollout.stage_index,
        percent=rollout.percent,
        channels=rollout.channels,
        countries=rollout.countries,
        device_models=rollout.device_models,
        thresholds=rollout.thresholds,
        reason=rollout.reason,
        auto_paused=rollout.auto_paused,
        created_at=rollout.created_at,
        completed_at=rollout.completed_at,
    )


def rollout_detail(session: Session, rollout: Rollout) -> RolloutDetail:
    counts = service.rollout_counts(session, rollout=rollout, since_resume=False)
    return RolloutDetail(
        **rollout_out(rollout).model_dump(),
        counts=CountsOut(**counts.__dict__),
        events=[
            EventOut.model_validate(e)
            for e in service.rollout_events(session, rollout_id=rollout.id)
        ],
        samples=[
            SampleOut.model_validate(s)
            for s in service.health_samples(session, rollout_id=rollout.id)
        ],
    )


@router.get("/rollouts", response_model=list[RolloutOut])
def list_rollouts(
    session: DbSession, build_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> list[RolloutOut]:
    return [rollout_out(r) for r in service.list_rollouts(session, build_id=build_id)]


@router.post("/rollouts", response_model=RolloutDetail, status_code=status.HTTP_201_CREATED)
def start_rollout(
    body: RolloutIn, actor: TeamUser, session: DbSession, runtime: RuntimeDep
) -> RolloutDetail:
    rollout = service.start_rollout(
        session,
        actor=actor,
        build_id=body.build_id,
        stages=body.stages,
        channels=[c.value for c in body.channels] if body.channels else None,
        countries=body.countries,
        device_models=body.device_models,
        thresholds=body.thresholds.to_thresholds(),
        runtime=runtime,
    )
    return rollout_detail(session, rollout)


@router.get("/rollouts/{rollout_id}", response_model=RolloutDetail)
def get_rollout(rollout_id: RolloutId, session: DbSession) -> RolloutDetail:
    return rollout_detail(session, service.get_rollout(session, rollout_id=rollout_id))


@router.post("/rollouts/{rollout_id}/evaluate", response_model=DecisionOut)
def evaluate(
    rollout_id: RolloutId, actor: TeamUser, session: DbSession, runtime: RuntimeDep
) -> DecisionOut:
    """Run the health gates now (they also run by themselves)."""
    decision = service.evaluate(session, rollout_id=rollout_id, runtime=runtime)
    rollout = service.get_rollout(session, rollout_id=rollout_id)
    return DecisionOut(
        action=decision.action.value,
        reason=decision.reason,
        signals=decision.signals,
        rollout=rollout_out(rollout),
    )


ACTIONS: dict[str, Any] = {
    "pause": service.pause,
    "resume": service.resume,
    "halt": service.halt,
    "rollback": service.roll_back,
}


@router.post("/rollouts/{rollout_id}/{action}", response_model=RolloutOut)
def act_on_rollout(
    rollout_id: RolloutId,
    action: Annotated[str, Path(pattern="^(pause|resume|halt|rollback)$")],
    actor: TeamUser,
    session: DbSession,
    runtime: RuntimeDep,
    body: ReasonIn | None = None,
) -> RolloutOut:
    """Pause, resume, halt, or roll back (devices on the build are offered the previous one)."""
    rollout = ACTIONS[action](
        session,
        actor=actor,
        rollout_id=rollout_id,
        reason=body.reason if body else None,
        runtime=runtime,
    )
    return rollout_out(rollout)


# --- credit preference -------------------------------------------------------------------------


@router.get("/me/release-credit", response_model=CreditPreference)
def get_credit(user: CurrentUser, session: DbSession) -> CreditPreference:
    return CreditPreference(opted_out=service.credit_opted_out(session, user=user))


@router.put("/me/release-credit", response_model=CreditPreference)
def put_credit(body: CreditPreference, user: CurrentUser, session: DbSession) -> CreditPreference:
    """Opt out of (or back into) being named in changelogs; you are still counted."""
    return CreditPreference(
        opted_out=service.set_credit_optout(session, user=user, opted_out=body.opted_out)
    )


# --- devices: enrolment, check-ins, reports -------------------------------------------------


@router.post(
    "/devices",
    response_model=RegisteredOut,
    status_code=status.HTTP_201_CREATED,
    tags=["devices"],
)
def register_device(
    body: RegisterIn,
    request: Request,
    session: DbSession,
    owner: MaybeUser,
    app_settings: Annotated[AppSettings, Depends(get_settings)],
    runtime: RuntimeDep,
) -> RegisteredOut:
    """Register a device for its updates; send a friend's API token to make them its owner.

    A device registered before registers again only with proof: its current token
    (``device_token``), its owner's sign-in, or its attestation (a statement signed by the key
    its factory enrolled; required for such devices). New devices without an attestation are
    limited per network."""

    def admit_new() -> None:
        request.app.state.limiter.hit(
            app_settings.device_register_rate,
            "device-register",
            network_of(client_ip(request)),
            what="device registration",
        )

    signed = body.attestation
    done = service.enrol_device(
        session,
        product_key=body.product,
        hardware_id=body.hardware_id,
        country=body.country,
        channel=body.channel.value,
        model=body.model,
        owner=owner,
        version=body.version,
        device_token=body.device_token,
        attestation=Attestation(signed.signed_at, signed.signature) if signed else None,
        admit_new=admit_new,
    )
    base = str(request.base_url).rstrip("/")
    key = done.product.key
    return RegisteredOut(
        device_id=done.device.id,
        token=done.token,
        owner_id=done.device.owner_id,
        push=PushOut(
            broker=app_settings.mqtt_url or None,
            topic=topic(key, done.device.channel, done.device.country),
        ),
        tuf=TufOut(
            metadata_url=f"{base}/tuf/{key}/metadata/", targets_url=f"{base}/tuf/{key}/targets/"
        ),
        poll_seconds=runtime.settings.poll_seconds,
    )


@router.post(
    "/devices/checkin",
    response_model=CheckinOut,
    tags=["devices"],
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": CheckinIn.model_json_schema()}},
            "required": False,
        }
    },
)
async def check_in(request: Request, runtime: RuntimeDep) -> Response:
    """Say which build the device runs (``{"version": "1.2.3"}``); get the update to install (a
    TUF target), if any. Servers answer this in front of the app (canyu.releases.edge) by the
    same rule; this route is its documented, reference form."""
    digest, version = checkin.read_request(
        await request.body(), request.headers.get("authorization")
    )
    database = get_database(request)
    with database.session() as session:
        offer = service.check_in(
            session, token_digest=digest, version=version, offers=runtime.offers
        )
        session.commit()
    return Response(
        checkin.answer(offer, runtime.settings.poll_seconds), media_type="application/json"
    )


@router.post("/devices/reports", response_model=ReportOut, tags=["devices"])
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
    if outcome.notified:  # "fixed in build X": ring the phone so it fetches the notice now
        publish_after_commit(session, runtime.pusher, [service.notice_push(device)])
    return ReportOut(report_id=body.report_id, accepted=True, duplicate=outcome.duplicate)


@router.get("/devices/fleet", response_model=list[FleetRow], tags=["devices"])
def fleet(
    actor: TeamUser,
    session: DbSession,
    product: Annotated[str | None, Query(min_length=2, max_length=40)] = None,
) -> list[FleetRow]:
    """Who runs what: devices by product, channel and build."""
    return [
        FleetRow(product=p, channel=c, version=v, devices=n)
        for p, c, v, n in service.fleet(session, product_key=product)
    ]


# --- the phone: its owner's notices, and feedback filed from the device -----------------------


@router.get("/devices/notices", response_model=DeviceNoticesOut, tags=["devices"])
def device_notices(
    device: CurrentDevice,
    session: DbSession,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="The last notice id held.")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.phone.MAX_NOTICES)] = 50,
) -> DeviceNoticesOut:
    """The owner's notices newer than ``after``, in the owner's language (fetched on each
    check-in cycle, and when a push on ``canyu/devices/<id>`` rings)."""
    owner, found = service.device_notices(session, device=device, after=after, limit=limit)
    _ = gettext_for(owner.locale if owner else "en")
    return DeviceNoticesOut(
        notices=[
            DeviceNoticeOut(
                id=n.id,
                kind=n.kind,
                post_id=n.post_id,
                text=notices.describe(n.payload, _),
                created_at=n.created_at,
            )
            for n in found
        ],
        last_id=found[-1].id if found else after,
    )


@router.post(
    "/devices/feedback",
    response_model=DeviceFeedbackOut,
    status_code=status.HTTP_201_CREATED,
    tags=["devices"],
)
def device_feedback(
    body: DeviceFeedbackIn, device: CurrentDevice, session: DbSession
) -> DeviceFeedbackOut:
    """A post by the device's owner with the device's product, model, build and channel and an
    optional log excerpt (the phone shows similar posts first, from ``/feedback/similar``)."""
    post = service.device_feedback(
        session, device=device, kind=body.kind, title=body.title, body=body.body, log=body.log
    )
    return DeviceFeedbackOut(
        id=post.id,
        title=post.title,
        device_model=post.device_model,
        software_build=post.software_build,
    )
