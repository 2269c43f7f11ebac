"""Free Wi-Fi for the demo world, written through the service so every rule holds.

``add_demo_hotspots(session)`` lists a city's hotspots (NYC's open data when
../shared/data/wifi/ is there, and always a seeded few hundred around Shanghai's centre, as a
city would publish them in GeoJSON), a café in Shanghai claimed by its owner (``pengyou@``, who
verified the code on the café's portal page and published its password), and friends'
confirmations over the last weeks: most work, some need a login page, one hotspot keeps
failing (so it is left out of packs). Seeded: the same seed gives the same world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts.models import Role, User
from canyu.db import utcnow
from canyu.errors import RateLimited
from canyu.hotspots import importers, service
from canyu.hotspots.models import Hotspot

NYC_FILE = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "wifi"
) / "NYC_Wi-Fi_Hotspot_Locations.csv"
SHANGHAI = (31.2304, 121.4737)
CAFE = ("Lotus Café", "LotusCafe-Guest", 31.2297, 121.4762)
CAFE_PASSWORD = "lotus-tea-2026"  # noqa: S105 (the demo café publishes it)
CHAINS = ("i-Shanghai", "ChinaNet-Free", "Starbucks", "Metro-WiFi", "KFC-Free", "Library-WiFi")


@dataclass(frozen=True)
class DemoHotspots:
    imported: int
    cafe_id: int
    confirmations: int


def _shanghai(rng: random.Random, n: int = 400) -> list[importers.Row]:
    rows: list[importers.Row] = []
    for i in range(n):
        lat = SHANGHAI[0] + rng.gauss(0, 0.03)
        lon = SHANGHAI[1] + rng.gauss(0, 0.035)
        chain = rng.choice(CHAINS)
        captive = chain in ("i-Shanghai", "ChinaNet-Free", "Starbucks")
        rows.append(
            importers.Candidate(
                f"sh-{i}", lat, lon, chain, f"{chain} #{i}", "captive" if captive else "open", True
            )
        )
    rows.append(importers.Candidate("sh-cafe", CAFE[2], CAFE[3], CAFE[1], CAFE[0], "open", True))
    return rows


def add_demo_hotspots(session: Session, *, seed: int = 25) -> DemoHotspots:
    rng = random.Random(seed)
    imported = 0
    if NYC_FILE.exists():
        report = service.import_rows(
            session,
            rows=importers.read_file(NYC_FILE),
            source="nyc-open-data",
            licence="NYC Open Data terms of use",
        )
        imported += report.imported
    report = service.import_rows(
        session, rows=_shanghai(rng), source="shanghai-open-data", licence="CC BY 4.0 (demo)"
    )
    imported += report.imported
    users = session.scalars(select(User).order_by(User.id)).all()
    by_email = {u.email: u for u in users}
    owner = by_email.get("pengyou@example.com") or next(u for u in users if u.role == "friend")
    cafe = session.scalars(select(Hotspot).where(Hotspot.ssid == CAFE[1])).one()
    claim = service.claim(
        session, user=owner, hotspot_id=cafe.id, url="https://lotus-cafe.example/wifi"
    )
    service.verify_claim(session, user=owner, claim_id=claim.id, fetch=lambda _url: claim.code)
    service.set_credentials(session, user=owner, hotspot_id=cafe.id, password=CAFE_PASSWORD)
    # Friends' confirmations over the last three weeks, in Shanghai.
    friends = [u for u in users if u.role in (Role.FRIEND.value, Role.TEAM.value)][:12]
    shanghai = session.scalars(
        select(Hotspot).where(Hotspot.region == cafe.region).order_by(Hotspot.id)
    ).all()
    now = utcnow()
    count = 0
    failing = shanghai[7]
    for hotspot in rng.sample(list(shanghai), min(80, len(shanghai))):
        for who in rng.sample(friends, min(len(friends), rng.randint(1, 4))):
            if hotspot.id == failing.id:
                outcome = "failed"
            elif hotspot.kind == "captive":
                outcome = rng.choice(("login", "login", "worked", "failed"))
            else:
                outcome = rng.choice(("worked", "worked", "worked", "failed"))
            when = now - timedelta(days=rng.uniform(0, 21))
            service.confirm(session, user=who, hotspot_id=hotspot.id, outcome=outcome, now=when)
            count += 1
    for who in friends[:6]:
        if who.id != owner.id:
            service.confirm(
                session,
                user=who,
                hotspot_id=cafe.id,
                outcome="worked",
                now=now - timedelta(hours=who.id % 48 + 5),
            )
            count += 1
    for who in friends:
        try:
            service.confirm(
                session,
                user=who,
                hotspot_id=failing.id,
                outcome="failed",
                now=now - timedelta(hours=1),
            )
            count += 1
        except RateLimited:
            continue
    session.flush()
    return DemoHotspots(imported, cafe.id, count)
