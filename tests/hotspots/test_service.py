"""Imports with merging and counted skips, near queries, confirmations, suggestions, claims."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from canyu.accounts.models import Role
from canyu.db import Database, utcnow
from canyu.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from canyu.hotspots import geo, importers, service
from canyu.hotspots.models import Hotspot, HotspotSource
from canyu.hotspots.pack import SuccessClass
from hotspots.conftest import FriendFactory

LICENCE = "NYC Open Data terms"


def feature(
    lon: float, lat: float, ssid: str | None, ident: str, **props: str
) -> dict[str, object]:
    properties: dict[str, object] = {"internet_access": "wlan", "name": f"Place {ident}", **props}
    if ssid is not None:
        properties["internet_access:ssid"] = ssid
    return {
        "type": "Feature",
        "id": ident,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def write_geojson(path: Path, features: list[object]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def import_file(database: Database, path: Path, source: str) -> service.ImportReport:
    rows = importers.read_file(path)
    with database.session() as s:
        return service.import_rows(s, rows=rows, source=source, licence=LICENCE)


def test_nyc_import_is_complete_and_idempotent(database: Database, nyc_file: Path) -> None:
    first = import_file(database, nyc_file, "nyc-open-data")
    assert first.imported == 3319
    assert first.merged == 0
    assert not first.skipped
    again = import_file(database, nyc_file, "nyc-open-data")
    assert again.as_json() == {
        "imported": 0,
        "merged": 0,
        "skipped": 3319,
        "skip_reasons": {"already imported": 3319},
    }
    with database.session() as s:
        assert s.scalar(select(func.count(Hotspot.id))) == 3319
        # "Limited Free" is metered time behind a login page.
        assert s.scalar(select(func.count()).where(Hotspot.kind == "captive")) == 581


def test_geojson_merges_by_place_and_ssid_keeping_both_provenances(
    database: Database, tmp_path: Path, nyc_file: Path
) -> None:
    import_file(database, nyc_file, "nyc-open-data")
    with database.session() as s:
        link = s.scalars(select(Hotspot).where(Hotspot.ssid == "LinkNYC Free Wi-Fi").limit(1)).one()
        lat, lon, link_id = link.lat, link.lon, link.id
    path = write_geojson(
        tmp_path / "osm.geojson",
        [
            feature(lon + 0.0001, lat, "linknyc free wi-fi", "node/1"),  # 8 m away: merges
            feature(lon + 0.01, lat, "LinkNYC Free Wi-Fi", "node/2"),  # 840 m: a new one
            feature(lon, lat, "Other", "node/3", **{"internet_access:fee": "yes"}),
            feature(lon, lat, None, "node/4"),
            feature(200.0, lat, "X", "node/5"),
            feature(lon, lat, "X" * 40, "node/6"),
            feature(lon, lat, "Y", "node/1"),
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"amenity": "cafe"},
            },
            "junk",
        ],
    )
    report = import_file(database, path, "osm")
    assert (report.imported, report.merged) == (2, 1)
    assert report.skipped == {
        "no SSID": 1,
        "coordinates out of range": 1,
        "SSID longer than 32 bytes": 1,
        "duplicate in file": 1,
        "no internet_access=wlan": 1,
        "not a feature": 1,
    }
    with database.session() as s:
        assert [x.source for x in service.sources(s, hotspot_id=link_id)] == [
            "nyc-open-data",
            "osm",
        ]
        paid = s.scalars(select(Hotspot).where(Hotspot.ssid == "Other")).one()
        assert paid.free is False


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"type": "Topology"}', "a,b\n1,2\n", "\xff\xfe"],
)
def test_a_malformed_file_is_an_error_and_writes_nothing(
    database: Database, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode())
    with pytest.raises(InvalidInput):
        importers.read_file(path)
    with database.session() as s:
        assert s.scalar(select(func.count(HotspotSource.id))) == 0


def test_bad_source_or_licence_is_refused(database: Database) -> None:
    with database.session() as s, pytest.raises(InvalidInput):
        service.import_rows(s, rows=[], source="Bad Name!", licence=LICENCE)
    with database.session() as s, pytest.raises(InvalidInput):
        service.import_rows(s, rows=[], source="ok", licence=" ")


def test_near_is_exact_nearest_first_and_checks_bounds(database: Database, nyc_file: Path) -> None:
    import_file(database, nyc_file, "nyc-open-data")
    lat, lon = 40.7580, -73.9855  # Times Square
    with database.session() as s:
        found = service.near(s, lat=lat, lon=lon, radius_m=500, limit=200)
        everything = s.execute(select(Hotspot.id, Hotspot.lat, Hotspot.lon)).all()
        expected = sorted(i for i, a, b in everything if geo.distance_m(lat, lon, a, b) <= 500)
        assert sorted(h.id for _, h in found) == expected
        assert expected
        assert [d for d, _ in found] == sorted(d for d, _ in found)
        top = service.near(s, lat=lat, lon=lon, radius_m=1000, limit=20)
        # Found in the quarter radius first (dense Midtown), still exactly the 20 nearest.
        brute = sorted((geo.distance_m(lat, lon, a, b), i) for i, a, b in everything)[:20]
        assert [h.id for _, h in top] == [i for _, i in brute]
        five = service.near(s, lat=lat, lon=lon, radius_m=1000, limit=5)
        assert brute[4][0] < 250  # so these five came from the quarter-radius look
        assert [h.id for _, h in five] == [i for _, i in brute[:5]]
        assert len(top) == 20
        assert all(d <= 1000 for d, _ in top)
        free = service.near(
            s, lat=lat, lon=lon, radius_m=3000, limit=200, filters=service.Filters(no_login=True)
        )
        assert all(h.kind != "captive" for _, h in free)
        for bad_lat, bad_lon in ((91.0, 0.0), (0.0, -181.0)):
            with pytest.raises(InvalidInput):
                service.near(s, lat=bad_lat, lon=bad_lon)
        with pytest.raises(InvalidInput):
            service.near(s, lat=lat, lon=lon, radius_m=100_000)


def one_hotspot(database: Database, **values: object) -> int:
    with database.session() as s:
        rows = [importers.Candidate("1", 31.2304, 121.4737, "Cafe Lotus", "Lotus", "open", True)]
        service.import_rows(s, rows=rows, source="test", licence="CC0")
        hotspot = s.scalars(select(Hotspot)).one()
        for k, v in values.items():
            setattr(hotspot, k, v)
        return hotspot.id


def test_confirmations_are_trust_weighted_rate_limited_and_failing_drops_out(
    database: Database, friend: FriendFactory
) -> None:
    hid = one_hotspot(database)
    veteran, newcomer, team = friend(90), friend(0), friend(90, Role.TEAM)
    with database.session() as s:
        a = service.confirm(s, user=veteran, hotspot_id=hid, outcome="worked")
        b = service.confirm(s, user=newcomer, hotspot_id=hid, outcome="worked")
        c = service.confirm(s, user=team, hotspot_id=hid, outcome="worked")
        assert c.weight > a.weight > b.weight
        with pytest.raises(RateLimited):
            service.confirm(s, user=veteran, hotspot_id=hid, outcome="failed")
        with pytest.raises(InvalidInput):
            service.confirm(s, user=team, hotspot_id=hid, outcome="meh")
        hotspot = s.get(Hotspot, hid)
        assert hotspot is not None
        assert hotspot.success_class == SuccessClass.GOOD
        assert hotspot.last_confirmed_at
    # Four hours later the same friends may say again: it keeps failing now.
    later = utcnow() + timedelta(days=40)
    others = [friend(60), friend(60)]
    with database.session() as s:
        for who in (veteran, team, *others):
            service.confirm(s, user=who, hotspot_id=hid, outcome="failed", now=later)
        hotspot = s.get(Hotspot, hid)
        assert hotspot is not None
        assert hotspot.failing
        assert service.pack_records(s, region=hotspot.region) == []
        assert service.near(s, lat=hotspot.lat, lon=hotspot.lon) == []


def test_a_confirmation_flood_is_capped_per_day(database: Database, friend: FriendFactory) -> None:
    flooder = friend(60)
    with database.session() as s:
        rows = [
            importers.Candidate(str(i), 31.23 + i * 0.001, 121.47, f"Net {i}", "", "open", True)
            for i in range(45)
        ]
        service.import_rows(s, rows=rows, source="test", licence="CC0")
        ids = s.scalars(select(Hotspot.id).order_by(Hotspot.id)).all()
    with database.session() as s:
        for hid in ids[:40]:
            service.confirm(s, user=flooder, hotspot_id=hid, outcome="failed")
        with pytest.raises(RateLimited):
            service.confirm(s, user=flooder, hotspot_id=ids[40], outcome="failed")


def test_login_reports_turn_an_open_hotspot_captive(
    database: Database, friend: FriendFactory
) -> None:
    hid = one_hotspot(database)
    friends = [friend(60), friend(60)]
    with database.session() as s:
        for who in friends:
            service.confirm(s, user=who, hotspot_id=hid, outcome="login")
        assert service.get(s, hotspot_id=hid).kind == "captive"


def no_code(url: str) -> str:
    return "no code here"


def test_claims_verify_once_and_only_owners_publish_passwords(
    database: Database, friend: FriendFactory
) -> None:
    hid = one_hotspot(database)
    owner, rival, other = friend(60), friend(60), friend(60)
    pages: dict[str, str] = {}
    with database.session() as s:
        claim = service.claim(s, user=owner, hotspot_id=hid, url="https://lotus.example/portal")
        rival_claim = service.claim(s, user=rival, hotspot_id=hid, url="https://evil.example/")
        claim_id, code, rival_id = claim.id, claim.code, rival_claim.id
        with pytest.raises(Conflict):
            service.claim(s, user=owner, hotspot_id=hid, url="https://lotus.example/portal")
        with pytest.raises(Forbidden):
            service.set_credentials(s, user=other, hotspot_id=hid, password="friends-guess")
    with database.session() as s, pytest.raises(InvalidInput):
        service.verify_claim(s, user=owner, claim_id=claim_id, fetch=no_code)
    pages["https://lotus.example/portal"] = f"<p>{code}</p>"
    with database.session() as s:
        service.verify_claim(s, user=owner, claim_id=claim_id, fetch=pages.__getitem__)
    with database.session() as s:
        with pytest.raises(Conflict):
            service.claim(s, user=owner, hotspot_id=hid, url="https://lotus.example/portal")
        with pytest.raises(Conflict):
            service.verify_claim(s, user=rival, claim_id=rival_id, fetch=lambda url: "anything")
        with pytest.raises(NotFound):
            service.get_claim(s, user=other, claim_id=claim_id)
        with pytest.raises(InvalidInput):
            service.set_credentials(s, user=owner, hotspot_id=hid, password="short")
        hotspot = service.set_credentials(s, user=owner, hotspot_id=hid, password="lotus-2024!")
        assert hotspot.kind == "password"
        assert hotspot.owner_id == owner.id
        art = service.artefact(hotspot)
        assert art["wifi_qr"] == "WIFI:T:WPA;S:Cafe Lotus;P:lotus-2024!;;"


def test_suggestions_wait_for_the_team_and_duplicates_are_refused(
    database: Database, friend: FriendFactory
) -> None:
    hid = one_hotspot(database)
    suggester, team = friend(60), friend(60, Role.TEAM)
    with database.session() as s:
        with pytest.raises(Conflict):
            service.suggest(s, user=suggester, lat=31.2304, lon=121.4737, ssid="cafe lotus")
        with pytest.raises(InvalidInput):
            service.suggest(s, user=suggester, lat=95, lon=0, ssid="x")
        new = service.suggest(s, user=suggester, lat=31.24, lon=121.48, ssid="Noodle Bar")
        new_id = new.id
        assert service.near(s, lat=31.24, lon=121.48) == []
        with pytest.raises(Forbidden):
            service.review(s, actor=suggester, hotspot_id=new_id, accept=True)
        service.review(s, actor=team, hotspot_id=new_id, accept=True)
        assert [h.id for _, h in service.near(s, lat=31.24, lon=121.48)] == [new_id]
        assert hid != new_id
