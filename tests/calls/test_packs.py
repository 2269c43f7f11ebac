"""Packs built from the database, published as TUF targets, fetched and verified by the phone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import MarketOpener
from fastapi.testclient import TestClient
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface

from calls.conftest import FriendFactory
from canyu.accounts.models import Role, User
from canyu.calls import service
from canyu.calls.settings import CallsSettings
from canyu.client.calls import CallsClient
from canyu.client.tuf_fetch import UpdateRefused
from canyu.db import Database, utcnow
from canyu.releases.publishing import TargetPublisher
from canyu.releases.settings import ReleaseSettings
from canyu.releases.tuf_repo import TufRepository


class AsgiFetcher(FetcherInterface):
    """ngclient's fetcher over the app, so the phone verifies exactly what the server serves."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def _fetch(self, url: str) -> Iterator[bytes]:
        response = self.client.get(url)
        if response.status_code != 200:
            raise DownloadHTTPError(f"GET {url}", response.status_code)
        return iter([response.content])


def publisher(release: ReleaseSettings) -> TargetPublisher:
    return TargetPublisher("calls", release)


def decide(
    database: Database, team: User, settings: CallsSettings, decisions: dict[str, str | None]
) -> None:
    with database.session() as s:
        actor = s.get(User, team.id)
        assert actor is not None
        for number, category in decisions.items():
            service.decide_number(
                s,
                actor=actor,
                number=number,
                settings=settings,
                decision="label" if category else "clear",
                category=category,
            )


def bulk_label(database: Database, count: int) -> None:
    """Many labelled numbers at once (as the crowd would leave them), events included."""
    from canyu.calls import numbers
    from canyu.calls.models import LabelEvent, Number

    with database.session() as s:
        for i in range(count):
            e164 = f"+86150{i:08d}"
            row = Number(
                e164=e164,
                region="CN",
                number_type="mobile",
                label="telemarketing",
                hash_bucket=numbers.bucket_of(numbers.number_hash(e164)),
            )
            s.add(row)
            s.flush()
            s.add(
                LabelEvent(
                    number_id=row.id,
                    region="CN",
                    category="telemarketing",
                    at=utcnow() - timedelta(hours=1),
                )
            )


def build(
    database: Database, settings: CallsSettings, release: ReleaseSettings, minutes: float = 0
) -> service.BuiltPack:
    with database.session() as s:
        return service.build_pack(
            s,
            region="CN",
            settings=settings,
            publisher=publisher(release),
            now=utcnow() + timedelta(minutes=minutes),
        )


def phone(api: TestClient, release: ReleaseSettings, data_dir: Path) -> CallsClient:
    root = TufRepository.open("calls", release.tuf_dir, release.keys_dir).trusted_root()
    return CallsClient(
        "http://testserver",
        "unused",
        data_dir=data_dir,
        default_region="CN",
        trusted_root=root,
        http=api,  # type: ignore[arg-type]
        fetcher=AsgiFetcher(api),
    )


@pytest.fixture
def team(friend: FriendFactory) -> User:
    return friend(role=Role.TEAM)


def test_phone_installs_a_verified_pack_then_follows_by_delta(
    calls_client: TestClient,
    database: Database,
    calls_settings: CallsSettings,
    release_settings: ReleaseSettings,
    team: User,
    tmp_path: Path,
) -> None:
    decide(
        database,
        team,
        calls_settings,
        {
            "+8613800138000": "fraud",
            "+8613800138001": "telemarketing",
            "+8613900001111": "delivery",
            "+861065529988": "harassment",
        },
    )
    bulk_label(database, 300)
    first = build(database, calls_settings, release_settings)
    assert (first.version, first.count, first.published) == (1, 304, True)
    device = phone(calls_client, release_settings, tmp_path / "phone")
    assert device.is_spam("+8613800138000") == (False, None)  # no pack yet
    synced = device.sync_pack("CN")
    assert (synced.version, synced.how) == (1, "full")
    assert device.is_spam("13800138000") == (True, "fraud")
    assert device.is_spam("+86 138 0013 8001") == (True, "telemarketing")
    assert device.is_spam("+8613900001111") == (False, "delivery")
    # Next door to two labelled numbers: a suspicious range, which warns but rings.
    assert device.is_spam("+8613800138002") == (False, "suspicious")
    assert device.check("+8613800138002").action == "warn"
    assert device.is_spam("+8618912345678") == (False, None)
    assert device.is_spam("not a number") == (False, None)
    assert device.sync_pack("CN").how == "current"

    decide(
        database,
        team,
        calls_settings,
        {"+8613800138001": None, "+8613700000000": "other", "+8613900001111": "fraud"},
    )
    second = build(database, calls_settings, release_settings, minutes=10)
    assert second.version == 2
    assert "86/delta-prev.cyd" in second.deltas
    synced = device.sync_pack("CN")
    assert (synced.version, synced.how) == (2, "delta")
    assert synced.downloaded < second.size
    assert device.is_spam("+8613800138001") == (False, None)
    assert device.is_spam("+8613700000000") == (True, "other")
    assert device.is_spam("+8613900001111") == (True, "fraud")
    # What the phone made from the delta is byte for byte the published pack.
    on_phone = (tmp_path / "phone" / "calls" / "86" / "pack.cyp").read_bytes()
    assert on_phone == (calls_settings.pack_dir / "86" / "pack.cyp").read_bytes()
    # A fresh phone takes the full pack.
    assert phone(calls_client, release_settings, tmp_path / "new").sync_pack("CN").how == "full"


def test_a_tampered_pack_is_refused_and_never_used(
    calls_client: TestClient,
    database: Database,
    calls_settings: CallsSettings,
    release_settings: ReleaseSettings,
    team: User,
    tmp_path: Path,
) -> None:
    decide(database, team, calls_settings, {"+8613800138000": "fraud"})
    build(database, calls_settings, release_settings)
    repo = TufRepository.open("calls", release_settings.tuf_dir, release_settings.keys_dir)
    info = repo.target("86/pack.cyp")
    assert info is not None
    served = repo.targets_dir / info.filename
    data = bytearray(served.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the served file
    served.write_bytes(bytes(data))
    device = phone(calls_client, release_settings, tmp_path / "phone")
    with pytest.raises(UpdateRefused):
        device.sync_pack("CN")
    assert device.current_pack("CN") is None
    assert device.is_spam("+8613800138000") == (False, None)
    assert not (tmp_path / "phone" / "calls" / "86" / "pack.cyp").exists()


def test_a_tampered_index_is_refused(
    calls_client: TestClient,
    database: Database,
    calls_settings: CallsSettings,
    release_settings: ReleaseSettings,
    team: User,
    tmp_path: Path,
) -> None:
    decide(database, team, calls_settings, {"+8613800138000": "fraud"})
    build(database, calls_settings, release_settings)
    repo = TufRepository.open("calls", release_settings.tuf_dir, release_settings.keys_dir)
    info = repo.target("86/index.json")
    assert info is not None
    served = repo.targets_dir / info.filename
    index = json.loads(served.read_bytes())
    index["pack"] = "86/other.cyp"
    served.write_bytes(json.dumps(index).encode())
    with pytest.raises(UpdateRefused):
        phone(calls_client, release_settings, tmp_path / "phone").sync_pack("CN")


def test_packs_are_only_rebuilt_for_regions_whose_labels_changed(
    database: Database,
    calls_settings: CallsSettings,
    team: User,
    open_markets: MarketOpener,
) -> None:
    open_markets("IN")
    decide(database, team, calls_settings, {"+8613800138000": "fraud", "+919876543210": "fraud"})
    with database.session() as s:
        assert service.zones_due(s) == ["86", "91"]
        built = service.build_due_packs(s, settings=calls_settings, publisher=None)
        assert sorted(b.region for b in built) == ["86", "91"]
        assert not any(b.published for b in built)
    with database.session() as s:
        assert service.zones_due(s) == []
    decide(database, team, calls_settings, {"+919876543211": "telemarketing"})
    with database.session() as s:
        assert service.zones_due(s) == ["91"]


def test_team_builds_a_pack_on_demand_over_the_api(
    calls_client: TestClient,
    database: Database,
    calls_settings: CallsSettings,
    team: User,
    auth: object,
) -> None:
    decide(database, team, calls_settings, {"+8613800138000": "fraud"})
    headers = auth(team)  # type: ignore[operator]
    response = calls_client.post("/api/v1/calls/packs/CN", headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["count"] == 1
    assert response.json()["published"] is True
    assert calls_client.post("/api/v1/calls/packs/ZZ", headers=headers).status_code == 422
