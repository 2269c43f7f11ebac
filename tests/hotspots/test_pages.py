"""The hotspots' pages without a browser: map, filters, a hotspot, confirm and claim forms."""

from __future__ import annotations

import re

from conftest import PASSWORD
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.db import Database
from canyu.hotspots import importers, service
from hotspots.conftest import FriendFactory


def seed(database: Database) -> int:
    rows = [
        importers.Candidate("a", 31.2304, 121.4737, "Cafe <Lotus>", "Lotus", "open", True),
        importers.Candidate("b", 31.2314, 121.4747, "Mall WiFi", "Mall", "captive", True),
    ]
    with database.session() as s:
        service.import_rows(s, rows=rows, source="test", licence="CC0")
        return service.near(s, lat=31.2304, lon=121.4737, limit=1)[0][1].id


def signed_in(client: TestClient, email: str) -> str:
    page = client.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/signin", data={"email": email, "password": PASSWORD, "csrf_token": token[1]})
    return token[1]


def csrf(client: TestClient, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text)
    assert found
    return found[1]


def test_map_page_draws_the_city_from_its_hotspots_and_filters(
    client: TestClient, database: Database
) -> None:
    hid = seed(database)
    page = client.get("/hotspots", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.text.count("<polygon") >= 1
    assert f'href="/hotspots/{hid}"' in page.text
    assert "Cafe &lt;Lotus&gt;" in page.text
    assert "<Lotus>" not in page.text
    filtered = client.get("/hotspots?no_login=true").text
    assert "Mall WiFi" not in filtered
    assert "Cafe &lt;Lotus&gt;" in filtered
    zh = client.get("/hotspots", headers={"accept-language": "zh-CN"}).text
    assert "免费 Wi-Fi" in zh
    assert client.get("/hotspots?region=nope").status_code == 422
    assert client.get("/hotspots/0").status_code == 422  # ids are 1 .. 2**31-1 everywhere
    assert client.get("/hotspots/999999").status_code == 404
    assert client.get("/hotspots/99999999999").status_code == 422


def test_a_friend_confirms_and_an_owner_claims_through_the_pages(
    client: TestClient, app: FastAPI, database: Database, friend: FriendFactory
) -> None:
    hid = seed(database)
    assert "Sign in" in client.get(f"/hotspots/{hid}").text
    me = friend(60)
    signed_in(client, me.email)
    page = client.get(f"/hotspots/{hid}").text
    assert "WIFI:T:nopass" not in page
    assert "<svg" in page
    token = csrf(client, f"/hotspots/{hid}")
    r = client.post(f"/hotspots/{hid}/confirm", data={"outcome": "worked", "csrf_token": token})
    assert r.status_code == 200
    assert "Thanks" in r.text
    again = client.post(f"/hotspots/{hid}/confirm", data={"outcome": "worked", "csrf_token": token})
    assert again.status_code == 429
    assert "one confirmation per hotspot" in again.text
    r = client.post(
        f"/hotspots/{hid}/claim", data={"url": "https://lotus.example/", "csrf_token": token}
    )
    assert r.status_code == 200
    assert "canyu-hotspot-verification=" in r.text
    code = re.search(r"canyu-hotspot-verification=[0-9a-f]+", r.text)
    assert code
    app.state.hotspots_fetcher = lambda url: code[0]
    r = client.post(f"/hotspots/{hid}/claim/verify", data={"csrf_token": token})
    assert "You are the verified owner" in r.text
    r = client.post(
        f"/hotspots/{hid}/credentials",
        data={"password": "lotus-2024!", "portal_url": "", "passpoint": "", "csrf_token": token},
    )
    assert r.status_code == 200
    assert "lotus-2024!" in r.text
    bad = client.post(
        f"/hotspots/{hid}/credentials",
        data={"password": "short", "portal_url": "", "passpoint": "", "csrf_token": token},
    )
    assert bad.status_code == 422
    assert "8 to 63" in bad.text
    assert client.post(f"/hotspots/{hid}/confirm", data={"outcome": "worked"}).status_code == 403
