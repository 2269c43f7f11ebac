"""`canyu bench checkin` measures the same thing on a database it loaded earlier as on a fresh
one: the check-in's read path, with no sighting due; with ``--sightings``, exactly the devices it
is about to measure are due one. Every check-in it sends decides an offer. Its load generator
stops at its bounds and counts every answer.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from browser import serving
from fastapi.testclient import TestClient
from packaging.version import Version
from releases.fixtures import Shop
from sqlalchemy import func, select, update

from canyu.db import Database, utcnow
from canyu.devices.edge import PATH as CHECKIN_PATH
from canyu.devices.models import Device
from canyu.lab import checkin as bench
from canyu.lab import loadgen
from canyu.progress import progress_bar

from .test_devices import bearer


def test_a_reused_bench_database_has_no_sightings_due(shop: Shop, database: Database) -> None:
    product = shop.product()
    with progress_bar() as bar:
        tokens = bench.load_devices(database, product.id, 1000, bar)
    assert len(set(tokens)) == 1000
    with database.session() as s:
        s.execute(update(Device).values(last_seen_at=utcnow() - timedelta(hours=3)))
    with progress_bar() as bar:
        assert bench.load_devices(database, product.id, 1000, bar) == tokens  # loads none again
    with database.session() as s:
        assert s.scalar(select(func.count(Device.id))) == 1000
        oldest = s.scalar(select(func.min(Device.last_seen_at)))
    assert oldest is not None
    assert oldest > utcnow() - timedelta(minutes=1)


def test_sightings_mode_makes_exactly_the_measured_devices_due(
    shop: Shop, database: Database
) -> None:
    product = shop.product()
    with progress_bar() as bar:
        tokens = bench.load_devices(database, product.id, 1000, bar)
    url = database.engine.url.render_as_string(hide_password=False)
    bench.mark_due(url, tokens[:600])
    hour_ago = utcnow() - timedelta(hours=1)
    with database.session() as s:
        due = s.scalar(select(func.count(Device.id)).where(Device.last_seen_at < hour_ago))
        not_due = s.scalar(select(func.count(Device.id)).where(Device.last_seen_at >= hour_ago))
    assert (due, not_due) == (600, 400)


def test_the_bench_rollout_offers_a_newer_build_to_one_device_in_ten(
    shop: Shop, database: Database, api: TestClient, tmp_path: Path
) -> None:
    """The measured check-ins decide real offers: the build rolled out is newer than the one the
    bench devices run and report, also on a database that an earlier bench run left a build in."""
    product = shop.product()
    with progress_bar() as bar:
        tokens = bench.load_devices(database, product.id, 1000, bar)
    rolled_out = [
        bench.start_rollout(
            database,
            product_id=product.id,
            team=shop.team,
            settings=shop.settings,
            spool_dir=tmp_path / "spool",
        )
        for _ in range(2)
    ]
    assert Version(loadgen.REPORTED_VERSION) < Version(rolled_out[0]) < Version(rolled_out[1])
    offered = []
    for token in tokens[:500]:
        answer = api.post(CHECKIN_PATH, content=loadgen.BODY, headers=bearer(token))
        assert answer.status_code == 200
        offer = answer.json()["offer"]
        if offer is not None:
            offered.append(offer["version"])
    assert set(offered) == {rolled_out[1]}  # the first rollout was halted
    assert 25 <= len(offered) <= 75  # 10 % of 500, give or take five standard deviations


@pytest.mark.parametrize("idle", list(loadgen.Idle))
def test_the_load_generator_stops_at_its_bound_and_counts_every_answer(
    idle: loadgen.Idle,
) -> None:
    """Polling or asleep while it waits, the load generator sends exactly the requests it was
    asked for, times each answer, and then stops (a polling one stops polling too)."""
    with serving(bench.floor_app) as url:
        figures = asyncio.run(
            loadgen.run(
                url + CHECKIN_PATH,
                ["cyd_a", "cyd_b"],
                requests=500,
                duration=30,
                concurrency=4,
                idle=idle,
            )
        )
    assert figures["requests"] == 500
    assert figures["errors"] == 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]


def test_the_load_generator_polls_only_when_the_servers_keep_a_cpu_of_their_own() -> None:
    assert bench.client_idle_on(2, loadgen.Idle.SPIN) is loadgen.Idle.SPIN
    assert bench.client_idle_on(1, loadgen.Idle.SPIN) is loadgen.Idle.SLEEP
    assert bench.client_idle_on(8, loadgen.Idle.SLEEP) is loadgen.Idle.SLEEP


def test_the_load_generator_only_targets_this_machine() -> None:
    with pytest.raises(SystemExit, match="only targets this machine"):
        asyncio.run(
            loadgen.run(
                "http://example.com/api/v1/devices/checkin",
                ["cyd_a"],
                requests=1,
                duration=1,
                concurrency=1,
            )
        )
