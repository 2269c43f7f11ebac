"""JSON routes of the calls domain (thin: validation, auth, rate limits; rules in service)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from sqlalchemy.orm import Session

from canyu.accounts.deps import TeamUser, optional_user
from canyu.accounts.models import User
from canyu.calls import service
from canyu.calls.models import Appeal, CallMark
from canyu.calls.schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    BucketEntryOut,
    BucketOut,
    CodeCheck,
    CodeRequest,
    CodeSentOut,
    DecisionIn,
    LookupParams,
    MarkIn,
    MarkOut,
    MarksPage,
    NumberOut,
    PackOut,
    SmsReportIn,
    SmsReportOut,
    VerifiedOut,
)
from canyu.calls.sender import CodeSender
from canyu.calls.settings import CallsSettings
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.errors import Forbidden, Unauthorized
from canyu.ratelimit import client_ip
from canyu.releases import publishing
from canyu.releases.publishing import TargetPublisher
from canyu.releases.settings import ReleaseSettings, get_release_settings

router = APIRouter(prefix="/api/v1", tags=["calls"])

DEVICE_TOKEN_PREFIX = "cyd_"  # noqa: S105 (a public prefix, not a secret)


def calls_settings(request: Request) -> CallsSettings:
    settings: CallsSettings = request.app.state.calls_settings
    return settings


def code_sender(request: Request) -> CodeSender:
    sender: CodeSender = request.app.state.calls_sender
    return sender


def pack_publisher(
    settings: Annotated[CallsSettings, Depends(calls_settings)],
    release: Annotated[ReleaseSettings, Depends(get_release_settings)],
) -> TargetPublisher | None:
    return publishing.publisher(settings.tuf_product, release)


def _bearer(request: Request) -> str | None:
    scheme, _, raw = request.headers.get("authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" and raw.strip() else None


def acting_friend(request: Request, session: DbSession) -> User:
    """The friend behind a request: a user token or session, or a device token whose device is
    registered to a friend (marks from the phone count as that friend's)."""
    raw = _bearer(request)
    if raw is not None and raw.startswith(DEVICE_TOKEN_PREFIX):
        from canyu.devices import service as devices

        device = devices.authenticate(session, raw_token=raw)
        owner = session.get(User, device.owner_id) if device.owner_id is not None else None
        if owner is None:
            raise Forbidden("This device is not registered to a friend's account.")
        return owner
    user = optional_user(request, session)
    if user is None:
        raise Unauthorized("Sign in, or send an API token or a device token.")
    return user


def _caller_key(request: Request) -> str:
    raw = _bearer(request)
    if raw:
        return hashlib.sha256(raw.encode()).hexdigest()[:32]
    return request.cookies.get("canyu_session", "")[:64] or "anonymous"


def lookup_caller(request: Request, session: DbSession) -> None:
    """Private lookups: a registered device (device token) or a signed-in friend."""
    raw = _bearer(request)
    if raw is not None and raw.startswith(DEVICE_TOKEN_PREFIX):
        from canyu.devices import service as devices

        devices.authenticate(session, raw_token=raw)
        return
    if optional_user(request, session) is None:
        raise Unauthorized("Send a device token or an API token.")


Friend = Annotated[User, Depends(acting_friend)]
Settings = Annotated[CallsSettings, Depends(calls_settings)]


def _mark_out(mark: CallMark) -> MarkOut:
    return MarkOut(
        number=mark.number.e164,
        region=mark.number.region,
        category=mark.category,
        created_at=mark.created_at,
        updated_at=mark.updated_at,
        label=mark.number.label,
    )


def _appeal_out(appeal: Appeal) -> AppealOut:
    return AppealOut(
        id=appeal.id,
        number=appeal.number.e164,
        business_name=appeal.business_name,
        reason=appeal.reason,
        status=appeal.status,
        label_at_appeal=appeal.label_at_appeal,
        created_at=appeal.created_at,
        decided_at=appeal.decided_at,
        note=appeal.note,
    )


def limit_marks(request: Request, user: User, settings: CallsSettings) -> None:
    request.app.state.limiter.hit(settings.mark_rate, "calls-mark", str(user.id), what="marking")


def _client_network(request: Request) -> str | None:
    host = client_ip(request)
    return service.network_id(host, request.app.state.secret_key)


# --- marks ------------------------------------------------------------------------------------


@router.post("/calls/marks", response_model=MarkOut, status_code=status.HTTP_201_CREATED)
def create_mark(
    body: MarkIn, request: Request, user: Friend, session: DbSession, settings: Settings
) -> object:
    """Mark a number as fraud, harassment, telemarketing, delivery or other (or change your
    mark). Numbers are normalised; one that is not valid for its region is refused."""
    limit_marks(request, user, settings)
    raw = _bearer(request)
    result = service.mark_number(
        session,
        user=user,
        number=body.number,
        category=body.category,
        region=body.region,
        network=_client_network(request),
        source="device" if raw and raw.startswith(DEVICE_TOKEN_PREFIX) else "portal",
        settings=settings,
    )
    return _mark_out(result.mark)


@router.get("/calls/marks", response_model=MarksPage)
def my_marks(
    user: Friend,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> object:
    marks, total = service.list_marks(session, user=user, limit=limit, offset=offset)
    return MarksPage(total=total, marks=[_mark_out(m) for m in marks])


@router.delete("/calls/marks/{number}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_mark(
    number: Annotated[str, Path(max_length=64)],
    request: Request,
    user: Friend,
    session: DbSession,
    settings: Settings,
) -> None:
    limit_marks(request, user, settings)
    service.withdraw_mark(session, user=user, number=number, settings=settings)


# --- private lookups --------------------------------------------------------------------------


@router.get("/calls/lookup", response_model=LookupParams)
def lookup_params(
    session: DbSession, settings: Settings, _caller: Annotated[None, Depends(lookup_caller)]
) -> object:
    """How many hex characters of SHA-256(E.164) a lookup sends now."""
    return LookupParams(
        prefix_length=service.prefix_length(
            session, settings=settings, max_age=settings.lookup_count_cache_seconds
        ),
        min_bucket=settings.lookup_min_bucket,
    )


@router.get("/calls/lookup/{prefix}", response_model=BucketOut)
def lookup(
    prefix: Annotated[str, Path(max_length=64)],
    request: Request,
    session: DbSession,
    settings: Settings,
    _caller: Annotated[None, Depends(lookup_caller)],
) -> object:
    """Every labelled number whose hash starts with ``prefix``; the device matches locally, so
    the server never learns which number rang."""
    request.app.state.limiter.hit(
        settings.lookup_rate, "calls-lookup", _caller_key(request), what="lookup"
    )
    entries = service.lookup_bucket(
        session,
        prefix=prefix,
        settings=settings,
        decoy_key=request.app.state.secret_key,
        max_age=settings.lookup_count_cache_seconds,
    )
    return BucketOut(
        prefix=prefix.lower(),
        entries=[
            BucketEntryOut(hash=e.hash, category=e.category, reporters=e.reporters) for e in entries
        ],
    )


# --- team -------------------------------------------------------------------------------------


def _summary(
    session: Session, number: str, region: str | None, settings: CallsSettings
) -> NumberOut:
    s = service.summarise(session, number=number, region=region, settings=settings)
    return NumberOut(
        e164=s.e164,
        formatted=s.formatted,
        region=s.region,
        number_type=s.number_type,
        label=s.label,
        marks=s.marks,
        by_category=s.by_category,
        protected=s.protected,
        decision=s.decision,
        needs_review=s.needs_review,
        known=s.known,
        score=s.score,
    )


@router.get("/calls/numbers/{number}", response_model=NumberOut)
def team_lookup(
    number: Annotated[str, Path(max_length=64)],
    _team: TeamUser,
    session: DbSession,
    settings: Settings,
    region: Annotated[str | None, Query(max_length=3)] = None,
) -> object:
    """Team members look up any number: label, marks by category, score, decision."""
    return _summary(session, number, region, settings)


@router.post("/calls/numbers/{number}/decision", response_model=NumberOut)
def decide_number(
    number: Annotated[str, Path(max_length=64)],
    body: DecisionIn,
    team: TeamUser,
    session: DbSession,
    settings: Settings,
) -> object:
    row = service.decide_number(
        session,
        actor=team,
        number=number,
        decision=body.decision,
        category=body.category,
        settings=settings,
    )
    return _summary(session, row.e164, None, settings)


@router.post("/calls/packs/{region}", response_model=PackOut, status_code=status.HTTP_201_CREATED)
def build_pack(
    region: Annotated[str, Path(max_length=3)],
    _team: TeamUser,
    session: DbSession,
    settings: Settings,
    publisher: Annotated[TargetPublisher | None, Depends(pack_publisher)],
) -> object:
    """Build and publish the region's pack now (the job does it on a schedule)."""
    built = service.build_pack(session, region=region, settings=settings, publisher=publisher)
    return PackOut(**built.__dict__)


# --- appeals ----------------------------------------------------------------------------------


@router.post(
    "/calls/appeals/code", response_model=CodeSentOut, status_code=status.HTTP_202_ACCEPTED
)
def request_code(
    body: CodeRequest,
    request: Request,
    user: Friend,
    session: DbSession,
    settings: Settings,
    sender: Annotated[CodeSender, Depends(code_sender)],
) -> object:
    """Send a one-time code to the number, to prove you control it before appealing."""
    request.app.state.limiter.hit(settings.code_rate, "calls-code", str(user.id), what="code")
    sent = service.request_code(
        session, user=user, number=body.number, region=body.region, sender=sender, settings=settings
    )
    return CodeSentOut(number=sent.e164, expires_at=sent.expires_at)


@router.post("/calls/appeals/verify", response_model=VerifiedOut)
def verify_code(body: CodeCheck, user: Friend, session: DbSession, settings: Settings) -> object:
    """Enter the code the number received."""
    service.verify_code(
        session,
        user=user,
        number=body.number,
        code=body.code,
        region=body.region,
        settings=settings,
    )
    phone = service.parse_number(body.number, body.region or user.country)
    return VerifiedOut(number=phone.e164, verified=True)


@router.post("/calls/appeals", response_model=AppealOut, status_code=status.HTTP_201_CREATED)
def file_appeal(body: AppealIn, user: Friend, session: DbSession, settings: Settings) -> object:
    """Appeal a label on a number you proved you control; the team reviews it."""
    appeal = service.file_appeal(
        session,
        user=user,
        number=body.number,
        region=body.region,
        business_name=body.business_name,
        reason=body.reason,
        settings=settings,
    )
    return _appeal_out(appeal)


@router.get("/calls/appeals", response_model=list[AppealOut])
def appeal_queue(
    _team: TeamUser,
    session: DbSession,
    status_: Annotated[str, Query(alias="status", max_length=10)] = "pending",
) -> object:
    return [_appeal_out(a) for a in service.appeal_queue(session, status=status_)]


@router.post("/calls/appeals/{appeal_id}/decision", response_model=AppealOut)
def decide_appeal(
    appeal_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: AppealDecisionIn,
    team: TeamUser,
    session: DbSession,
    settings: Settings,
) -> object:
    appeal = service.decide_appeal(
        session,
        actor=team,
        appeal_id=appeal_id,
        uphold=body.uphold,
        note=body.note,
        settings=settings,
    )
    return _appeal_out(appeal)


# --- SMS: friends' reports of what the phone's classifier got wrong ---------------------------


@router.post("/calls/sms/reports", response_model=SmsReportOut, status_code=status.HTTP_201_CREATED)
def report_sms(
    body: SmsReportIn, request: Request, user: Friend, session: DbSession, settings: Settings
) -> object:
    """A missed spam message or a false alarm, from the phone (device token) or the friend;
    the next training run (``canyu calls publish-sms``) learns from it."""
    request.app.state.limiter.hit(
        settings.mark_rate, "calls-sms-report", str(user.id), what="reports"
    )
    report = service.report_sms(
        session,
        user=user,
        text=body.text,
        label=body.label,
        language=body.language,
        model_version=body.model_version,
    )
    return SmsReportOut(id=report.id, label=report.label, language=report.language)
