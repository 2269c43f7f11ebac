"""Owners' claims verified by a DNS TXT record, against a real DNS server on this machine
(dnslib's, on a free UDP port), through the API and the claim page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dns.resolver
import pytest
from conftest import assert_error
from dnslib import QTYPE, RR, TXT  # type: ignore[import-untyped]
from dnslib.server import BaseResolver, DNSLogger, DNSServer  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.accounts.models import User
from canyu.db import Database
from canyu.hotspots import importers, service
from canyu.lab.servers import free_port
from hotspots.conftest import FriendFactory
from hotspots.test_pages import csrf, signed_in


class Zone(BaseResolver):  # type: ignore[misc]
    """Answers TXT questions from a dict (name -> strings); anything else is NXDOMAIN."""

    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.txt:
            reply.header.rcode = 3  # NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for text in self.txt[name]:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(text), ttl=0))
        return reply


@pytest.fixture
def zone(app: FastAPI) -> Iterator[Zone]:
    """A DNS server for the app's claim checks: the app's resolver asks it, and only it."""
    resolver = Zone()
    port = free_port()
    server = DNSServer(
        resolver,
        address="127.0.0.1",
        port=port,
        logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"),
    )
    server.start_thread()
    client = dns.resolver.Resolver(configure=False)
    client.nameservers = ["127.0.0.1"]
    client.port = port
    app.state.hotspots_resolver = client
    # A page fetch would find nothing: only the TXT record can prove the claim here.
    app.state.hotspots_fetcher = lambda url: "no code on this page"
    yield resolver
    server.stop()
    del app.state.hotspots_resolver


@pytest.fixture
def hotspot_id(database: Database) -> int:
    with database.session() as s:
        row = importers.Candidate("a", 40.7580, -73.9855, "Cafe Lotus", "Lotus", "open", True)
        service.import_rows(s, rows=[row], source="test", licence="CC0")
        return service.near(s, lat=40.7580, lon=-73.9855, limit=1)[0][1].id


def test_a_claim_is_verified_by_its_txt_record(
    client: TestClient,
    zone: Zone,
    hotspot_id: int,
    friend: FriendFactory,
    auth: Callable[[User], dict[str, str]],
) -> None:
    owner, rival = friend(60), friend(60)
    h_owner, h_rival = auth(owner), auth(rival)
    claim = client.post(
        f"/api/v1/hotspots/{hotspot_id}/claims",
        json={"url": "https://www.Lotus.example/menu"},
        headers=h_owner,
    ).json()
    assert "_canyu-hotspot.<your website's domain>" in claim["instructions"]
    verify = f"/api/v1/hotspots/claims/{claim['id']}/verify"
    by_dns = {"method": "dns"}
    # No record yet; then a record without the code: a 422 with the reason, kept on the claim.
    error = assert_error(client.post(verify, json=by_dns, headers=h_owner), 422, "invalid_input")
    assert error["message"] == "_canyu-hotspot.www.lotus.example has no TXT record yet."
    zone.txt["_canyu-hotspot.www.lotus.example"] = ["v=spf1 -all", "canyu-hotspot-verification=0"]
    error = assert_error(client.post(verify, json=by_dns, headers=h_owner), 422, "invalid_input")
    assert "not in the TXT records of _canyu-hotspot.www.lotus.example" in error["message"]
    got = client.get(f"/api/v1/hotspots/claims/{claim['id']}", headers=h_owner).json()
    assert got["last_error"] == (
        "the code is not in the TXT records of _canyu-hotspot.www.lotus.example yet"
    )
    assert got["status"] == "pending"
    # The page method still fetches the page (which has no code here).
    assert_error(client.post(verify, headers=h_owner), 422, "invalid_input")
    zone.txt["_canyu-hotspot.www.lotus.example"].append(claim["code"])
    assert client.post(verify, json=by_dns, headers=h_rival).status_code == 404
    assert_error(client.post(verify, json={"method": "ftp"}, headers=h_owner), 422, "invalid_input")
    verified = client.post(verify, json=by_dns, headers=h_owner)
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"
    assert client.get(f"/api/v1/hotspots/{hotspot_id}").json()["owned"]


def test_an_unanswering_dns_server_is_a_reason_not_a_500(
    client: TestClient, app: FastAPI, hotspot_id: int, friend: FriendFactory, auth: Any
) -> None:
    silent = dns.resolver.Resolver(configure=False)
    silent.nameservers = ["127.0.0.1"]
    silent.port = free_port()  # nothing listens there
    app.state.hotspots_resolver = silent
    h_owner = auth(friend(60))
    claim = client.post(
        f"/api/v1/hotspots/{hotspot_id}/claims",
        json={"url": "https://lotus.example/"},
        headers=h_owner,
    ).json()
    answer = client.post(
        f"/api/v1/hotspots/claims/{claim['id']}/verify", json={"method": "dns"}, headers=h_owner
    )
    error = assert_error(answer, 422, "invalid_input")
    assert error["message"].startswith("Could not look up _canyu-hotspot.lotus.example")
    del app.state.hotspots_resolver


def test_the_claim_page_verifies_by_dns(
    client: TestClient, zone: Zone, hotspot_id: int, friend: FriendFactory
) -> None:
    owner = friend(60)
    signed_in(client, owner.email)
    page = f"/hotspots/{hotspot_id}/claim"
    client.post(page, data={"url": "https://lotus.example/", "csrf_token": csrf(client, page)})
    shown = client.get(page).text
    assert "_canyu-hotspot.lotus.example" in shown
    code = shown.split("canyu-hotspot-verification=")[1][:24]
    zone.txt["_canyu-hotspot.lotus.example"] = [f"canyu-hotspot-verification={code}"]
    token = csrf(client, page)
    r = client.post(f"{page}/verify", data={"method": "dns", "csrf_token": token})
    assert r.status_code == 200
    assert "You are the verified owner" in r.text
