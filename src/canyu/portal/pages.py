"""Pages that read several domains at once: a friend's profile (their account and API tokens,
their posts, whether changelogs name them). The composition root installs it last; no domain
imports it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.community import digest
from canyu.community import service as community
from canyu.deps import DbSession, RowId
from canyu.errors import CanyuError
from canyu.i18n import LANGUAGE_NAMES, countries
from canyu.iot import service as iot
from canyu.iot.topics import ACTIONS as IOT_ACTIONS
from canyu.releases import service as releases
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, gettext_of, redirect, signin_url
from canyu.web.templating import render, request_locale, set_locale_cookie

router = APIRouter(include_in_schema=False)


def _profile_page(
    request: Request,
    session: DbSession,
    user: User,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    token_error: str | None = None,
    new_token: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    tokens = sorted(accounts.list_api_tokens(session, user=user), key=lambda t: -t.id)
    context = {
        "values": values
        or {"display_name": user.display_name, "locale": user.locale, "country": user.country},
        "error": error,
        "token_error": token_error,
        "new_token": new_token,
        "saved": saved,
        "tokens": tokens,
        "posts": community.posts_by_author(session, user=user, limit=20),
        # The profile is where a friend decides whether changelogs name them (canyu.releases).
        "named_in_changelogs": not releases.credit_opted_out(session, user=user),
        # Phones and small devices, with their last telemetry (canyu.iot).
        "devices": iot.owner_devices(session, user=user),
        "iot_actions": IOT_ACTIONS,
        # Whether the weekly email digest comes (canyu.community.digest).
        "digest_on": digest.is_enabled(session, user=user),
    }
    locale = request_locale(request, user)
    choices = {"countries": countries(locale), "language_names": LANGUAGE_NAMES}
    return render(request, "profile.html", choices | context, user=user, status_code=status_code)


@router.get("/profile", response_class=HTMLResponse)
def profile(request: Request, user: MaybeUser, session: DbSession, saved: int = 0) -> Response:
    if user is None:
        return redirect(signin_url("/profile"))
    return _profile_page(request, session, user, saved=bool(saved))


@router.post("/profile", response_class=HTMLResponse)
def update_profile(
    request: Request,
    user: MaybeUser,
    session: DbSession,
    csrf_token: FormStr = "",
    display_name: FormStr = "",
    locale: FormStr = "",
    country: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return redirect(signin_url("/profile"))
    values = {"display_name": display_name, "locale": locale, "country": country}
    try:
        accounts.update_profile(
            session, user=user, display_name=display_name, locale=locale, country=country
        )
        session.commit()
    except CanyuError as exc:
        session.rollback()
        return _profile_page(
            request,
            session,
            user,
            values=values,
            error=gettext_of(request, user)(exc.message),
            status_code=exc.status_code,
        )
    response = redirect("/profile?saved=1")
    # The page follows the language the friend just chose.
    set_locale_cookie(request, response, user.locale)
    return response


@router.post("/profile/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    user: MaybeUser,
    session: DbSession,
    csrf_token: FormStr = "",
    name: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return redirect(signin_url("/profile"))
    try:
        _token, raw = accounts.create_api_token(session, user=user, name=name)
        session.commit()
    except CanyuError as exc:
        session.rollback()
        return _profile_page(
            request,
            session,
            user,
            token_error=gettext_of(request, user)(exc.message),
            status_code=exc.status_code,
        )
    # Shown once, on this response only; only its hash is stored.
    return _profile_page(request, session, user, new_token=raw)


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(
    token_id: RowId,
    request: Request,
    user: MaybeUser,
    session: DbSession,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return redirect(signin_url("/profile"))
    accounts.revoke_api_token(session, user=user, token_id=token_id)
    session.commit()
    return redirect("/profile")
