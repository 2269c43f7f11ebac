"""Fairness: the draw's order is reproducible and its winners do not depend on when friends
arrived in the pre-queue window nor on how many requests they sent."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from scipy.stats import ks_2samp

from canyu.db import utcnow
from canyu.store import lottery
from canyu.store.fairness import Crowd, simulate
from canyu.store.ledger_redis import RedisLedger


def test_the_draw_is_reproducible_and_tamper_evident() -> None:
    seed = lottery.new_seed()
    entrants = random.Random(1).sample(range(1, 10_000), 500)
    order = lottery.draw_order(seed, entrants)
    assert sorted(order) == sorted(entrants)
    assert lottery.draw_order(seed, reversed(entrants)) == order, "input order is irrelevant"
    record = lottery.DrawRecord(1, lottery.commitment(seed), seed.hex(), sorted(entrants), order)
    assert lottery.verify(lottery.DrawRecord.from_json(record.to_json())).ok

    swapped = [order[1], order[0], *order[2:]]
    bad_order = lottery.verify(
        lottery.DrawRecord(1, record.commitment, seed.hex(), record.entrants, swapped)
    )
    assert not bad_order.ok
    assert bad_order.first_difference == 1
    other_seed = lottery.new_seed().hex()
    assert not lottery.verify(
        lottery.DrawRecord(1, record.commitment, other_seed, record.entrants, order)
    ).commitment_matches


def test_verify_draw_command_works_offline(tmp_path: Path) -> None:
    seed = lottery.new_seed()
    order = lottery.draw_order(seed, [5, 3, 9])
    published = tmp_path / "draw.json"
    published.write_text(
        lottery.DrawRecord(7, lottery.commitment(seed), seed.hex(), [3, 5, 9], order).to_json()
    )
    run = subprocess.run(
        [sys.executable, "-m", "canyu.cli", "store", "verify-draw", "--file", str(published)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["first_positions"] == order
    tampered = json.loads(published.read_text())
    tampered["order"] = list(reversed(order))
    published.write_text(json.dumps(tampered))
    run = subprocess.run(
        [sys.executable, "-m", "canyu.cli", "store", "verify-draw", "--file", str(published)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1


def test_positions_are_uniform_whatever_the_entrant_ids() -> None:
    # Over many draws the position of the smallest id is uniform on 1..n.
    entrants = list(range(1, 51))
    positions = [
        lottery.draw_order(lottery.new_seed(), entrants).index(1) + 1 for _ in range(2_000)
    ]
    uniform = random.Random(3).choices(entrants, k=2_000)
    assert ks_2samp(positions, uniform).pvalue > 0.001


@pytest.mark.parametrize("seed", [11, 12])
def test_arrival_time_and_request_volume_do_not_buy_a_unit(redis_url: str, seed: int) -> None:
    ledger = RedisLedger(redis_url, prefix="canyu:test-fairness:")
    rng = random.Random(seed)
    crowd = Crowd(entrants=2_000, units=200)
    result = simulate(ledger, crowd, sale_id=seed, rng=rng, starts_at=utcnow() + timedelta(hours=1))
    ledger.forget(seed)
    ledger.close()
    print(result)
    assert result.winners == 200
    assert result.ks_pvalue > 0.05, "winners' arrival times look like everyone's"
    assert result.heavy_pvalue > 0.05, "heavy clients win no more than their share"
    assert abs(result.heavy_share_of_wins - 0.2) < 0.08

    # The same statistic does see unfairness: first come, first served would fail it.
    times = [rng.uniform(0, 600) for _ in range(2_000)]
    first = sorted(times)[:200]
    assert ks_2samp(first, sorted(times)[200:]).pvalue < 1e-6
