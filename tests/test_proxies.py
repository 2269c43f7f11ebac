"""Forwarded headers are believed only from configured proxies (issue 22): otherwise anyone
could choose the address that rate limits and the calls "networks" evidence count."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.requests import Request

from canyu import cli
from canyu.config import Settings
from canyu.ratelimit import client_ip, parse_proxies


def _request(peer: str, forwarded: str | None, trusted: str) -> Request:
    app = FastAPI()
    app.state.trusted_proxies = parse_proxies(trusted)
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "client": (peer, 1234), "headers": headers, "app": app}
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "seen"),
    [
        ("203.0.113.5", "1.2.3.4", "", "203.0.113.5"),  # no proxies configured: the peer
        ("127.0.0.1", "1.2.3.4", "", "127.0.0.1"),  # not even from localhost
        ("203.0.113.5", "1.2.3.4", "10.0.0.1", "203.0.113.5"),  # an untrusted peer
        ("10.0.0.1", "1.2.3.4", "10.0.0.1", "1.2.3.4"),  # the proxy says who it served
        ("10.0.0.1", "6.6.6.6, 1.2.3.4", "10.0.0.1", "1.2.3.4"),  # a forged hop is skipped
        ("10.0.0.1", "1.2.3.4, 10.0.0.7", "10.0.0.0/24", "1.2.3.4"),  # chained proxies
        ("10.0.0.1", None, "10.0.0.1", "10.0.0.1"),
    ],
)
def test_client_ip_believes_only_trusted_proxies(
    peer: str, forwarded: str | None, trusted: str, seen: str
) -> None:
    assert client_ip(_request(peer, forwarded, trusted)) == seen


def test_serve_lets_uvicorn_read_forwarded_headers_only_from_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **kw: calls.append(kw))
    cli._run(Settings(database_url="sqlite:///x.db", secret_key="k"), "127.0.0.1", 8000)
    assert calls[-1]["proxy_headers"] is False
    trusted = "10.0.0.5,10.1.0.0/16"
    settings = Settings(database_url="sqlite:///x.db", secret_key="k", trusted_proxies=trusted)
    cli._run(settings, "127.0.0.1", 8000)
    assert calls[-1]["proxy_headers"] is True
    assert calls[-1]["forwarded_allow_ips"] == trusted
