"""Server-rendered pages in the viewer's language, with CSRF tokens in every form."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from canyu.i18n import LOCALES, locale_from_accept_language, translations
from canyu.web.csrf import CSRF_COOKIE, csrf_token


class Viewer(Protocol):
    """Whoever is signed in, as the pages need them (accounts' User is one); web is plumbing
    beneath the domains, so it names no domain's model."""

    @property
    def locale(self) -> str: ...


TEMPLATE_DIR = Path(__file__).parent / "templates"
LOCALE_COOKIE = "canyu_locale"


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
    html = (
        environment(locale)
        .get_template(template)
        .render(
            request=request,
            user=user,
            locale=locale,
            csrf_token=token,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="lax", secure=is_secure(request)
        )
    return response


def is_secure(request: Request) -> bool:
    return bool(request.app.state.settings.cookie_secure or request.url.scheme == "https")
