"""Sign-up, sign-in, sign-out, the profile (with API tokens) and the language switch."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from canyu.accounts import service
from canyu.accounts.deps import SESSION_COOKIE, MaybeUser
from canyu.accounts.models import User
from canyu.accounts.schemas import SignUp
from canyu.accounts.throttle import limit_signin, limit_signup
from canyu.community import service as community
from canyu.deps import DbSession
from canyu.errors import CanyuError
from canyu.i18n import LOCALES, Gettext, gettext_for
from canyu.releases import service as releases
from canyu.web.csrf import check_csrf
from canyu.web.templating import LOCALE_COOKIE, is_secure, render, request_locale

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form()]
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600
# Territory codes Babel knows that are not countries anyone lives in.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
# What a form shows when a field fails the schema (the same one the JSON API uses).
FIELD_MESSAGES = {
    "email": "Enter a valid email address.",
    "password": "A password has 8 to 1024 characters.",
    "display_name": "A display name has 1 to 80 characters.",
    "country": "Choose your country.",
    "locale": "Choose a language.",
}
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: never redirect a friend to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


@lru_cache(maxsize=len(LOCALES))
def countries(locale: str) -> list[tuple[str, str]]:
    """(code, name) of every country, named and sorted in the viewer's language."""
    names = Locale.parse(locale if locale in LOCALES else "en").territories
    found = [
        (code, name)
        for code, name in names.items()
        if re.fullmatch(r"[A-Z]{2}", code) and code not in _NOT_COUNTRIES
    ]
    return sorted(found, key=lambda item: item[1])


def _guess_country(request: Request) -> str:
    """The region of the browser's first language tag (zh-CN → CN, en-IN → IN), else CN."""
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().replace("_", "-")
        pieces = tag.split("-")
        if len(pieces) >= 2 and re.fullmatch(r"[A-Za-z]{2}", pieces[-1]):
            return pieces[-1].upper()
    return "CN"


def _gettext(request: Request, user: User | None) -> Gettext:
    return gettext_for(request_locale(request, user))


def error_text(exc: CanyuError, _: Gettext) -> str:
    """The service's message in the viewer's language when the catalogue knows it."""
    return _(exc.message)


def _page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    user: User | None,
    session: DbSession,
    status_code: int = 200,
) -> HTMLResponse:
    unread = community.unread_count(session, user=user) if user is not None else 0
    locale = request_locale(request, user)
    base = {
        "unread": unread,
        "countries": countries(locale),
        "language_names": LANGUAGE_NAMES,
    }
    return render(request, template, base | context, user=user, status_code=status_code)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _set_session_cookie(request: Request, response: Response, raw: str) -> None:
    days: int = request.app.state.settings.session_days
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=days * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def _set_locale_cookie(request: Request, response: Response, locale: str) -> None:
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=LOCALE_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def _signin_url(next_url: str) -> str:
    return "/signin?" + urlencode({"next": next_url})


# --- sign-up ----------------------------------------------------------------------------------


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, user: MaybeUser, session: DbSession, next: str = "/") -> Response:
    if user is not None:
        return _redirect(safe_next(next))
    values = {
        "email": "",
        "display_name": "",
        "country": _guess_country(request),
        "locale": request_locale(request, None),
    }
    return _page(
        request,
        "signup.html",
        {"values": values, "errors": {}, "next": safe_next(next)},
        user=None,
        session=session,
    )


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    session: DbSession,
    csrf_token: FormStr = "",
    email: FormStr = "",
    password: FormStr = "",
    display_name: FormStr = "",
    country: FormStr = "",
    locale: FormStr = "",
    next: FormStr = "/",
) -> Response:
    check_csrf(request, csrf_token)
    values = {"email": email, "display_name": display_name, "country": country, "locale": locale}
    _ = _gettext(request, None)
    errors: dict[str, str] = {}
    status_code = 422
    try:
        limit_signup(request)
        body = SignUp.model_validate(
            {
                "email": email.strip(),
                "password": password,
                "display_name": display_name,
                "country": country,
                "locale": locale or "en",
            }
        )
        user = service.create_user(
            session,
            email=str(body.email),
            password=body.password,
            display_name=body.display_name,
            locale=body.locale,
            country=body.country,
        )
        raw = service.start_web_session(
            session, user=user, days=request.app.state.settings.session_days
        )
        session.commit()
    except ValidationError as exc:
        session.rollback()
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            errors.setdefault(field, _(FIELD_MESSAGES.get(field, "Check this field.")))
    except CanyuError as exc:
        session.rollback()
        status_code = exc.status_code
        field = exc.details.get("field", "") if isinstance(exc.details, dict) else ""
        errors[field if field in FIELD_MESSAGES else ""] = error_text(exc, _)
    else:
        response = _redirect(safe_next(next))
        _set_session_cookie(request, response, raw)
        _set_locale_cookie(request, response, user.locale)
        return response
    return _page(
        request,
        "signup.html",
        {"values": values, "errors": errors, "next": safe_next(next)},
        user=None,
        session=session,
        status_code=status_code,
    )


# --- sign-in and sign-out ---------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, user: MaybeUser, session: DbSession, next: str = "/") -> Response:
    if user is not None:
        return _redirect(safe_next(next))
    return _page(
        request,
        "signin.html",
        {"email": "", "error": None, "next": safe_next(next)},
        user=None,
        session=session,
    )


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    session: DbSession,
    csrf_token: FormStr = "",
    email: FormStr = "",
    password: FormStr = "",
    next: FormStr = "/",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        limit_signin(request, email)
        user = service.authenticate(session, email=email, password=password)
        raw = service.start_web_session(
            session, user=user, days=request.app.state.settings.session_days
        )
        session.commit()
    except CanyuError as exc:
        session.rollback()
        context = {"email": email, "error": error_text(exc, _gettext(request, None))}
        return _page(
            request,
            "signin.html",
            context | {"next": safe_next(next)},
            user=None,
            session=session,
            status_code=exc.status_code,
        )
    response = _redirect(safe_next(next))
    _set_session_cookie(request, response, raw)
    return response


@router.post("/signout")
def signout(request: Request, session: DbSession, csrf_token: FormStr = "") -> Response:
    check_csrf(request, csrf_token)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        service.end_web_session(session, raw_token=raw)
        session.commit()
    response = _redirect("/")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=is_secure(request))
    return response


# --- profile and API tokens -------------------------------------------------------------------


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
    tokens = sorted(service.list_api_tokens(session, user=user), key=lambda t: -t.id)
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
    }
    return _page(
        request, "profile.html", context, user=user, session=session, status_code=status_code
    )


@router.get("/profile", response_class=HTMLResponse)
def profile(request: Request, user: MaybeUser, session: DbSession, saved: int = 0) -> Response:
    if user is None:
        return _redirect(_signin_url("/profile"))
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
        return _redirect(_signin_url("/profile"))
    values = {"display_name": display_name, "locale": locale, "country": country}
    try:
        service.update_profile(
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
            error=error_text(exc, _gettext(request, user)),
            status_code=exc.status_code,
        )
    response = _redirect("/profile?saved=1")
    # The page follows the language the friend just chose.
    _set_locale_cookie(request, response, user.locale)
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
        return _redirect(_signin_url("/profile"))
    try:
        _token, raw = service.create_api_token(session, user=user, name=name)
        session.commit()
    except CanyuError as exc:
        session.rollback()
        return _profile_page(
            request,
            session,
            user,
            token_error=error_text(exc, _gettext(request, user)),
            status_code=exc.status_code,
        )
    # Shown once, on this response only; only its hash is stored.
    return _profile_page(request, session, user, new_token=raw)


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int,
    request: Request,
    user: MaybeUser,
    session: DbSession,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return _redirect(_signin_url("/profile"))
    service.revoke_api_token(session, user=user, token_id=token_id)
    session.commit()
    return _redirect("/profile")


# --- language ---------------------------------------------------------------------------------


@router.post("/locale")
def switch_locale(
    request: Request,
    csrf_token: FormStr = "",
    locale: FormStr = "",
    next: FormStr = "/",
) -> Response:
    check_csrf(request, csrf_token)
    back = safe_next(next, safe_next(_referer_path(request)))
    response = _redirect(back)
    if locale in LOCALES:
        _set_locale_cookie(request, response, locale)
    return response


def _referer_path(request: Request) -> str:
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    path = referer.path or "/"
    return f"{path}?{referer.query}" if referer.query else path
