"""Sign-up, sign-in, sign-out and the language switch (the profile is the portal's)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from canyu.accounts import emails, service
from canyu.accounts.deps import SESSION_COOKIE, MailLinks, MaybeUser
from canyu.accounts.models import User
from canyu.accounts.schemas import SignUp
from canyu.accounts.throttle import (
    limit_mail_link,
    limit_password_reset,
    limit_signup,
    sign_in,
)
from canyu.deps import DbSession
from canyu.errors import CanyuError
from canyu.i18n import LANGUAGE_NAMES, LOCALES, Gettext, countries
from canyu.web.csrf import check_csrf
from canyu.web.flash import flash
from canyu.web.forms import FormStr, gettext_of, redirect, safe_next, signin_redirect
from canyu.web.templating import is_secure, render, request_locale, set_locale_cookie

router = APIRouter(include_in_schema=False)

# What a form shows when a field fails the schema (the same one the JSON API uses).
FIELD_MESSAGES = {
    "email": "Enter a valid email address.",
    "password": "A password has 8 to 1024 characters.",
    "display_name": "A display name has 1 to 80 characters.",
    "country": "Choose your country.",
    "locale": "Choose a language.",
}
# Confirmations shown once on the next page (canyu.web.flash).
FLASH_MESSAGES = {
    "welcome": "Welcome to canyu, {name}! We sent a link to {email}: open it to confirm your "
    "address.",
    "verified": "Thanks, your email address is confirmed.",
    "resent": "We sent a new link to {email}.",
    "already_verified": "Your email address is already confirmed.",
    "password_changed": "Your password is changed, and you are signed in.",
}


def _guess_country(request: Request) -> str:
    """The region of the browser's first language tag (zh-CN → CN, en-IN → IN), else CN."""
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().replace("_", "-")
        pieces = tag.split("-")
        if len(pieces) >= 2 and re.fullmatch(r"[A-Za-z]{2}", pieces[-1]):
            return pieces[-1].upper()
    return "CN"


def error_text(exc: CanyuError, _: Gettext) -> str:
    """The service's message in the viewer's language when the catalogue knows it; a banned
    account is also told the team's reason."""
    reason = exc.details.get("ban_reason") if isinstance(exc.details, dict) else None
    if reason:
        return _("{text} Reason: {reason}").format(text=_(exc.message), reason=reason)
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
    locale = request_locale(request, user)
    base = {
        "countries": countries(locale),
        "language_names": LANGUAGE_NAMES,
    }
    return render(request, template, base | context, user=user, status_code=status_code)


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


# --- sign-up ----------------------------------------------------------------------------------


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, user: MaybeUser, session: DbSession, next: str = "/") -> Response:
    if user is not None:
        return redirect(safe_next(next))
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
    links: MailLinks,
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
    _ = gettext_of(request, None)
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
        emails.send_welcome(
            session,
            user=user,
            links=links,
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
        response = redirect(safe_next(next))
        _set_session_cookie(request, response, raw)
        set_locale_cookie(request, response, user.locale)
        welcome = FLASH_MESSAGES["welcome"]
        return flash(request, response, welcome, name=user.display_name, email=user.email)
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
        return redirect(safe_next(next))
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
        user = sign_in(
            request, email, lambda: service.authenticate(session, email=email, password=password)
        )
        raw = service.start_web_session(
            session, user=user, days=request.app.state.settings.session_days
        )
        session.commit()
    except CanyuError as exc:
        session.rollback()
        context = {"email": email, "error": error_text(exc, gettext_of(request, None))}
        return _page(
            request,
            "signin.html",
            context | {"next": safe_next(next)},
            user=None,
            session=session,
            status_code=exc.status_code,
        )
    response = redirect(safe_next(next))
    _set_session_cookie(request, response, raw)
    return response


@router.post("/signout")
def signout(request: Request, session: DbSession, csrf_token: FormStr = "") -> Response:
    check_csrf(request, csrf_token)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        service.end_web_session(session, raw_token=raw)
        session.commit()
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=is_secure(request))
    return response


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
    response = redirect(back)
    if locale in LOCALES:
        set_locale_cookie(request, response, locale)
    return response


def _referer_path(request: Request) -> str:
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    path = referer.path or "/"
    return f"{path}?{referer.query}" if referer.query else path


# --- mailed links: a forgotten password, a confirmed address -----------------------------------


def _forgot_page(
    request: Request,
    session: DbSession,
    *,
    email: str = "",
    sent: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"email": email, "sent": sent, "error": error}
    return _page(
        request,
        "password_forgot.html",
        context,
        user=None,
        session=session,
        status_code=status_code,
    )


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_form(request: Request, session: DbSession) -> Response:
    return _forgot_page(request, session)


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(
    request: Request,
    session: DbSession,
    links: MailLinks,
    csrf_token: FormStr = "",
    email: FormStr = "",
) -> Response:
    """Always the same answer, whether an account has the address or not."""
    check_csrf(request, csrf_token)
    address = email.strip()[:254]
    _ = gettext_of(request, None)
    if "@" not in address:
        error = _(FIELD_MESSAGES["email"])
        return _forgot_page(request, session, email=address, error=error, status_code=422)
    try:
        limit_password_reset(request, address)
    except CanyuError as exc:
        return _forgot_page(
            request,
            session,
            email=address,
            error=error_text(exc, _),
            status_code=exc.status_code,
        )
    emails.request_password_reset(
        session,
        email=address,
        links=links,
    )
    session.commit()
    return _forgot_page(request, session, email=address, sent=True)


def _reset_page(
    request: Request,
    session: DbSession,
    *,
    token: str,
    error: str | None = None,
    usable: bool = True,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"token": token, "error": error, "usable": usable}
    return _page(
        request, "password_reset.html", context, user=None, session=session, status_code=status_code
    )


@router.get("/password/reset", response_class=HTMLResponse)
def reset_form(request: Request, session: DbSession, links: MailLinks, token: str = "") -> Response:
    try:
        emails.check_reset_token(session, links=links, token=token)
    except CanyuError as exc:
        _ = gettext_of(request, None)
        return _reset_page(
            request,
            session,
            token="",
            error=error_text(exc, _),
            usable=False,
            status_code=exc.status_code,
        )
    return _reset_page(request, session, token=token)


@router.post("/password/reset", response_class=HTMLResponse)
def reset(
    request: Request,
    session: DbSession,
    links: MailLinks,
    csrf_token: FormStr = "",
    token: FormStr = "",
    password: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    _ = gettext_of(request, None)
    try:
        user = emails.reset_password(session, links=links, token=token, password=password)
        raw = service.start_web_session(
            session, user=user, days=request.app.state.settings.session_days
        )
        session.commit()
    except CanyuError as exc:
        session.rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        bad_password = field == "password"
        return _reset_page(
            request,
            session,
            token=token if bad_password else "",
            error=_(FIELD_MESSAGES["password"]) if bad_password else error_text(exc, _),
            usable=bad_password,
            status_code=exc.status_code,
        )
    response = redirect("/")
    _set_session_cookie(request, response, raw)
    return flash(request, response, FLASH_MESSAGES["password_changed"])


@router.get("/verify-email", response_class=HTMLResponse)
def verify_email(
    request: Request, user: MaybeUser, session: DbSession, links: MailLinks, token: str = ""
) -> Response:
    try:
        emails.confirm_email(session, links=links, token=token)
        session.commit()
    except CanyuError as exc:
        session.rollback()
        _ = gettext_of(request, user)
        context = {"error": error_text(exc, _)}
        return _page(
            request,
            "email_link.html",
            context,
            user=user,
            session=session,
            status_code=exc.status_code,
        )
    return flash(request, redirect("/profile" if user else "/"), FLASH_MESSAGES["verified"])


@router.post("/verify-email/resend")
def resend_verification(
    request: Request,
    user: MaybeUser,
    session: DbSession,
    links: MailLinks,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect("/profile")
    limit_mail_link(request, user.email)
    sent = emails.send_verification(
        session,
        user=user,
        links=links,
    )
    session.commit()
    message = FLASH_MESSAGES["resent" if sent else "already_verified"]
    return flash(request, redirect("/profile"), message, email=user.email)
