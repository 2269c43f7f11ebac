"""Server-rendered pages in the viewer's language, with CSRF tokens in every form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from babel.dates import format_datetime
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from canyu.i18n import LOCALES, Gettext, gettext_for, locale_from_accept_language, translations
from canyu.web.csrf import CSRF_COOKIE, csrf_token


class Viewer(Protocol):
    """Whoever is signed in, as the pages need them (accounts' User is one); web is plumbing
    beneath the domains, so it names no domain's model."""

    @property
    def locale(self) -> str: ...


# What every page's frame shows, from whichever domain knows it (the nav's unread count is
# community's): a domain adds a provider in its install(app), and every page gets its keys.
PageContext = Callable[[Request, Viewer | None], dict[str, Any]]


def prepare(app: FastAPI) -> None:
    app.state.page_context = []


def add_page_context(app: FastAPI, provider: PageContext) -> None:
    app.state.page_context.append(provider)


TEMPLATE_DIR = Path(__file__).parent / "templates"
LOCALE_COOKIE = "canyu_locale"
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600


def request_locale(request: Request, user: Viewer | None) -> str:
    """A chosen language (cookie) first, then the friend's profile, then the browser's."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return str(chosen)
    if user is not None and user.locale in LOCALES:
        return user.locale
    return locale_from_accept_language(request.headers.get("accept-language"))


@lru_cache(maxsize=len(LOCALES))
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]

    def local_time(value: datetime, fmt: str = "medium") -> str:
        # Stored in UTC; shown in the viewer's language. The page script turns <time> elements
        # into the viewer's own time zone, which the server cannot know.
        return format_datetime(value, format=fmt, locale="zh_CN" if locale == "zh" else "en")

    env.filters["local_time"] = local_time
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    user: Viewer | None,
    status_code: int = 200,
) -> HTMLResponse:
    locale = request_locale(request, user)
    token = csrf_token(request)
    frame: dict[str, Any] = {"flash": flashed(request, gettext_for(locale))}
    for provider in getattr(request.app.state, "page_context", ()):
        frame.update(provider(request, user))
    html = (
        environment(locale)
        .get_template(template)
        .render(
            request=request,
            user=user,
            locale=locale,
            csrf_token=token,
            **(frame | context),
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if FLASH_COOKIE in request.cookies:  # shown once
        response.delete_cookie(
            FLASH_COOKIE, httponly=True, samesite="lax", secure=is_secure(request)
        )
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="lax", secure=is_secure(request)
        )
    return response


def is_secure(request: Request) -> bool:
    return bool(request.app.state.settings.cookie_secure or request.url.scheme == "https")


def set_locale_cookie(request: Request, response: Response, locale: str) -> None:
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=LOCALE_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


# --- flash messages (canyu.web.flash sets them) ---------------------------------------------

FLASH_COOKIE = "canyu_flash"


def flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret_key, salt="flash")


def flashed(request: Request, _: Gettext) -> str | None:
    """The confirmation waiting for this page, translated; None when there is none (or the
    cookie is not canyu's)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        message, params = flash_serializer(request).loads(raw)
        return str(_(str(message)).format(**dict(params)))
    except (BadSignature, ValueError, TypeError, KeyError, IndexError):
        return None
