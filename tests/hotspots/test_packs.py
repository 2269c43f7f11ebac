"""Regional packs built from the database, published through the "hotspots" TUF repository,
fetched and verified by the phone (full, then by delta), used offline."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface

from canyu.accounts.models import User
from canyu.client.tuf_fetch import UpdateRefused
from canyu.client.wifi import WifiClient
from canyu.db import Database, utcnow
from canyu.errors import InvalidInput
from canyu.hotspots import importers, service
from canyu.releases.publishing import TargetPublisher
from canyu.releases.settings import ReleaseSettings
from hotspots.conftest import FriendFactory

Auth = Callable[[User], dict[str, str]]


class AsgiFetcher(FetcherInterface):
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def _fetch(self, url: str) -> Iterator[bytes]:
        response = self.client.get(url)
        if response.status_code != 200:
            raise DownloadHTTPError(f"GET {url}", response.status_code)
        return iter([response.content])


def publisher(release: ReleaseSettings) -> TargetPublisher:
    return TargetPublisher(service.TUF_PRODUCT, release)


def seed(database: Database) -> str:
    rows = [
        importers.Candidate(str(i), 1.30 + i * 0.001, 103.85, f"Net {i % 7}", "", "open", True)
        for i in range(300)
    ]
    with database.session() as s:
        service.import_rows(s, rows=rows, source="test", licence="CC0")
        return service.regions(s)[0][0]


def test_phone_fetches_verifies_applies_a_delta_and_answers_offline(
    database: Database,
    api: TestClient,
    release_settings: ReleaseSettings,
    tmp_path: Path,
    friend: FriendFactory,
    auth: Auth,
) -> None:
    region = seed(database)
    pub = publisher(release_settings)
    day0 = utcnow() - timedelta(days=2)
    with database.session() as s:
        built = service.build_pack(
            s, region=region, pack_dir=tmp_path / "packs", publisher=pub, now=day0
        )
    assert built.count == 300
    assert built.size / built.count < 24
    assert not built.deltas
    root = pub.repository().trusted_root()
    phone = WifiClient(
        "http://testserver",
        data_dir=tmp_path / "phone",
        token=None,
        trusted_root=root,
        http=api,  # type: ignore[arg-type]
        fetcher=AsgiFetcher(api),
    )
    first = phone.sync(region)
    assert (first.how, first.version) == ("full", 1)
    # A day later: an owner-published password and a failing hotspot change the pack.
    with database.session() as s:
        (_d1, a), (_d2, b) = service.near(s, lat=1.30, lon=103.85, limit=2)
        changed, victim = service.get(s, hotspot_id=b.id), service.get(s, hotspot_id=a.id)
        changed.password = "open-sesame"
        changed.kind = "password"
        victim.failing = True
        changed_id, victim_id = changed.id, victim.id
    with database.session() as s:
        built2 = service.build_pack(
            s,
            region=region,
            pack_dir=tmp_path / "packs",
            publisher=pub,
            now=day0 + timedelta(days=1),
        )
    assert built2.deltas
    assert max(built2.deltas.values()) < built2.size
    second = phone.sync(region)
    assert second.how == "delta"
    assert second.version == 2
    assert phone.sync(region).how == "current"
    # Offline from here on: no server at all.
    offline = WifiClient(None, data_dir=tmp_path / "phone")
    near = offline.near(1.30, 103.85, radius_m=300, limit=5)
    assert near
    assert victim_id not in [r.id for _, r in near]
    art = offline.artefact(changed_id)
    assert art["type"] == "password"
    assert art["wifi_qr"].endswith(";P:open-sesame;;")
    png = offline.qr_png(art["wifi_qr"], tmp_path / "qr.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A report with no network waits in the queue, then goes with the next one.
    assert offline.report(changed_id, "worked") == {"sent": 0, "queued": 1, "last": None}
    online = WifiClient(
        "http://testserver",
        data_dir=tmp_path / "phone",
        token=auth(friend(60))["Authorization"][7:],
        http=api,  # type: ignore[arg-type]
    )
    sent = online.report(near[0][1].id, "login")
    assert sent["sent"] == 2
    assert sent["queued"] == 0


def test_a_tampered_pack_is_refused_and_the_old_one_stays(
    database: Database, api: TestClient, release_settings: ReleaseSettings, tmp_path: Path
) -> None:
    region = seed(database)
    pub = publisher(release_settings)
    with database.session() as s:
        service.build_pack(s, region=region, pack_dir=tmp_path / "packs", publisher=pub)
    phone = WifiClient(
        "http://testserver",
        data_dir=tmp_path / "phone",
        trusted_root=pub.repository().trusted_root(),
        http=api,  # type: ignore[arg-type]
        fetcher=AsgiFetcher(api),
    )
    phone.sync(region)
    before = phone.near(1.30, 103.85)
    for target in (release_settings.tuf_dir / "hotspots" / "targets").rglob("*pack.cyw"):
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    with database.session() as s:
        service.build_pack(s, region=region, pack_dir=tmp_path / "packs", publisher=None)
    fresh = WifiClient(
        "http://testserver",
        data_dir=tmp_path / "other-phone",
        trusted_root=pub.repository().trusted_root(),
        http=api,  # type: ignore[arg-type]
        fetcher=AsgiFetcher(api),
    )
    with pytest.raises(UpdateRefused):
        fresh.sync(region)
    assert phone.near(1.30, 103.85) == before


def test_packs_list_and_bad_region(database: Database, api: TestClient, tmp_path: Path) -> None:
    region = seed(database)
    with database.session() as s:
        assert service.regions_due(s) == [region]
        service.build_due_packs(s, pack_dir=tmp_path, publisher=None)
        assert service.regions_due(s) == []
        with pytest.raises(InvalidInput):
            service.build_pack(s, region="nowhere", pack_dir=tmp_path, publisher=None)
    listed = api.get("/api/v1/hotspots/packs").json()
    assert [(p["region"], p["count"], p["index"]) for p in listed] == [
        (region, 300, f"{region}/index.json")
    ]
    assert json.loads((tmp_path / region / "index.json").read_text())["count"] == 300


def test_the_hourly_job_builds_changed_regions_only(
    database: Database, release_app: object, release_settings: ReleaseSettings
) -> None:
    from canyu import jobs
    from canyu.hotspots import scheduling

    assert "hotspots-packs" in {job.id for job in scheduling.JOBS}
    seed(database)
    context = jobs.JobContext(database=database, settings=None, app=release_app)  # type: ignore[arg-type]
    built = scheduling.run_packs(context)
    assert [b.count for b in built] == [300]
    assert built[0].published
    assert scheduling.run_packs(context) == []
