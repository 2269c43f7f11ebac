"""Greeting packs from the friends' greetings to the phone: signed through TUF, fetched ahead
of time by the device's refresh, read offline on the day in the phone's time zone."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from conftest import UserFactory
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from canyu.accounts.models import Role, User
from canyu.cli import app as cli_app
from canyu.client.device import Device, DeviceState
from canyu.client.greetings import GreetingsClient, PhoneSettings, refresh_for_device, sms_text
from canyu.client.tuf_fetch import UpdateRefused
from canyu.db import Database
from canyu.greetings import calendar, service
from canyu.releases.publishing import TargetPublisher
from canyu.releases.settings import ReleaseSettings
from canyu.releases.tuf_repo import TufRepository
from greetings.conftest import AsgiFetcher

Auth = Callable[[User], dict[str, str]]
runner = CliRunner()
TODAY = datetime.now(UTC).date()
# The next Spring Festival and the day after it (no festival in China that day).
SPRING = next(
    f.date
    for f in calendar.festivals_between(
        "CN", TODAY + timedelta(days=1), TODAY + timedelta(days=400)
    )
    if f.key == "spring_festival"
)
QUIET = SPRING + timedelta(days=1)


def approved(api: TestClient, auth: Auth, author: User, team: User, text: str, **kw: str) -> int:
    body = {"festival": "spring_festival", "language": "zh", "text": text, **kw}
    response = api.post("/api/v1/greetings", json=body, headers=auth(author))
    assert response.status_code == 201, response.text
    gid = int(response.json()["id"])
    decided = api.post(
        f"/api/v1/greetings/{gid}/decision", json={"approve": True}, headers=auth(team)
    )
    assert decided.status_code == 200
    return gid


def publish(database: Database, release: ReleaseSettings, country: str, language: str) -> None:
    publisher = TargetPublisher(service.TUF_PRODUCT, release)
    with database.session() as s:
        service.build_pack(s, country=country, language=language, publisher=publisher, today=TODAY)


@pytest.fixture
def greetings_world(
    api: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> dict[str, int]:
    team = make_user(Role.TEAM)
    alice, bob, carol = make_user(), make_user(), make_user()
    best = approved(api, auth, alice, team, "{name}，新春快乐，万事如意！")
    second = approved(api, auth, bob, team, "新年好！恭喜发财！")
    for voter in (bob, carol):
        assert api.post(f"/api/v1/greetings/{best}/vote", headers=auth(voter)).status_code == 201
    # A pending one never ships.
    api.post(
        "/api/v1/greetings",
        json={"festival": "spring_festival", "language": "zh", "text": "还没审核"},
        headers=auth(carol),
    )
    return {"best": best, "second": second}


def phone(api: TestClient, data_dir: Path, root: bytes | None = None) -> GreetingsClient:
    return GreetingsClient(
        "http://testserver",
        data_dir=data_dir,
        trusted_root=root,
        http=cast(httpx.Client, api),
        fetcher=AsgiFetcher(api),
    )


def test_the_phone_shows_the_top_greetings_on_the_day_offline(
    api: TestClient,
    database: Database,
    release_settings: ReleaseSettings,
    greetings_world: dict[str, int],
    tmp_path: Path,
) -> None:
    publish(database, release_settings, "CN", "zh")
    client = phone(api, tmp_path / "phone")  # no root shipped: trusts the first, once
    result = client.sync("CN", "zh")
    assert result.how == "full"
    assert client.sync("CN", "zh").how == "current"
    # Offline from here: a fresh client reads the pack from disk only.
    offline = GreetingsClient("http://nowhere.invalid", data_dir=tmp_path / "phone")
    # Half past midnight in Shanghai on New Year's Day is still the day before in UTC.
    just_after_midnight = datetime.combine(SPRING, datetime.min.time(), UTC) - timedelta(
        hours=7, minutes=30
    )
    due = offline.today("CN", "zh", "Asia/Shanghai", now=just_after_midnight)
    assert [d.festival.key for d in due] == ["spring_festival"]
    assert [g.text for g in due[0].greetings] == [
        "{name}，新春快乐，万事如意！",
        "新年好！恭喜发财！",
    ]
    assert due[0].greetings[0].author.startswith("Friend")
    assert sms_text(due[0], 0, "小明") == "小明，新春快乐，万事如意！"
    # The same instant in London is still New Year's Eve (a different festival).
    eve = offline.today("CN", "zh", "Europe/London", now=just_after_midnight)
    assert [d.festival.key for d in eve] == ["lunar_new_years_eve"]
    assert eve[0].greetings == ()


def test_a_tampered_pack_is_refused_and_the_held_one_stays(
    api: TestClient,
    database: Database,
    release_settings: ReleaseSettings,
    greetings_world: dict[str, int],
    tmp_path: Path,
) -> None:
    publish(database, release_settings, "CN", "zh")
    root = TufRepository.open("greetings", release_settings.tuf_dir, release_settings.keys_dir)
    client = phone(api, tmp_path / "phone", root.trusted_root())
    client.sync("CN", "zh")
    held = client.pack("CN", "zh")
    assert held is not None
    publish(database, release_settings, "CN", "zh")  # version 2
    info = root.target("CN/zh/pack.cyg")
    assert info is not None
    path = root.target_path(info.filename)
    path.write_bytes(path.read_bytes()[:-3] + b"bad")
    with pytest.raises(UpdateRefused):
        client.sync("CN", "zh")
    assert client.pack("CN", "zh") == held


def _device(api: TestClient, home: Path, country: str = "CN") -> Device:
    device = Device(home, client=cast(httpx.Client, api))
    device.state = DeviceState(
        server="http://testserver",
        product="canyu-1s",
        hardware_id="x",
        country=country,
        channel="stable",
        version="1.0.0",
        token="cyd_test",
    )
    device.state.save(device.state_path)
    return device


def test_the_device_refresh_fetches_ahead_and_the_cli_works_offline(
    api: TestClient,
    database: Database,
    release_settings: ReleaseSettings,
    greetings_world: dict[str, int],
    tmp_path: Path,
) -> None:
    home = tmp_path / "phone"
    device = _device(api, home)
    # Nothing published yet: the refresh fails quietly, the cycle goes on.
    assert refresh_for_device(device) is None
    publish(database, release_settings, "CN", "zh")
    result = refresh_for_device(device)
    assert result is not None
    assert result.how == "full"
    settings = PhoneSettings.load(home, "CN")
    assert (settings.language, settings.timezone) == ("zh", "Asia/Shanghai")
    # Checked within the day and the pack covers the week: no network at all.
    assert refresh_for_device(device) is None

    shown = runner.invoke(
        cli_app,
        ["device", "greetings", "--home", str(home), "--date", SPRING.isoformat(), "--json"],
    )
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["festivals"][0]["key"] == "spring_festival"
    assert body["festivals"][0]["greetings"][0]["text"] == "{name}，新春快乐，万事如意！"
    sms = runner.invoke(
        cli_app,
        [
            "device",
            "greetings",
            "--home",
            str(home),
            "send",
            "--to",
            "13800138000",
            "--name",
            "小明",
            "--date",
            SPRING.isoformat(),
        ],
    )
    assert sms.exit_code == 0, sms.output
    assert sms.stdout.splitlines() == ["To: +8613800138000", "小明，新春快乐，万事如意！"]
    quiet = runner.invoke(
        cli_app, ["device", "greetings", "--home", str(home), "--date", QUIET.isoformat()]
    )
    assert quiet.exit_code == 0
    assert "No festival today" in quiet.stdout
    bad_number = runner.invoke(
        cli_app,
        [
            "device",
            "greetings",
            "send",
            "--home",
            str(home),
            "--to",
            "12",
            "--date",
            SPRING.isoformat(),
        ],
    )
    assert bad_number.exit_code == 2
    assert "not a valid phone number" in bad_number.output
    nothing_due = runner.invoke(
        cli_app,
        [
            "device",
            "greetings",
            "send",
            "--home",
            str(home),
            "--to",
            "13800138000",
            "--date",
            QUIET.isoformat(),
        ],
    )
    assert nothing_due.exit_code == 1
    bad_zone = runner.invoke(
        cli_app, ["device", "greetings", "--home", str(home), "--timezone", "Mars/Olympus"]
    )
    assert bad_zone.exit_code == 2
    unregistered = runner.invoke(cli_app, ["device", "greetings", "--home", str(tmp_path / "x")])
    assert unregistered.exit_code == 2


def test_a_week_ahead_a_pack_that_runs_out_is_fetched_again(tmp_path: Path) -> None:
    from canyu.greetings.pack import GreetingPack

    client = GreetingsClient("http://nowhere.invalid", data_dir=tmp_path)
    today = datetime.now(UTC).date()
    short = GreetingPack("US", "en", 1, 0, today - timedelta(days=300), 303)
    client._packs[("US", "en")] = short
    assert client.needs_refresh("US", "en", "UTC")
    client._packs[("US", "en")] = GreetingPack("US", "en", 1, 0, today, 30)
    assert not client.needs_refresh("US", "en", "UTC")


def test_the_phone_side_pulls_in_no_server_code() -> None:
    code = (
        "import sys, canyu.client.greetings, canyu.client.greetings_cli; "
        "bad = [m for m in ('sqlalchemy', 'fastapi') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_listen_cycle_fetches_the_pack_ahead_of_time(
    api: TestClient,
    database: Database,
    release_settings: ReleaseSettings,
    greetings_world: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from canyu.client.device import UpdateResult

    publish(database, release_settings, "CN", "zh")
    device = _device(api, tmp_path / "phone")
    monkeypatch.setattr(device, "update", lambda: UpdateResult(None, installed=False))
    results: list[UpdateResult] = []
    assert device._cycle(results.append, 0) is None
    assert len(results) == 1
    pack = GreetingsClient("http://nowhere.invalid", data_dir=tmp_path / "phone").pack("CN", "zh")
    assert pack is not None
    assert pack.covers(TODAY + timedelta(days=7))
