"""`canyu release ...`: a product, a payload upload checked against its hash, the weekly cut,
a rollout and the team's controls, from the command line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canyu.accounts.models import Role
from canyu.cli import app
from canyu.community import service as community
from canyu.db import Database
from canyu.releases import service as releases
from canyu.releases.settings import ReleaseSettings, get_release_settings

from .fixtures import UserMaker


@pytest.fixture
def cli_env(
    release_settings: ReleaseSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ReleaseSettings]:
    monkeypatch.setenv("CANYU_RELEASE_TUF_DIR", str(release_settings.tuf_dir))
    monkeypatch.setenv("CANYU_RELEASE_KEYS_DIR", str(release_settings.keys_dir))
    monkeypatch.setenv("CANYU_RELEASE_ROOT_KEYS_DIR", str(release_settings.root_keys_dir))
    get_release_settings.cache_clear()
    yield release_settings
    get_release_settings.cache_clear()


def test_the_release_commands(
    cli_env: ReleaseSettings,
    database: Database,
    database_url: str,
    make_user: UserMaker,
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    team = make_user(Role.TEAM)
    friend = make_user()
    db = ["--database-url", database_url]

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*args, *db])
        return result.exit_code, result.output

    assert run("release", "product", "canyu-1s", "--name", "canyu 1S")[0] == 0
    code, out = run("release", "cut", "--product", "canyu-1s")
    assert code == 2
    assert "No planned posts" in out
    with database.session() as s:
        post = community.create_post(s, author=friend, kind="bug", title="Echo on calls", body="!")
        community.change_status(s, actor=team, post_id=post.id, status="planned")
        releases.train_attach(s, actor=team, product_key="canyu-1s", post_id=post.id)
    code, out = run("release", "cut", "--product", "canyu-1s", "--version", "4.12.1")
    assert code == 0, out
    assert "Echo on calls" in out
    assert friend.display_name in out

    payload = tmp_path / "ota.bin"
    payload.write_bytes(b"signed update" * 100)
    wrong = hashlib.sha256(b"something else").hexdigest()
    code, out = run(
        "release",
        "upload",
        str(payload),
        "--product",
        "canyu-1s",
        "--version",
        "4.12.1",
        "--sha256",
        wrong,
    )
    assert code == 2
    assert "does not match" in out
    code, out = run(
        "release", "upload", str(payload), "--product", "canyu-1s", "--version", "4.12.1"
    )
    assert code == 0, out
    assert "developer/4.12.1/ota.bin" in out

    code, out = run(
        "release", "rollout", "--product", "canyu-1s", "--version", "4.12.1", "--stages", "10,5"
    )
    assert code == 2
    assert "must grow" in out
    code, out = run("release", "rollout", "--product", "canyu-1s", "--version", "4.12.1")
    assert code == 0, out
    rollout_id = out.split("rollout ")[1].split()[0]
    assert run("release", "pause", rollout_id, "--reason", "checking")[0] == 0
    code, out = run("release", "status")
    assert code == 0
    assert "paused" in out
    with database.session() as s:
        assert community.get_post(s, post_id=post.id).status == "shipped"
