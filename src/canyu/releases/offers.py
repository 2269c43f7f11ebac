"""What a checking-in device is offered, decided from an in-memory copy of the live rollouts.

A check-in must stay cheap at millions of devices, so it never scans devices or builds: the
server keeps the few rollouts that can offer anything (active, paused, rolled back, and the
newest completed one per product and channel) in memory, reloaded with one query when its copy
is older than a short TTL or when this process changed a rollout. The decision per device is a
hash (canyu.releases.cohort) and a few comparisons.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from canyu.devices.identity import SEEN_EVERY
from canyu.releases import cohort
from canyu.releases.models import Build, Rollout, RolloutStatus

OFFERABLE = (
    RolloutStatus.ACTIVE.value,
    RolloutStatus.PAUSED.value,
    RolloutStatus.ROLLED_BACK.value,
    RolloutStatus.COMPLETED.value,
)


@dataclass(frozen=True)
class Target:
    """A TUF target a device may install: the build it belongs to and how to check it."""

    build_id: int
    version: str
    name: str
    length: int
    sha256: str


@dataclass(frozen=True)
class Rule:
    rollout_id: int
    product_id: int
    status: str
    build_id: int
    channel: str
    version: str
    parsed: Version
    channels: frozenset[str]
    countries: frozenset[str]  # empty: every country
    models: frozenset[str]  # empty: every model
    percent: float
    target: Target | None
    previous: Target | None
    # When the rollout started: a device's reports count once it checked in after this.
    started_at: datetime | None = None

    @cached_property
    def cohort_key(self) -> str:
        """The build's key in canyu.releases.cohort: built once per rule, not per check-in."""
        return f"{self.channel}/{self.version}"

    def covers(self, *, channel: str, country: str, model: str) -> bool:
        return (
            channel in self.channels
            and (not self.countries or country in self.countries)
            and (not self.models or model in self.models)
        )

    def offered_to(
        self,
        *,
        channel: str,
        country: str,
        model: str,
        device_key: str,
        last_seen: datetime,
    ) -> bool:
        """Whether this rollout offered its build to the device, so that the device's reports
        about it count for the rollout's gates: the device is in its scope and in its cohort
        at the current percent (cohorts only grow), and it checked in since the rollout
        started. A check-in is written down at most every SEEN_EVERY (canyu.devices.identity),
        so "since" holds to within that; a registration is not a check-in."""
        if not self.covers(channel=channel, country=country, model=model):
            return False
        if not cohort.in_cohort(device_key, self.cohort_key, self.percent):
            return False
        return self.started_at is None or last_seen >= self.started_at - SEEN_EVERY


@dataclass(frozen=True)
class Offer:
    target: Target
    rollout_id: int
    rollback: bool = False


@lru_cache(maxsize=4096)
def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


# What a kind of device (channel, country, model, build it runs) may be offered, whatever its
# place in the cohorts: a roll back, or the candidate rules and their targets, newest build first.
_Plan = Offer | tuple[tuple[Rule, Target], ...]


def _plan(
    rules: Iterable[Rule], channel: str, country: str, model: str, current: str | None
) -> _Plan:
    running = _parse(current) if current else None
    candidates: list[tuple[Rule, Target]] = []
    for rule in rules:
        if not rule.covers(channel=channel, country=country, model=model):
            continue
        if rule.status == RolloutStatus.ROLLED_BACK:
            if running is not None and running == rule.parsed and rule.previous is not None:
                return Offer(rule.previous, rule.rollout_id, rollback=True)
            continue
        if rule.status == RolloutStatus.PAUSED or rule.target is None:
            continue
        if running is None or rule.parsed > running:
            candidates.append((rule, rule.target))
    # Stable: of two rules for the same build, the older rollout comes first.
    return tuple(sorted(candidates, key=lambda candidate: candidate[0].parsed, reverse=True))


class ProductRules:
    """One product's rules, and each kind of device's plan (see choose), worked out at its first
    check-in: a fleet has far fewer kinds of device than check-ins."""

    MAX_PLANS = 4096  # past this many kinds, the plans start over: memory stays bounded

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules = tuple(rules)
        self._plans: dict[tuple[str, str, str, str | None], _Plan] = {}

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def plan(self, channel: str, country: str, model: str, current: str | None) -> _Plan:
        key = (channel, country, model, current)
        found = self._plans.get(key)
        if found is None:
            if len(self._plans) >= self.MAX_PLANS:
                self._plans.clear()
            found = self._plans[key] = _plan(self.rules, channel, country, model, current)
        return found


def choose(
    rules: ProductRules,
    *,
    channel: str,
    country: str,
    model: str,
    device_key: str,
    current_version: str | None,
) -> Offer | None:
    """The offer for one device: a roll back of the build it runs first, else the newest build
    whose rollout has it in its cohort and that is newer than what it runs."""
    plan = rules.plan(channel, country, model, current_version)
    if isinstance(plan, Offer):
        return plan
    for rule, target in plan:
        if rule.status != RolloutStatus.ACTIVE or cohort.in_cohort(
            device_key, rule.cohort_key, rule.percent
        ):
            return Offer(target, rule.rollout_id)
    return None


def _target(build: Build | None) -> Target | None:
    if build is None or not build.payloads:
        return None
    payload = build.payloads[0]
    return Target(build.id, build.version, payload.target_name, payload.length, payload.sha256)


def load_rules(session: Session) -> dict[int, ProductRules]:
    """Every rule that can offer anything, by product id: one query (and its eager loads)."""
    rollouts = session.scalars(
        select(Rollout)
        .where(Rollout.status.in_(OFFERABLE))
        .options(
            selectinload(Rollout.previous_build).selectinload(Build.payloads),
        )
        .order_by(Rollout.id)
    ).all()
    newest_completed: dict[tuple[int, str], Rollout] = {}
    kept: list[Rollout] = []
    for rollout in rollouts:
        if rollout.status == RolloutStatus.COMPLETED:
            key = (rollout.build.product_id, rollout.build.channel)
            best = newest_completed.get(key)
            if best is None or Version(rollout.build.version) > Version(best.build.version):
                newest_completed[key] = rollout
        else:
            kept.append(rollout)
    kept.extend(newest_completed.values())
    by_product: dict[int, list[Rule]] = {}
    for rollout in kept:
        build = rollout.build
        by_product.setdefault(build.product_id, []).append(
            Rule(
                rollout_id=rollout.id,
                product_id=build.product_id,
                status=rollout.status,
                build_id=build.id,
                channel=build.channel,
                version=build.version,
                parsed=Version(build.version),
                channels=frozenset(rollout.channels),
                countries=frozenset(rollout.countries),
                models=frozenset(rollout.device_models),
                percent=rollout.percent,
                target=_target(build),
                previous=_target(rollout.previous_build),
                started_at=rollout.created_at,
            )
        )
    return {product: ProductRules(rules) for product, rules in by_product.items()}


class OfferBook:
    """The in-memory rules, per server process: reloaded after ``ttl`` seconds, or at once after
    :meth:`invalidate` (called when this process changes a rollout)."""

    def __init__(self, ttl: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._rules: dict[int, ProductRules] = {}
        self._loaded_at = float("-inf")
        # Bumped by every invalidation: a reload that an invalidation overtook may have read
        # the rollouts before that change committed, so it must not count as fresh.
        self._generation = 0
        self._lock = threading.Lock()
        self.loads = 0

    def invalidate(self) -> None:
        self._generation += 1
        self._loaded_at = float("-inf")

    def rules(self, session: Session, product_id: int) -> ProductRules:
        return self.rules_for(lambda: _Borrowed(session), product_id)

    def rules_for(
        self, sessions: Callable[[], AbstractContextManager[Session]], product_id: int
    ) -> ProductRules:
        """The rules for one product; ``sessions`` opens a session only when they are reloaded."""
        if self._clock() - self._loaded_at > self.ttl:
            with self._lock:
                if self._clock() - self._loaded_at > self.ttl:
                    started, generation = self._clock(), self._generation
                    with sessions() as session:
                        self._rules = load_rules(session)
                    if generation == self._generation:
                        self._loaded_at = started
                    self.loads += 1
        return self._rules.get(product_id, _NO_RULES)


_NO_RULES = ProductRules()


class _Borrowed(AbstractContextManager[Session]):
    """A caller's session, lent without closing it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *_exc: object) -> None:
        return None
