"""Small things every domain's pages need: form fields, redirects after a form (303), where a
signed-out visitor is sent, and the viewer's language for a message."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from canyu.i18n import Gettext, gettext_for
from canyu.web.templating import Viewer, request_locale

FormStr = Annotated[str, Form()]


def redirect(url: str) -> RedirectResponse:
    """After a form: the browser follows with a GET (303), so a reload does not post again."""
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: never redirect a friend to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def signin_url(next_url: str) -> str:
    return "/signin?" + urlencode({"next": next_url})


def signin_redirect(next_url: str) -> RedirectResponse:
    return redirect(signin_url(next_url))


def here(request: Request) -> str:
    """The path and query of this page (where to come back to)."""
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def gettext_of(request: Request, user: Viewer | None) -> Gettext:
    return gettext_for(request_locale(request, user))
