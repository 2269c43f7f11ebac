"""The releases part of the demo world, over a real demo: a rollout in progress, installs, the
posts shipped, and every product's TUF repository exportable for a static file server."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from canyu.accounts.models import Role, User
from canyu.client.tuf_fetch import fetch_verified_target
from canyu.community import service as community
from canyu.db import Database
from canyu.demo.releases import add_demo_releases
from canyu.devices import service as devices
from canyu.releases import service as releases
from canyu.releases.settings import ReleaseSettings
from canyu.releases.tuf_repo import TufRepository, product_names

from .fixtures import UserMaker


def test_the_demo_has_a_rollout_in_progress(
    database: Database, make_user: UserMaker, release_settings: ReleaseSettings, tmp_path: Path
) -> None:
    team = make_user(Role.TEAM)
    friends = [make_user(country=c) for c in ("CN", "IN", "ES", "CN")]
    with database.session() as s:
        post = community.create_post(
            s, author=friends[0], kind="bug", title="Call drops", body="!", device_model="canyu 1S"
        )
        community.change_status(s, actor=team, post_id=post.id, status="planned")
    with database.session() as s:
        people = list(s.scalars(select(User).where(User.id.in_([f.id for f in friends]))))
        summary = add_demo_releases(
            s,
            team=s.get(User, team.id) or team,
            friends=people,
            rng=random.Random(1),
            settings=release_settings,
        )
    assert summary.products == 5
    assert summary.installs > 0
    with database.session() as s:
        rollout = releases.get_rollout(s, rollout_id=summary.rollout_id)
        assert rollout.status == "active"
        assert rollout.percent == 20.0
        counts = releases.rollout_counts(s, rollout=rollout, since_resume=False)
        assert counts.successes > 0
        assert counts.failures >= 1
        assert counts.crashes == 1
        assert len(releases.health_samples(s, rollout_id=rollout.id)) > 10
        shipped = community.get_post(s, post_id=post.id)
        assert shipped.status == "shipped"
        assert sum(n for *_rest, n in devices.fleet(s)) == summary.devices
    assert len(product_names(release_settings.tuf_dir)) == 5
    for name in product_names(release_settings.tuf_dir):
        out = TufRepository.open(name, release_settings.tuf_dir, release_settings.keys_dir).export(
            tmp_path / "static"
        )
        assert (out / "metadata" / "timestamp.json").is_file()
        assert any((out / "targets").rglob("*.ota.zip"))


def test_canyu_demo_leaves_repositories_any_tuf_client_verifies_from_static_files(
    tmp_path: Path, serve: Callable[[Path], tuple[str, list[str]]]
) -> None:
    """What a visitor does: `canyu demo`, then `canyu release export-tuf DIR`, then a plain static
    file server; python-tuf's ngclient verifies every product's targets from there."""
    canyu = Path(sys.executable).with_name("canyu")
    env = {
        **os.environ,
        "CANYU_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "CANYU_JOBS_ENABLED": "false",
    }
    for command in (["demo", "--no-serve"], ["release", "export-tuf", str(tmp_path / "site")]):
        done = subprocess.run(
            [str(canyu), *command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    base_url, _requests = serve(tmp_path / "site")
    products = sorted(p.name for p in (tmp_path / "site").iterdir())
    assert len(products) == 5
    for product in products:
        metadata = tmp_path / "site" / product / "metadata"
        targets = json.loads((metadata / "targets.json").read_text())["signed"]["targets"]
        assert targets
        for name, info in targets.items():
            got = fetch_verified_target(
                f"{base_url}/{product}/metadata/",
                f"{base_url}/{product}/targets/",
                name,
                trusted_root=metadata / "1.root.json",
                cache_dir=tmp_path / "device" / product,
            )
            assert hashlib.sha256(got.read_bytes()).hexdigest() == info["hashes"]["sha256"]
