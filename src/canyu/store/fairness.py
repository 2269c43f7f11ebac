"""Fairness of a flash sale, simulated against the real Redis ledger (its Lua scripts).

A crowd arrives in the pre-queue window at uniformly random times; a fifth of it are "heavy"
clients that send ten times more join and purchase requests. After the draw everyone tries to
buy at random moments of the first minute. Two questions, each with a test statistic:

- does the moment of arrival inside the window change the chance to win? Two-sample
  Kolmogorov-Smirnov test of the arrival times of winners against those of the others
  (``scipy.stats.ks_2samp``): a fair queue gives p > 0.05 most of the time;
- do heavy clients win more than their share? One-sided binomial test of the heavy clients'
  wins against their share of the crowd (``scipy.stats.binomtest``).

No database: the simulation drives ``RedisLedger`` with virtual times it chooses.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from scipy.stats import binomtest, ks_2samp

from canyu.store import lottery
from canyu.store.ledger import PurchaseRequest, SaleTerms
from canyu.store.ledger_redis import RedisLedger

BATCH = 5_000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Crowd:
    entrants: int
    units: int
    heavy_fraction: float = 0.2
    heavy_factor: int = 10
    window: timedelta = timedelta(minutes=10)
    buying_span: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class FairnessResult:
    entrants: int
    units: int
    winners: int
    requests: int
    ks_statistic: float
    ks_pvalue: float
    heavy_share_of_crowd: float
    heavy_share_of_wins: float
    heavy_pvalue: float  # P(heavy clients win this much or more | they have no edge)

    @property
    def fair(self) -> bool:
        return self.ks_pvalue > 0.05 and self.heavy_pvalue > 0.05


def simulate(
    ledger: RedisLedger,
    crowd: Crowd,
    *,
    sale_id: int,
    rng: random.Random,
    starts_at: datetime,
    progress: Progress | None = None,
) -> FairnessResult:
    terms = SaleTerms(
        sale_id=sale_id,
        queue_opens_at=starts_at - crowd.window,
        starts_at=starts_at,
        public_stock=crowd.units,
        fcode_stock=0,
        buyer_limit=1,
        hold_seconds=15 * 60,
        unit_price=Decimal("1"),
        currency="CNY",
    )
    ledger.forget(sale_id)
    ledger.load_terms(terms)
    buyers = list(range(1, crowd.entrants + 1))
    heavy = set(rng.sample(buyers, round(crowd.entrants * crowd.heavy_fraction)))
    window = crowd.window.total_seconds()

    def times(buyer: int, start: datetime, span: float) -> list[datetime]:
        count = crowd.heavy_factor if buyer in heavy else 1
        return [start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count)]

    joins = sorted(
        ((at, b) for b in buyers for at in times(b, terms.queue_opens_at, window * 0.999)),
    )
    arrival: dict[int, datetime] = {}
    for at, buyer in joins:
        arrival.setdefault(buyer, at)
    report = progress or (lambda _stage, _done, _total: None)
    for start in range(0, len(joins), BATCH):
        ledger.join_many(terms, [(b, at) for at, b in joins[start : start + BATCH]])
        report("joins", min(start + BATCH, len(joins)), len(joins))
    ledger.place_entrants(sale_id, rng.randbytes(lottery.SEED_BYTES))
    ledger.admit(sale_id)

    attempts = sorted(
        (at, b) for b in buyers for at in times(b, starts_at, crowd.buying_span.total_seconds())
    )
    winners: set[int] = set()
    for start in range(0, len(attempts), BATCH):
        chunk = attempts[start : start + BATCH]
        requests = [
            (
                PurchaseRequest(
                    sale_id=sale_id,
                    buyer_id=b,
                    quantity=1,
                    idempotency_key=uuid.uuid4().hex,
                    request_hash="fairness",
                ),
                at,
            )
            for at, b in chunk
        ]
        for (_at, buyer), code in zip(chunk, ledger.reserve_many(terms, requests), strict=True):
            if code == "ok":
                winners.add(buyer)
        report("purchase attempts", min(start + BATCH, len(attempts)), len(attempts))

    def seconds(buyer: int) -> float:
        return (arrival[buyer] - terms.queue_opens_at).total_seconds()

    won = [seconds(b) for b in buyers if b in winners]
    lost = [seconds(b) for b in buyers if b not in winners]
    ks = ks_2samp(won, lost)
    heavy_wins = len(winners & heavy)
    heavy_share = len(heavy) / len(buyers)
    heavy_test = binomtest(heavy_wins, len(winners), heavy_share, alternative="greater")
    return FairnessResult(
        entrants=len(buyers),
        units=crowd.units,
        winners=len(winners),
        requests=len(joins) + len(attempts),
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
        heavy_share_of_crowd=heavy_share,
        heavy_share_of_wins=heavy_wins / len(winners) if winners else 0.0,
        heavy_pvalue=float(heavy_test.pvalue),
    )
