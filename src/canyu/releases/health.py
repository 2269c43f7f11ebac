"""Health gates for a staged rollout: when to advance, when to hold, when to pause by itself.

Pure: counts in, a decision out. Three signals can pause a rollout, each judged with a one-sided
test so a handful of unlucky devices never stop a good build and a clearly bad one stops early:

- install failures: failures among install attempts, an exact binomial test against the allowed
  failure rate (``scipy.stats.binomtest``);
- crashes: crash reports per successful install, a Poisson test against the allowed crash rate;
- feedback: posts about this build per successful install, compared with the previous build's
  rate by the conditional binomial test for two Poisson rates (Przyborowski & Wilenski, 1940):
  given ``k1 + k0`` posts in all, under equal rates ``k1 ~ Binomial(k1 + k0, e1 / (e1 + e0))``,
  where ``e1`` and ``e0`` are the two builds' exposures (successful installs).

A stage advances when enough installs succeeded since it began and no rate is above its
threshold; the last stage "advances" into completion.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from scipy import stats


class Action(StrEnum):
    HOLD = "hold"
    ADVANCE = "advance"
    COMPLETE = "complete"
    PAUSE = "pause"


@dataclass(frozen=True)
class Thresholds:
    # Successful installs a stage needs before it may advance (capped by the stage's cohort).
    min_successes: int = 50
    # Part of a stage's new cohort that must have installed when the cohort is small.
    min_coverage: float = 0.5
    max_failure_rate: float = 0.05
    max_crash_rate: float = 0.10
    # Attempts (or installs) needed before a rate is judged at all.
    min_sample: int = 20
    # One-sided significance level for pausing; small, since gates are looked at repeatedly.
    alpha: float = 0.001
    # The feedback rate must also be at least this many times the previous build's.
    feedback_min_ratio: float = 2.0
    # Soak time: a stage lasts at least this long before advancing.
    min_stage_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class Counts:
    """What devices reported for this build in this rollout, cumulative."""

    successes: int
    failures: int
    crashes: int
    feedback: int


@dataclass(frozen=True)
class Baseline:
    """The previous build: its successful installs (exposure) and the feedback posts about it."""

    version: str
    installs: int
    feedback: int


@dataclass(frozen=True)
class StageState:
    index: int
    stages: tuple[float, ...]
    stage_successes: int  # successes since this stage began
    stage_new_devices: int  # devices that joined the cohort at this stage (in scope)
    stage_age_seconds: float

    @property
    def is_last(self) -> bool:
        return self.index >= len(self.stages) - 1


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    signals: dict[str, Any] = field(default_factory=dict)


def failure_test(failures: int, attempts: int, limit: float) -> float:
    """P(at least ``failures`` failures in ``attempts`` | failure rate = ``limit``)."""
    if attempts <= 0 or failures <= 0:
        return 1.0
    return float(stats.binomtest(failures, attempts, limit, alternative="greater").pvalue)


def crash_test(crashes: int, installs: int, limit: float) -> float:
    """P(at least ``crashes`` crashes | Poisson with ``limit`` crashes per install)."""
    if installs <= 0 or crashes <= 0:
        return 1.0
    return float(stats.poisson.sf(crashes - 1, limit * installs))


def feedback_test(k1: int, e1: int, k0: int, e0: int) -> float:
    """One-sided p-value that this build's feedback rate ``k1/e1`` exceeds the previous ``k0/e0``.

    The conditional (exact) test for two Poisson rates: given n = k1 + k0 events, under equal
    rates k1 is Binomial(n, e1 / (e1 + e0)).
    """
    if e1 <= 0 or e0 <= 0 or k1 <= 0:
        return 1.0
    n = k1 + k0
    return float(stats.binomtest(k1, n, e1 / (e1 + e0), alternative="greater").pvalue)


def required_successes(state: StageState, thresholds: Thresholds) -> int:
    """Enough installs for this stage: the minimum, or most of a small stage's cohort."""
    by_cohort = math.ceil(thresholds.min_coverage * max(state.stage_new_devices, 0))
    return max(1, min(thresholds.min_successes, by_cohort))


def _pct(numerator: int, denominator: int) -> str:
    return f"{100 * numerator / denominator:.1f}%" if denominator else "n/a"


def decide(
    counts: Counts, state: StageState, thresholds: Thresholds, baseline: Baseline | None
) -> Decision:
    """What the rollout should do now. Pausing signals are checked before advancing."""
    attempts = counts.successes + counts.failures
    signals: dict[str, Any] = {
        "successes": counts.successes,
        "failures": counts.failures,
        "crashes": counts.crashes,
        "feedback": counts.feedback,
    }
    failure_rate = counts.failures / attempts if attempts else 0.0
    crash_rate = counts.crashes / counts.successes if counts.successes else 0.0
    signals["failure_rate"] = failure_rate
    signals["crash_rate"] = crash_rate

    if attempts >= thresholds.min_sample and failure_rate > thresholds.max_failure_rate:
        p = failure_test(counts.failures, attempts, thresholds.max_failure_rate)
        signals["failure_p"] = p
        if p < thresholds.alpha:
            signals["gate"] = "failures"
            return Decision(
                Action.PAUSE,
                f"install failures {counts.failures}/{attempts} ({_pct(counts.failures, attempts)})"
                f" above the {thresholds.max_failure_rate:.1%} allowed (binomial p={p:.2g})",
                signals,
            )
    if counts.successes >= thresholds.min_sample and crash_rate > thresholds.max_crash_rate:
        p = crash_test(counts.crashes, counts.successes, thresholds.max_crash_rate)
        signals["crash_p"] = p
        if p < thresholds.alpha:
            signals["gate"] = "crashes"
            return Decision(
                Action.PAUSE,
                f"crashes {counts.crashes} on {counts.successes} installs "
                f"({crash_rate:.3f} per install) above the {thresholds.max_crash_rate:.3f} allowed"
                f" (Poisson p={p:.2g})",
                signals,
            )
    if baseline is not None and baseline.installs > 0 and counts.successes > 0:
        rate = counts.feedback / counts.successes
        previous = baseline.feedback / baseline.installs
        signals["feedback_rate"] = rate
        signals["previous_feedback_rate"] = previous
        p = feedback_test(counts.feedback, counts.successes, baseline.feedback, baseline.installs)
        signals["feedback_p"] = p
        clearly_higher = rate > thresholds.feedback_min_ratio * previous
        if p < thresholds.alpha and clearly_higher:
            signals["gate"] = "feedback"
            return Decision(
                Action.PAUSE,
                f"feedback spike: {counts.feedback} posts on {counts.successes} installs "
                f"({rate:.2%}) against {baseline.feedback} on {baseline.installs} "
                f"({previous:.2%}) for {baseline.version} (conditional binomial p={p:.2g})",
                signals,
            )

    need = required_successes(state, thresholds)
    signals["stage_successes"] = state.stage_successes
    signals["stage_needs"] = need
    if state.stage_successes < need:
        return Decision(
            Action.HOLD, f"waiting for installs ({state.stage_successes}/{need})", signals
        )
    if failure_rate > thresholds.max_failure_rate:
        return Decision(Action.HOLD, "failure rate above threshold, not yet significant", signals)
    if crash_rate > thresholds.max_crash_rate:
        return Decision(Action.HOLD, "crash rate above threshold, not yet significant", signals)
    if state.stage_age_seconds < thresholds.min_stage_seconds:
        return Decision(Action.HOLD, "soaking", signals)
    if state.is_last:
        return Decision(Action.COMPLETE, "healthy at the last stage", signals)
    nxt = state.stages[state.index + 1]
    return Decision(Action.ADVANCE, f"healthy: advancing to {nxt:g}%", signals)


def check_stages(stages: list[float]) -> tuple[float, ...]:
    """Stage percentages strictly grow, each in (0, 100]; returns them as a tuple."""
    from canyu.errors import InvalidInput

    if not stages:
        raise InvalidInput("A rollout needs at least one stage.", details={"field": "stages"})
    if len(stages) > 20:
        raise InvalidInput("A rollout has at most 20 stages.", details={"field": "stages"})
    previous = 0.0
    for value in stages:
        if not isinstance(value, int | float) or math.isnan(value) or not 0 < value <= 100:
            raise InvalidInput(
                f"Stage percentages lie in (0, 100]; got {value!r}.", details={"field": "stages"}
            )
        if value <= previous:
            raise InvalidInput(
                f"Stage percentages must grow: {value:g}% after {previous:g}%.",
                details={"field": "stages"},
            )
        previous = float(value)
    return tuple(float(v) for v in stages)


# A crowd of devices registered since a rollout started is shown to the team (an event on the
# rollout): at least this many, and at least this share of the devices there were before.
SURGE_MIN_DEVICES = 50
SURGE_SHARE = 0.10


def device_surge(*, before: int, since: int) -> str | None:
    """Why the devices registered since the rollout started look like a crowd, or None. New
    devices' reports do not move the gates unless the rollout offered them the build, but a
    crowd of them is what a forged-report attack, or a bot farm, looks like first."""
    if since < max(SURGE_MIN_DEVICES, SURGE_SHARE * before):
        return None
    return f"{since} devices registered since the rollout started, against {before} before"
