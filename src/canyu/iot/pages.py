"""The IoT pages: the team's fleet inventory and a device's page (its owner sees it too), and
the owner's forms: a pairing code, a command, letting a device go. Thin: every rule is in
``service``; an owner's devices are listed on the profile (canyu.portal)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from canyu.accounts.deps import MaybeUser
from canyu.deps import DbSession, RowId, get_database
from canyu.devices.push import publish_after_commit
from canyu.errors import CanyuError
from canyu.iot import service, topics
from canyu.iot.deps import FleetQuery
from canyu.iot.runtime import runtime_for, sync_after_commit
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, gettext_of, here, redirect, signin_redirect
from canyu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/fleet", response_class=HTMLResponse)
def fleet(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    filters: FleetQuery,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    if user is None:
        return signin_redirect(here(request))
    found = service.inventory(session, actor=user, filters=filters, page=page)
    chosen = {k: v for k, v in vars(filters).items() if v}

    def url(**changes: str | int) -> str:
        params = {k: v for k, v in (chosen | changes).items() if v}
        return "/fleet" + ("?" + urlencode(params) if params else "")

    return render(
        request,
        "iot/fleet.html",
        {
            "nav": "fleet",
            "found": found,
            "filters": filters,
            "chosen": chosen,
            "url": url,
            "seen_choices": ("1d", "7d", "30d", "never"),
            "kinds": ("phone", "tablet", "wearable", "iot"),
        },
        user=user,
    )


@router.get("/fleet/devices/{device_id}", response_class=HTMLResponse)
def device(
    device_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    done: Annotated[str, Query(max_length=20)] = "",
    error: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    if user is None:
        return signin_redirect(here(request))
    view = service.device_page(session, device_id=device_id, viewer=user)
    return render(
        request,
        "iot/device.html",
        {
            "nav": "fleet" if user.is_team else "profile",
            "view": view,
            "telemetry": service.recent_telemetry(session, device_id=device_id),
            "actions": topics.ACTIONS,
            "done": done,
            "error": error,
            "is_owner": view.device.owner_id == user.id,
        },
        user=user,
    )


@router.post("/iot/pairing-code", response_class=HTMLResponse)
def pairing_code(
    request: Request, session: DbSession, user: MaybeUser, csrf_token: FormStr = ""
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect("/profile")
    runtime = runtime_for(request.app)
    request.app.state.limiter.hit(
        runtime.settings.code_rate, "iot-code", str(user.id), what="pairing code"
    )
    made = service.create_pairing_code(
        session, owner=user, minutes=runtime.settings.pairing_minutes
    )
    session.commit()
    return render(
        request,
        "iot/pairing_code.html",
        {"nav": "profile", "made": made, "minutes": runtime.settings.pairing_minutes},
        user=user,
        status_code=201,
    )


@router.post("/iot/devices/{device_id}/command")
def command(
    device_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    action: FormStr = "",
    value: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    back = f"/fleet/devices/{device_id}"
    if user is None:
        return signin_redirect(back)
    try:
        sent, topic = service.send_command(
            session, actor=user, device_id=device_id, action=action, value=value
        )
    except CanyuError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise
        return redirect(f"{back}?error={quote(gettext_of(request, user)(exc.message))}")
    message = topics.command_message(sent.id, sent.action, sent.value)
    publish_after_commit(session, runtime_for(request.app).pusher, [(topic, message)])
    session.commit()
    return redirect(f"{back}?done=command")


@router.post("/iot/devices/{device_id}/unpair")
def unpair(
    device_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/fleet/devices/{device_id}")
    gone = service.unpair(session, device_id=device_id, actor=user)
    sync_after_commit(session, get_database(request), runtime_for(request.app))
    session.commit()
    return redirect("/profile" if gone.owner_id == user.id else "/fleet")
