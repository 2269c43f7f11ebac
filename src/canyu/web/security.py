"""Security headers on every answer of the app (pure ASGI, so it costs a few list appends).

- ``Content-Security-Policy``: scripts only from our own static files (no inline script, no
  other origin), no plugins, forms post only to us, and no framing (``frame-ancestors``;
  ``X-Frame-Options`` for older browsers). Styles may be inline (templates use ``style=``).
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy``.
- ``Strict-Transport-Security`` when the request came over HTTPS (behind a proxy, uvicorn
  believes ``X-Forwarded-Proto`` only from CANYU_TRUSTED_PROXIES).
- ``Cache-Control: no-store`` on every answer that does not say otherwise, static files aside:
  pages and API answers may hold secrets (a new API token, a device token) or a friend's data,
  which no cache should keep.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_ALWAYS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _ALWAYS if h[0] not in present)
                if https:
                    headers.append(_HSTS)
                if not static and b"cache-control" not in present:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
