"""Security headers on every answer, no inline script in any template, no-store on answers
that may hold secrets, and /docs served without a CDN with an Authorize button (issue 22)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.web.security import CSP

TEMPLATES = Path(__file__).parents[1] / "src" / "canyu" / "web" / "templates"
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def test_pages_and_api_answers_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/api/v1/products", "/no/such/page"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src
        assert "frame-ancestors 'none'" in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers  # plain HTTP
    assert client.get("/static/canyu.css").headers.get("cache-control") != "no-store"


def test_hsts_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        assert "max-age=" in secure.get("/").headers["strict-transport-security"]


def test_no_template_has_an_inline_script() -> None:
    inline = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for attributes in SCRIPT.findall(template.read_text()):
            data_only = 'type="application/json"' in attributes
            if "src=" not in attributes and not data_only:
                inline.append(template.name)
        if re.search(r'\son[a-z]+="|javascript:', template.read_text()):
            inline.append(template.name)
    assert inline == []
    assert "script-src 'self'" in CSP


def test_docs_come_from_the_package_and_declare_the_bearer_scheme(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls
    assert all(u.startswith("/") for u in urls), urls  # nothing from another origin
    for url in urls:
        assert client.get(url).status_code == 200, url
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"bearer": []} in schema["security"]
