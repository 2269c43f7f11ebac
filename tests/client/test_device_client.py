"""The device client end to end against the app: register with a friend as owner, check in, fetch
and verify through TUF (python-tuf's ngclient), install, report; a tampered target is refused
and reported as a failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi.testclient import TestClient
from releases.fixtures import Shop, UserMaker, payload_bytes
from sqlalchemy import select

from canyu.accounts.models import User
from canyu.client.device import Device, DeviceError
from canyu.community import service as community
from canyu.community.models import Notification
from canyu.db import Database
from canyu.devices import service as devices
from canyu.releases import health
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
        assert devices.report_counts(s, rollout_id=result.offer.rollout_id) == (1, 0, 0)
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
        assert devices.report_counts(s, rollout_id=rollout.id) == (0, 1, 0)


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
