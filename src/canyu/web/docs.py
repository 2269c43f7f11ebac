"""``/docs``: Swagger UI served from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, which
reads OpenAPI 3.1; no CDN: it works offline and under our Content-Security-Policy), and the
API's bearer-token scheme declared in the OpenAPI document, so the page has an Authorize
button."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>canyu API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API token (`canyu_...`, from POST /api/v1/accounts/tokens) or a device "
    "token (`cyd_...`), as `Authorization: Bearer <token>`.",
}


def install(app: FastAPI) -> None:
    """Add /docs and its assets; the app is made with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = BEARER
        # Most routes take a token; the rest answer anyone (an empty requirement).
        schema["security"] = [{"bearer": []}, {}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
