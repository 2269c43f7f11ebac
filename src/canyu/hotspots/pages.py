"""The hotspots' pages: a city map with filters, a hotspot's page (confirm, connect), the
owner's claim flow. Thin: every rule is in ``service``; refusals show on the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from canyu.accounts.deps import MaybeUser
from canyu.db import MAX_ID
from canyu.deps import DbSession, RowId
from canyu.errors import CanyuError, NotFound
from canyu.hotspots import geo, mapdraw, service
from canyu.hotspots.deps import claim_checks
from canyu.hotspots.models import Claim, Hotspot, Status
from canyu.hotspots.pack import SuccessClass
from canyu.web.csrf import check_csrf
from canyu.web.templating import render

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound("No such hotspot.")
    return value


def _view(h: Hotspot) -> dict[str, Any]:
    counts = service.counts(h)
    return {
        "h": h,
        "rate": counts.rate,
        "success": SuccessClass(h.success_class).name.lower(),
        "freshness": service.freshness(h),
    }


@router.get("/hotspots")
def index(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    region: Annotated[str | None, Query(max_length=20)] = None,
    free: bool = False,
    no_login: bool = False,
    min_rate: Annotated[float, Query(ge=0, le=1)] = 0.0,
) -> Response:
    regions = service.regions(session)
    chosen = region or (regions[0][0] if regions else None)
    filters = service.Filters(free_only=free, no_login=no_login, min_rate=min_rate)
    hotspots = (
        service.in_region(session, region=chosen, filters=filters, limit=5000) if chosen else []
    )
    svg = mapdraw.draw(
        [
            mapdraw.Dot(h.id, h.lat, h.lon, f"{h.ssid} {h.name}", SuccessClass(h.success_class))
            for h in hotspots
        ],
        title=f"{len(hotspots)} hotspots",
    )
    listed = sorted(hotspots, key=lambda h: (-service.counts(h).rate, -h.confirmations, h.id))
    return render(
        request,
        "hotspots/index.html",
        {
            "nav": "hotspots",
            "regions": [(r, n, geo.region_centre(r)) for r, n in regions],
            "region": chosen,
            "filters": filters,
            "map": Markup(svg),  # noqa: S704 (built by mapdraw with every text escaped)
            "count": len(hotspots),
            "rows": [_view(h) for h in listed[:20]],
        },
        user=user,
    )


def _page(
    request: Request,
    session: Any,
    user: Any,
    hotspot_id: int,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    hotspot = service.get(session, hotspot_id=_id(hotspot_id))
    if hotspot.status == Status.REJECTED.value:
        raise NotFound("No such hotspot.")
    artefact = service.artefact(hotspot) if user is not None else None
    qr = None
    if artefact and "wifi_qr" in artefact:
        import segno

        qr = Markup(  # noqa: S704 (segno's own SVG of our payload)
            segno.make(artefact["wifi_qr"], error="m").svg_inline(scale=4, title="Wi-Fi QR")
        )
    return render(
        request,
        "hotspots/hotspot.html",
        {
            "nav": "hotspots",
            **_view(hotspot),
            "sources": service.sources(session, hotspot_id=hotspot.id),
            "artefact": artefact,
            "qr": qr,
            "is_owner": user is not None and hotspot.owner_id == user.id,
            "error": error,
            "notice": notice,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/hotspots/{hotspot_id}")
def hotspot_page(
    request: Request, session: DbSession, user: MaybeUser, hotspot_id: RowId
) -> Response:
    return _page(request, session, user, hotspot_id)


@router.post("/hotspots/{hotspot_id}/confirm")
def confirm(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    hotspot_id: RowId,
    outcome: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return _redirect(f"/signin?next=/hotspots/{hotspot_id}")
    try:
        service.confirm(session, user=user, hotspot_id=_id(hotspot_id), outcome=outcome)
    except CanyuError as e:
        session.rollback()
        return _page(request, session, user, hotspot_id, error=e.message, status_code=e.status_code)
    session.commit()
    return _redirect(f"/hotspots/{hotspot_id}?confirmed=1")


def _claim_of(session: Any, user: Any, hotspot_id: int) -> Claim | None:
    from sqlalchemy import select

    found: Claim | None = session.scalars(
        select(Claim).where(Claim.hotspot_id == hotspot_id, Claim.user_id == user.id)
    ).one_or_none()
    return found


def _claim_page(
    request: Request,
    session: Any,
    user: Any,
    hotspot_id: RowId,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    hotspot = service.get(session, hotspot_id=_id(hotspot_id))
    claim = _claim_of(session, user, hotspot.id)
    try:
        txt_name = service.txt_name(claim.url) if claim else None
    except CanyuError:
        txt_name = None  # an IP address: the page check only
    return render(
        request,
        "hotspots/claim.html",
        {
            "nav": "hotspots",
            "h": hotspot,
            "claim": claim,
            "txt_name": txt_name,
            "is_owner": hotspot.owner_id == user.id,
            "error": error,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/hotspots/{hotspot_id}/claim")
def claim_page(
    request: Request, session: DbSession, user: MaybeUser, hotspot_id: RowId
) -> Response:
    if user is None:
        return _redirect(f"/signin?next=/hotspots/{hotspot_id}/claim")
    return _claim_page(request, session, user, hotspot_id)


@router.post("/hotspots/{hotspot_id}/claim")
def start_claim(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    hotspot_id: RowId,
    url: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return _redirect(f"/signin?next=/hotspots/{hotspot_id}/claim")
    try:
        service.claim(session, user=user, hotspot_id=_id(hotspot_id), url=url)
    except CanyuError as e:
        session.rollback()
        return _claim_page(
            request, session, user, hotspot_id, error=e.message, status_code=e.status_code
        )
    session.commit()
    return _redirect(f"/hotspots/{hotspot_id}/claim")


@router.post("/hotspots/{hotspot_id}/claim/verify")
def verify_claim(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    hotspot_id: RowId,
    method: FormStr = "page",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return _redirect(f"/signin?next=/hotspots/{hotspot_id}/claim")
    claim = _claim_of(session, user, _id(hotspot_id))
    if claim is None:
        return _redirect(f"/hotspots/{hotspot_id}/claim")
    checks = claim_checks(request, dns=method == "dns")
    try:
        service.verify_claim(session, user=user, claim_id=claim.id, **checks)
    except CanyuError as e:
        session.commit()  # keep the attempt and its reason
        return _claim_page(
            request, session, user, hotspot_id, error=e.message, status_code=e.status_code
        )
    session.commit()
    return _redirect(f"/hotspots/{hotspot_id}/claim")


@router.post("/hotspots/{hotspot_id}/credentials")
def credentials(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    hotspot_id: RowId,
    password: FormStr = "",
    portal_url: FormStr = "",
    passpoint: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return _redirect(f"/signin?next=/hotspots/{hotspot_id}/claim")
    try:
        service.set_credentials(
            session,
            user=user,
            hotspot_id=_id(hotspot_id),
            password=password.strip(),
            portal_url=portal_url.strip(),
            passpoint=passpoint,
        )
    except CanyuError as e:
        session.rollback()
        return _claim_page(
            request, session, user, hotspot_id, error=e.message, status_code=e.status_code
        )
    session.commit()
    return _redirect(f"/hotspots/{hotspot_id}")
