"""The device client end to end against the app: register with a friend as owner, check in, fetch
and verify through TUF (python-tuf's ngclient), install, report; a tampered target is refused
and reported as a failure."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import httpx
import paho.mqtt.publish as publish
import pytest
from conftest import app_over, unreachable_database_url
from fastapi.testclient import TestClient
from releases.fixtures import Shop, UserMaker, payload_bytes
from sqlalchemy import select
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface

from canyu.accounts.models import User
from canyu.client.device import Device, DeviceError, UpdateResult
from canyu.client.tuf_fetch import RepositoryUnavailable, UpdateRefused, fetch_verified_target
from canyu.community import service as community
from canyu.community.models import Notification
from canyu.db import Database
from canyu.devices import service as devices
from canyu.releases import health
from canyu.releases import service as releases
from canyu.releases.tuf_repo import TufRepository

Auth = Callable[[User], dict[str, str]]
NO_ADVANCE = health.Thresholds(min_successes=1000)


def phone(api: TestClient, tmp_path: Path, name: str = "phone") -> Device:
    # TestClient speaks httpx's client API (it is built on an httpx-compatible client).
    return Device(tmp_path / name, client=cast(httpx.Client, api))


def test_a_phone_updates_end_to_end(
    api: TestClient,
    shop: Shop,
    tmp_path: Path,
    make_user: UserMaker,
    auth: Auth,
    database: Database,
) -> None:
    shop.product()
    friend = make_user()
    with database.session() as s:
        post = community.create_post(
            s, author=friend, kind="bug", title="Alarm is silent", body="!"
        )
        community.change_status(s, actor=shop.team, post_id=post.id, status="planned")
    owner_token = auth(friend)["Authorization"].split()[1]
    device = phone(api, tmp_path)
    state = device.register(
        server=str(api.base_url),
        product="canyu-1s",
        hardware_id="SN-1",
        country="CN",
        channel="stable",
        version="1.0",
        owner_token=owner_token,
    )
    assert state.token
    assert state.token.startswith("cyd_")
    assert device.update().reason == "up to date"

    shop.rollout(shop.build("2.0", post_ids=(post.id,)), stages=(100,), thresholds=NO_ADVANCE)
    result = device.update()
    assert result.installed, result.reason
    assert result.offer is not None
    assert result.offer.target == "stable/2.0/update.zip"
    assert (tmp_path / "phone" / "system" / "update.zip").read_bytes() == payload_bytes("2.0")
    # The state survives a restart: a new client reads it from the file.
    again = phone(api, tmp_path)
    assert again.state is not None
    assert again.state.version == "2.0"
    assert again.update().reason == "up to date"
    with database.session() as s:
        assert releases.report_counts(s, rollout_id=result.offer.rollout_id) == (1, 0, 0)
        notices = s.scalars(select(Notification).where(Notification.kind == "installed")).all()
    assert [(n.user_id, n.payload["build"]) for n in notices] == [(friend.id, "2.0")]


def test_a_tampered_target_is_refused_and_reported(
    api: TestClient, shop: Shop, tmp_path: Path, database: Database
) -> None:
    shop.product()
    device = phone(api, tmp_path)
    device.register(
        server=str(api.base_url),
        product="canyu-1s",
        hardware_id="SN-2",
        country="CN",
        channel="stable",
        version="1.0",
    )
    rollout = shop.rollout(shop.build("2.0"), stages=(100,), thresholds=NO_ADVANCE)
    repo = TufRepository.open("canyu-1s", shop.settings.tuf_dir, shop.settings.keys_dir)
    target = repo.target("stable/2.0/update.zip")
    assert target is not None
    stored = repo.target_path(target.filename)
    stored.write_bytes(b"malware" + stored.read_bytes()[7:])  # same length, other bytes

    result = device.update()
    assert not result.installed
    assert result.offer is not None
    assert device.state is not None
    assert device.state.version == "1.0"
    assert not (tmp_path / "phone" / "system").exists()
    with database.session() as s:
        assert releases.report_counts(s, rollout_id=rollout.id) == (0, 1, 0)


def test_the_client_says_what_the_server_refused(
    api: TestClient, shop: Shop, tmp_path: Path
) -> None:
    shop.product()
    device = phone(api, tmp_path)
    with pytest.raises(DeviceError) as refused:
        device.register(
            server=str(api.base_url),
            product="canyu-1s",
            hardware_id="SN-3",
            country="XX",
            channel="stable",
            version="1.0",
        )
    assert refused.value.status == 422
    assert "country" in refused.value.message
    with pytest.raises(DeviceError, match="not registered"):
        phone(api, tmp_path, "other").check_in()


def registered_phone(api: TestClient, tmp_path: Path, hardware_id: str) -> Device:
    device = phone(api, tmp_path)
    device.register(
        server=str(api.base_url),
        product="canyu-1s",
        hardware_id=hardware_id,
        country="CN",
        channel="stable",
        version="1.0",
    )
    return device


def test_a_phone_keeps_its_reports_through_an_outage_and_sends_them_once(
    api: TestClient, shop: Shop, tmp_path: Path, database: Database
) -> None:
    shop.product()
    device = registered_phone(api, tmp_path, "SN-4")
    rollout = shop.rollout(shop.build("2.0"), stages=(100,), thresholds=NO_ADVANCE)
    assert device.update().installed
    with app_over(unreachable_database_url(tmp_path / "down")) as down:
        outage = Device(tmp_path / "phone", client=cast(httpx.Client, TestClient(down)))
        assert outage.report_crashes(2, report_id="crash-report-1") is False
        with pytest.raises(DeviceError) as unavailable:
            outage.update()  # the kept report cannot go either; then the check-in fails
    assert unavailable.value.status == 503
    assert unavailable.value.temporary
    assert unavailable.value.retry_after == 5
    # The report outlives the process: the next run finds it in the state file and sends it.
    back = phone(api, tmp_path)
    assert back.state is not None
    assert [r["report_id"] for r in back.state.pending_reports] == ["crash-report-1"]
    assert back.update().reason == "up to date"
    reread = phone(api, tmp_path).state
    assert reread is not None
    assert back.state.pending_reports == reread.pending_reports == []
    with database.session() as s:
        assert releases.report_counts(s, rollout_id=rollout.id) == (1, 0, 2)


def test_a_repository_that_is_down_is_not_a_refused_update(
    api: TestClient, shop: Shop, tmp_path: Path
) -> None:
    """An update server answering 503 leaves nothing verified and nothing refused, so the phone
    reports no failed install for an outage; a missing file is a refusal."""

    class Answering(FetcherInterface):
        def __init__(self, status: int) -> None:
            self.status = status

        def _fetch(self, url: str) -> Iterator[bytes]:
            raise DownloadHTTPError(f"GET {url}", self.status)

    shop.product()
    root = tmp_path / "root.json"
    root.write_bytes(api.get("/api/v1/products/canyu-1s/root.json").content)
    for status, raised in [
        (503, RepositoryUnavailable),
        (429, RepositoryUnavailable),
        (404, UpdateRefused),
    ]:
        with pytest.raises(raised):
            fetch_verified_target(
                "http://u/metadata/",
                "http://u/targets/",
                "stable/2.0/update.zip",
                trusted_root=root,
                cache_dir=tmp_path / str(status),
                fetcher=Answering(status),
            )


def test_listening_waits_out_an_outage_and_stops_on_a_revoked_token(
    api: TestClient, shop: Shop, tmp_path: Path, database: Database
) -> None:
    shop.product()
    registered = registered_phone(api, tmp_path, "SN-5").state
    assert registered is not None
    assert registered.device_id is not None
    now = [0.0]
    results: list[UpdateResult] = []
    with app_over(unreachable_database_url(tmp_path / "down")) as down:
        outage = Device(tmp_path / "phone", client=cast(httpx.Client, TestClient(down)))
        started: list[float] = []

        def seen(result: UpdateResult) -> None:
            results.append(result)
            started.append(now[0])

        outage.listen(
            on_update=seen,
            stop=lambda: len(results) >= 4,
            clock=lambda: now[0],
            sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
        )
    assert all("trying again in" in r.reason for r in results)
    waits = [b - a for a, b in itertools.pairwise(started)]
    # The server's Retry-After (5 s), then doubling, each spread by up to half again.
    for wait, least in zip(waits, (5, 10, 20), strict=True):
        assert least <= wait <= least * 1.5 + 1
    with database.session() as s:
        devices.revoke(s, device_id=registered.device_id)
    with pytest.raises(DeviceError) as revoked:
        phone(api, tmp_path).listen(on_update=results.append, stop=lambda: False)
    assert revoked.value.status == 401


def test_a_listening_phone_updates_at_once_on_a_push(
    api: TestClient, shop: Shop, tmp_path: Path, mqtt_broker: tuple[str, int]
) -> None:
    """Against the real broker: a push starts a cycle long before the hourly poll is due."""
    shop.product()
    device = registered_phone(api, tmp_path, "SN-6")
    assert device.state is not None
    host, port = mqtt_broker
    device.state.broker = f"mqtt://{host}:{port}"
    topic = device.state.push_topic = f"canyu/test-{uuid.uuid4().hex[:8]}/stable/CN"
    results: list[UpdateResult] = []
    deadline = time.monotonic() + 20
    listening = threading.Event()

    def push_until_heard() -> None:
        while not listening.wait(0.2):
            publish.single(topic, b"{}", qos=1, hostname=host, port=port)

    pusher = threading.Thread(target=push_until_heard, daemon=True)
    pusher.start()
    try:
        device.listen(
            on_update=results.append,
            stop=lambda: len(results) >= 2 or time.monotonic() > deadline,
            clock=lambda: 0.0,  # the poll never comes due: only a push can start a cycle
        )
    finally:
        listening.set()
        pusher.join(timeout=5)
    assert [r.reason for r in results] == ["up to date", "up to date"]
