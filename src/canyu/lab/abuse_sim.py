"""Anti-abuse simulation of the reputation model. No database; seeded, so runs are repeatable.

Two scenarios from the issue:

* **one network**: ``sybils`` brand-new accounts without devices, all on one network, mark one
  legitimate business number within an hour. It must not be labelled.
* **crowd**: honest friends mark spam numbers as spam campaigns reach them (a few friends for
  most numbers, hundreds for some), and now and then mark a legitimate number by mistake; a
  share of all reporters (10% by default) is malicious and marks random legitimate numbers. We
  count the legitimate numbers that end up labelled (goal: at most 0.1%) and, among the spam
  numbers that many honest friends marked, those that are labelled (goal: at least 95%).

Assumptions (stated in docs/calls.md): honest friends' accounts are mostly months or years old
and most have a registered device; they are spread over many networks, with big carriers' networks
shared by many. Malicious accounts are half fresh (days old) and half aged sleepers (up to a
year), a third with devices; half of them sit on a few attacker networks, half on residential
proxies drawn from the same networks as everyone. Marks are scored as of the end of the period,
after one pass of "agreement with the crowd" (as the server's periodic recompute does).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from canyu.calls.reputation import (
    DAY,
    DEFAULT,
    Category,
    Mark,
    Thresholds,
    agreement_counts,
    assess,
)

SPAM_CATEGORIES = (Category.FRAUD, Category.HARASSMENT, Category.TELEMARKETING, Category.OTHER)


@dataclass(frozen=True)
class CrowdConfig:
    seed: int = 7
    honest: int = 20_000
    malicious_share: float = 0.10  # of all reporters
    legit_numbers: int = 200_000
    spam_numbers: int = 5_000
    days: float = 30.0
    networks: int = 3_000
    attacker_networks: int = 20
    marks_per_malicious: int = 30
    honest_error_rate: float = 0.05  # chance an honest friend mis-marks one legit number
    many: int = 10  # "many honest friends": at least this many distinct honest reporters
    reach_mu: float = 1.2  # log-normal reach of a spam number (median e**mu friends)
    reach_sigma: float = 1.1


SMALL = CrowdConfig(honest=3_000, legit_numbers=30_000, spam_numbers=800)


@dataclass(frozen=True)
class CrowdResult:
    config: CrowdConfig
    reporters: int
    malicious: int
    marks: int
    malicious_marks: int
    legit_marked: int  # legitimate numbers with at least one mark
    legit_labelled: int
    spam_many: int  # spam numbers marked by >= many honest friends
    spam_many_labelled: int
    spam_marked: int
    spam_labelled: int
    recall_by_reach: dict[str, tuple[int, int]]  # reach bucket -> (labelled, total)

    @property
    def legit_labelled_share(self) -> float:
        return self.legit_labelled / max(1, self.config.legit_numbers)

    @property
    def legit_marked_labelled_share(self) -> float:
        return self.legit_labelled / max(1, self.legit_marked)

    @property
    def many_recall(self) -> float:
        return self.spam_many_labelled / max(1, self.spam_many)

    def as_dict(self) -> dict[str, object]:
        return {
            "reporters": self.reporters,
            "malicious": self.malicious,
            "marks": self.marks,
            "malicious_marks": self.malicious_marks,
            "legit_numbers": self.config.legit_numbers,
            "legit_marked": self.legit_marked,
            "legit_labelled": self.legit_labelled,
            "legit_labelled_share": self.legit_labelled_share,
            "legit_marked_labelled_share": self.legit_marked_labelled_share,
            "spam_numbers": self.config.spam_numbers,
            "spam_many": self.spam_many,
            "spam_many_labelled": self.spam_many_labelled,
            "many_recall": self.many_recall,
            "spam_marked": self.spam_marked,
            "spam_labelled": self.spam_labelled,
            "recall_by_reach": {k: list(v) for k, v in self.recall_by_reach.items()},
        }


@dataclass(frozen=True)
class _Reporter:
    created: float  # seconds relative to the start of the period (negative: before it)
    has_device: bool
    network: str
    malicious: bool


def one_network(
    sybils: int = 50, *, thresholds: Thresholds = DEFAULT, seed: int = 1
) -> tuple[bool, float]:
    """``sybils`` fresh accounts on one network mark one business number within an hour.
    Returns (labelled, score)."""
    rng = random.Random(seed)
    start = 100 * DAY
    marks = [
        Mark(
            reporter=i,
            category=rng.choice(SPAM_CATEGORIES),
            at=start + rng.uniform(0, 3600),
            account_age_days=rng.uniform(0, 2),
            has_device=False,
            network="net-sybil",
        )
        for i in range(sybils)
    ]
    result = assess(marks, now=start + 3600, thresholds=thresholds)
    return result.label is not None, result.score


def _zipf_picker(rng: random.Random, n: int, exponent: float = 1.0) -> Callable[[], int]:
    weights = [1.0 / (i + 1) ** exponent for i in range(n)]
    cumulative: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)

    def pick() -> int:
        import bisect

        return bisect.bisect_left(cumulative, rng.random() * total)

    return pick


def crowd(config: CrowdConfig = CrowdConfig(), *, thresholds: Thresholds = DEFAULT) -> CrowdResult:
    rng = random.Random(config.seed)
    period = config.days * DAY
    network = _zipf_picker(rng, config.networks, 0.8)
    reporters: list[_Reporter] = []
    for _ in range(config.honest):
        established = rng.random() < 0.8
        age = rng.uniform(60, 1500) if established else rng.uniform(0, 60)
        reporters.append(
            _Reporter(
                created=-age * DAY,
                has_device=rng.random() < (0.85 if established else 0.5),
                network=f"n{network()}",
                malicious=False,
            )
        )
    n_malicious = round(config.honest * config.malicious_share / (1 - config.malicious_share))
    for _ in range(n_malicious):
        sleeper = rng.random() < 0.5
        age = rng.uniform(30, 365) if sleeper else rng.uniform(0, 14)
        proxy = rng.random() < 0.5
        reporters.append(
            _Reporter(
                created=rng.uniform(0, period) - age * DAY if not sleeper else -age * DAY,
                has_device=rng.random() < 1 / 3,
                network=f"n{network()}" if proxy else f"a{rng.randrange(config.attacker_networks)}",
                malicious=True,
            )
        )

    # number ids: 0 .. legit-1 legitimate, legit .. legit+spam-1 spam
    marks: dict[int, dict[int, tuple[Category, float]]] = defaultdict(dict)
    honest_reach: dict[int, int] = {}
    honest_ids = range(config.honest)
    for s in range(config.spam_numbers):
        number = config.legit_numbers + s
        reach = min(
            config.honest, max(1, round(rng.lognormvariate(config.reach_mu, config.reach_sigma)))
        )
        category = rng.choice(SPAM_CATEGORIES)
        start = rng.uniform(0, period - 3 * DAY)
        active = rng.uniform(0.5, 5) * DAY
        for reporter in rng.sample(honest_ids, reach):
            # Most friends agree on the kind; some pick another.
            chosen = category if rng.random() < 0.85 else rng.choice(SPAM_CATEGORIES)
            at = max(start + rng.uniform(0, active), reporters[reporter].created + 60)
            marks[number][reporter] = (chosen, min(at, period))
        honest_reach[number] = reach
    for reporter in honest_ids:
        if rng.random() < config.honest_error_rate:
            at = max(rng.uniform(0, period), reporters[reporter].created + 60)
            marks[rng.randrange(config.legit_numbers)][reporter] = (
                rng.choice(SPAM_CATEGORIES),
                at,
            )
    malicious_marks = 0
    for reporter in range(config.honest, len(reporters)):
        created = reporters[reporter].created
        begin = max(0.0, created + 60)
        campaign = rng.uniform(begin, period)
        for _ in range(config.marks_per_malicious):
            at = min(period, campaign + rng.uniform(0, 6 * 3600))
            marks[rng.randrange(config.legit_numbers)][reporter] = (
                rng.choice(SPAM_CATEGORIES),
                at,
            )
            malicious_marks += 1

    def evidence(history: dict[int, tuple[int, int, int]]) -> dict[int, Category | None]:
        labels: dict[int, Category | None] = {}
        for number, by_reporter in marks.items():
            items = [
                Mark(
                    reporter=r,
                    category=cat,
                    at=at,
                    account_age_days=(at - reporters[r].created) / DAY,
                    has_device=reporters[r].has_device,
                    agreed=history.get(r, (0, 0, 0))[0],
                    disagreed=history.get(r, (0, 0, 0))[1],
                    unconfirmed=history.get(r, (0, 0, 0))[2],
                    network=reporters[r].network,
                )
                for r, (cat, at) in by_reporter.items()
            ]
            labels[number] = assess(items, now=period, thresholds=thresholds).label
        return labels

    first = evidence({})
    history = agreement_counts(
        ((r, n, cat, at) for n, by_r in marks.items() for r, (cat, at) in by_r.items()),
        {n: c for n, c in first.items() if c is not None},
        now=period,
        thresholds=thresholds,
    )
    labels = evidence(history)

    legit_marked = sum(1 for n in marks if n < config.legit_numbers)
    legit_labelled = sum(1 for n, c in labels.items() if n < config.legit_numbers and c)
    buckets = {"1-2": (1, 2), "3-4": (3, 4), "5-9": (5, 9), "10-29": (10, 29), "30+": (30, 10**9)}
    recall_by_reach: dict[str, tuple[int, int]] = {}
    for name, (low, high) in buckets.items():
        numbers = [n for n, reach in honest_reach.items() if low <= reach <= high]
        recall_by_reach[name] = (sum(1 for n in numbers if labels.get(n)), len(numbers))
    many = [n for n, reach in honest_reach.items() if reach >= config.many]
    return CrowdResult(
        config=config,
        reporters=len(reporters),
        malicious=n_malicious,
        marks=sum(len(v) for v in marks.values()),
        malicious_marks=malicious_marks,
        legit_marked=legit_marked,
        legit_labelled=legit_labelled,
        spam_many=len(many),
        spam_many_labelled=sum(1 for n in many if labels.get(n)),
        spam_marked=len(honest_reach),
        spam_labelled=sum(1 for n in honest_reach if labels.get(n)),
        recall_by_reach=recall_by_reach,
    )
