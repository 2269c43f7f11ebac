"""Error pages for browsers (the API answers errors in JSON)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from canyu.web.templating import render


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    return render(
        request, "error.html", {"status": status, "message": message}, user=None, status_code=status
    )
