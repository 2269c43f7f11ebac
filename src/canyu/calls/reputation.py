"""Trust-weighted reputation of a phone number from friends' marks. No database.

A number is labelled only when the evidence is strong. Each mark counts with the trust of the
friend who made it, and loses weight with age; then two caps take the air out of cheap attacks:

1. **Trust** of a reporter, in [min_trust, 1.5]::

       age    = clamp(account age at the time of the mark / full_trust_age_days, 0, 1)
       device = 1 if the friend has a registered device, else no_device_factor
       agree  = clamp(2 * (agreed + 1) / (agreed + disagreed + unconfirmed / 2 + 2), 0.2, 1.5)
       trust  = max(min_trust, age * device * agree)

   ``agreed`` counts the friend's marks on numbers the crowd labelled with the same category,
   ``disagreed`` their marks on numbers the team cleared, ``unconfirmed`` their marks older than
   ``unconfirmed_days`` on numbers nobody else's marks have labelled (half a disagreement each:
   honest friends also meet rare spammers). A friend without history has agree 1; one who marks
   many numbers nobody else sees as spam (random marking) sinks to 0.2.

2. **Decay**: ``weight = trust * 0.5 ** (mark age / half_life_days)``.

3. **One network**: the marks that came from one network (an IPv4 /24 or IPv6 /48, hashed) add
   at most ``network_cap`` together; each is scaled down proportionally.

4. **Bursts of new accounts**: marks by accounts younger than ``new_account_days`` (at the time of
   the mark) that fall in the same ``burst_window_hours`` add at most ``burst_cap`` together.

A number gets a label when the capped evidence reaches ``label_score`` (keeps it until it drops
below ``unlabel_score``: hysteresis, so labels do not flicker), from at least ``min_reporters``
friends on at least ``min_networks`` networks. The label's category is the category with the
most evidence (ties go to the more harmful one). The defaults are documented in docs/calls.md.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    FRAUD = "fraud"
    HARASSMENT = "harassment"
    TELEMARKETING = "telemarketing"
    DELIVERY = "delivery"  # courier / food delivery: labelled to inform, not to block
    OTHER = "other"


# Most harmful first: breaks ties between categories with equal evidence.
SEVERITY: tuple[Category, ...] = (
    Category.FRAUD,
    Category.HARASSMENT,
    Category.TELEMARKETING,
    Category.OTHER,
    Category.DELIVERY,
)
# Categories a phone intercepts; a delivery label is shown but the call rings through.
BLOCKING = frozenset({Category.FRAUD, Category.HARASSMENT, Category.TELEMARKETING, Category.OTHER})

DAY = 86_400.0


@dataclass(frozen=True)
class Thresholds:
    label_score: float = 3.0
    unlabel_score: float = 2.4
    min_reporters: int = 3
    min_networks: int = 3
    network_cap: float = 1.5
    new_account_days: float = 14.0
    burst_window_hours: float = 1.0
    burst_cap: float = 1.0
    half_life_days: float = 90.0
    full_trust_age_days: float = 30.0
    min_trust: float = 0.05
    no_device_factor: float = 0.5
    unconfirmed_days: float = 7.0


DEFAULT = Thresholds()


@dataclass(frozen=True)
class Mark:
    """One friend's current mark on a number, with what is known about the friend."""

    reporter: int
    category: Category
    at: float  # seconds since the epoch (UTC)
    account_age_days: float  # the reporter's account age when the mark was made
    has_device: bool = False
    agreed: int = 0
    disagreed: int = 0
    network: str | None = None  # None: unknown, counted as a network of its own
    unconfirmed: int = 0


@dataclass
class Assessment:
    score: float
    by_category: dict[Category, float]
    reporters: int
    networks: int
    reporters_by_category: dict[Category, int]
    label: Category | None = None
    weights: list[float] = field(default_factory=list)  # per input mark, after the caps

    @property
    def top_category(self) -> Category | None:
        return _top(self.by_category)


def reporter_trust(
    *,
    account_age_days: float,
    has_device: bool,
    agreed: int = 0,
    disagreed: int = 0,
    unconfirmed: int = 0,
    thresholds: Thresholds = DEFAULT,
) -> float:
    age = min(1.0, max(0.0, account_age_days / thresholds.full_trust_age_days))
    device = 1.0 if has_device else thresholds.no_device_factor
    agreement = (agreed + 1) / (agreed + disagreed + unconfirmed / 2 + 2)
    agree = min(1.5, max(0.2, 2.0 * agreement))
    return max(thresholds.min_trust, age * device * agree)


def decay(age_seconds: float, thresholds: Thresholds = DEFAULT) -> float:
    return float(0.5 ** (max(0.0, age_seconds) / (thresholds.half_life_days * DAY)))


def assess(
    marks: Sequence[Mark],
    *,
    now: float,
    thresholds: Thresholds = DEFAULT,
    labelled: bool = False,
) -> Assessment:
    """Score ``marks`` (one per reporter) as of ``now``; ``labelled`` is the current state, for
    the hysteresis. The result's ``label`` is the category to show, or None."""
    th = thresholds
    weights = [
        reporter_trust(
            account_age_days=m.account_age_days,
            has_device=m.has_device,
            agreed=m.agreed,
            disagreed=m.disagreed,
            unconfirmed=m.unconfirmed,
            thresholds=th,
        )
        * decay(now - m.at, th)
        for m in marks
    ]
    networks = [m.network if m.network is not None else f"\x00{m.reporter}" for m in marks]
    _cap_groups(weights, networks, th.network_cap)
    window = th.burst_window_hours * 3600.0
    bursts: list[str | None] = [
        f"{math.floor(m.at / window)}" if m.account_age_days < th.new_account_days else None
        for m in marks
    ]
    _cap_groups(weights, bursts, th.burst_cap)

    by_category: dict[Category, float] = defaultdict(float)
    reporters_by_category: dict[Category, int] = defaultdict(int)
    for mark, weight in zip(marks, weights, strict=True):
        by_category[mark.category] += weight
        reporters_by_category[mark.category] += 1
    score = sum(weights)
    assessment = Assessment(
        score=score,
        by_category=dict(by_category),
        reporters=len({m.reporter for m in marks}),
        networks=len({n for n, w in zip(networks, weights, strict=True) if w > 0}),
        reporters_by_category=dict(reporters_by_category),
        weights=weights,
    )
    assessment.label = decide(assessment, labelled=labelled, thresholds=th)
    return assessment


def decide(assessment: Assessment, *, labelled: bool, thresholds: Thresholds) -> Category | None:
    needed = thresholds.unlabel_score if labelled else thresholds.label_score
    if (
        assessment.score + 1e-9 >= needed
        and assessment.reporters >= thresholds.min_reporters
        and assessment.networks >= thresholds.min_networks
    ):
        return assessment.top_category
    return None


def _cap_groups(weights: list[float], groups: Sequence[str | None], cap: float) -> None:
    """Scale the weights of every group (None: no group) so each group adds at most ``cap``."""
    totals: dict[str, float] = defaultdict(float)
    for group, weight in zip(groups, weights, strict=True):
        if group is not None:
            totals[group] += weight
    for i, group in enumerate(groups):
        if group is not None and totals[group] > cap:
            weights[i] *= cap / totals[group]


def _top(by_category: dict[Category, float]) -> Category | None:
    if not by_category:
        return None
    rank = {c: i for i, c in enumerate(SEVERITY)}
    return max(by_category, key=lambda c: (round(by_category[c], 9), -rank[c]))


def agreement_counts(
    marks: Iterable[tuple[int, int, Category, float]],
    labels: dict[int, Category],
    cleared: Iterable[int] = (),
    *,
    now: float,
    thresholds: Thresholds = DEFAULT,
) -> dict[int, tuple[int, int, int]]:
    """(agreed, disagreed, unconfirmed) per reporter from (reporter, number, category, time)
    marks: agreed when the number is labelled with that category, disagreed when the team
    cleared it, unconfirmed when it is older than ``unconfirmed_days`` and not labelled."""
    cleared_set = set(cleared)
    cutoff = now - thresholds.unconfirmed_days * DAY
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for reporter, number, category, at in marks:
        if labels.get(number) == category:
            out[reporter][0] += 1
        elif number in cleared_set:
            out[reporter][1] += 1
        elif number not in labels and at < cutoff:
            out[reporter][2] += 1
    return {r: (a, d, u) for r, (a, d, u) in out.items()}
