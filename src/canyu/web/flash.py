"""One-off confirmations after a form ("Your comment is posted."), as Flask's flash does: a
signed cookie on the redirect names the message; the next page shows it once, in the viewer's
language, and clears the cookie (canyu.web.templating.render reads it; base.html shows it).

The message is an English msgid, translated when shown; signing keeps other sites' cookies
from putting words on canyu's pages.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from canyu.web.templating import FLASH_COOKIE, flash_serializer, is_secure

_SECONDS = 120  # long enough for the redirect, short enough never to surprise later


def flash(request: Request, response: Response, message: str, **params: str | int) -> Response:
    """Show ``message`` (formatted with ``params`` after translation) on the next page."""
    response.set_cookie(
        FLASH_COOKIE,
        flash_serializer(request).dumps([message, params]),
        max_age=_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )
    return response
