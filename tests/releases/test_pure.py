"""The DB-free parts: version ordering, the cohort hash, the gates and their tests, changelogs,
the train's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from packaging.version import Version

from canyu.errors import Conflict, InvalidInput
from canyu.releases import changelog, cohort, health, versions
from canyu.releases.models import RolloutStatus
from canyu.releases.offers import ProductRules, Rule, Target, choose
from canyu.releases.train import TrainSchedule, holiday_name, upcoming

# --- versions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "v", "1.2.x", "4..1", "1.0 beta", "x" * 65, "1.0+local"])
def test_malformed_versions_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        versions.parse_version(raw)


def test_versions_order_numerically_and_strictly() -> None:
    assert versions.normalise("4.11.022") == "4.11.22"
    assert Version("4.11.10") > Version("4.11.9")  # not string order
    versions.check_follows(Version("4.11.10"), Version("4.11.9"))
    versions.check_follows(Version("5.0.0"), Version("5.0.0rc2"))
    for new, latest in [("4.11.9", "4.11.10"), ("4.11.10", "4.11.10"), ("5.0.0rc1", "5.0.0")]:
        with pytest.raises(Conflict):
            versions.check_follows(Version(new), Version(latest))
    versions.check_follows(Version("0.1"), None)
    assert versions.next_version(Version("4.11.18")) == Version("4.11.19")
    assert versions.next_version(None) == Version("1.0.0")
    assert versions.is_newer("2.0", "1.9")
    assert not versions.is_newer("1.9", "2.0")
    assert versions.is_newer("2.0", None)
    assert versions.is_newer("2.0", "garbage")


# --- cohort ------------------------------------------------------------------------------------


def test_cohort_positions_are_stable_uniform_and_nested() -> None:
    keys = [f"device-{i}" for i in range(20_000)]
    first = [cohort.position(k, "stable/2.0") for k in keys]
    assert first == [cohort.position(k, "stable/2.0") for k in keys]  # stable
    assert all(0 <= p < 1 for p in first)
    for pct in (1, 5, 20, 50):
        share = sum(p < pct / 100 for p in first) / len(keys)
        assert abs(share - pct / 100) < 0.01  # uniform
    in5 = {k for k in keys if cohort.in_cohort(k, "stable/2.0", 5)}
    in20 = {k for k in keys if cohort.in_cohort(k, "stable/2.0", 20)}
    assert in5 < in20  # once in, stays in
    other = {k for k in keys if cohort.in_cohort(k, "stable/2.1", 5)}
    assert len(in5 & other) < 0.2 * len(in5)  # another build picks other devices first
    assert not cohort.in_cohort("d", "b", 0)
    assert cohort.in_cohort("d", "b", 100)


# --- offers ------------------------------------------------------------------------------------


def rule(
    rollout_id: int,
    version: str,
    status: RolloutStatus = RolloutStatus.ACTIVE,
    *,
    percent: float = 100,
    countries: frozenset[str] = frozenset(),
    previous: str | None = None,
) -> Rule:
    def target(v: str) -> Target:
        return Target(int(v.replace(".", "")), v, f"update-{v}.zip", 10, "0" * 64)

    return Rule(
        rollout_id=rollout_id,
        product_id=1,
        status=status.value,
        build_id=int(version.replace(".", "")),
        channel="stable",
        version=version,
        parsed=Version(version),
        channels=frozenset({"stable"}),
        countries=countries,
        models=frozenset(),
        percent=percent,
        target=target(version),
        previous=target(previous) if previous else None,
    )


def offered(
    rules: ProductRules, *, key: str = "d", current: str | None = "1.0", country: str = "CN"
) -> str | None:
    offer = choose(
        rules, channel="stable", country=country, model="m", device_key=key, current_version=current
    )
    return (
        None if offer is None else offer.target.version + (" (rollback)" if offer.rollback else "")
    )


def test_a_device_is_offered_the_newest_build_whose_cohort_has_it() -> None:
    rules = ProductRules(
        [
            rule(1, "1.1", RolloutStatus.COMPLETED),
            rule(2, "1.3", percent=50),
            rule(3, "1.2"),
            rule(4, "1.4", RolloutStatus.PAUSED),
            rule(5, "1.5", countries=frozenset({"IN"})),
        ]
    )
    keys = [f"device-{i}" for i in range(200)]
    in_13 = {k for k in keys if cohort.in_cohort(k, "stable/1.3", 50)}
    assert 60 < len(in_13) < 140
    for key in keys:  # the same kind of device, so the same plan: only the cohort differs
        assert offered(rules, key=key) == ("1.3" if key in in_13 else "1.2")
    assert offered(rules, country="IN") == "1.5"  # another kind of device, its own plan
    assert offered(rules, current="1.5") is None  # nothing newer
    d_in_13 = cohort.in_cohort("d", "stable/1.3", 50)
    assert offered(rules, current="1.2") == ("1.3" if d_in_13 else None)
    assert offered(rules, current="garbage") == ("1.3" if d_in_13 else "1.2")  # any is newer
    assert offered(ProductRules(), current="1.0") is None


def test_a_rolled_back_build_offers_the_previous_one_before_anything_else() -> None:
    rules = ProductRules(
        [rule(1, "2.0"), rule(2, "1.5", RolloutStatus.ROLLED_BACK, previous="1.4")]
    )
    assert offered(rules, current="1.5") == "1.4 (rollback)"
    assert offered(rules, current="1.4") == "2.0"  # rolled back already: the newest as usual
    assert offered(rules, current="1.0") == "2.0"


def test_plans_stay_bounded_and_correct_past_their_limit() -> None:
    rules = ProductRules([rule(1, "2.0")])
    for i in range(ProductRules.MAX_PLANS + 10):
        assert offered(rules, current=f"1.{i}") == "2.0"
    assert len(rules._plans) <= ProductRules.MAX_PLANS
    assert offered(rules, current="2.0") is None


# --- health gates ------------------------------------------------------------------------------

GATES = health.Thresholds(min_successes=50, min_sample=20, alpha=0.001)
STAGE = health.StageState(
    index=0, stages=(1, 5, 100), stage_successes=60, stage_new_devices=1000, stage_age_seconds=60
)


def test_healthy_stage_advances_and_the_last_completes() -> None:
    counts = health.Counts(successes=60, failures=1, crashes=0, feedback=0)
    assert health.decide(counts, STAGE, GATES, None).action == health.Action.ADVANCE
    last = health.StageState(2, (1, 5, 100), 60, 1000, 60)
    assert health.decide(counts, last, GATES, None).action == health.Action.COMPLETE


def test_stage_waits_for_enough_installs_and_its_soak() -> None:
    few = health.StageState(0, (1, 100), 10, 1000, 60)
    counts = health.Counts(10, 0, 0, 0)
    assert health.decide(counts, few, GATES, None).action == health.Action.HOLD
    small_cohort = health.StageState(0, (1, 100), 3, 6, 60)  # 6 devices: half of them is enough
    assert health.required_successes(small_cohort, GATES) == 3
    assert (
        health.decide(health.Counts(3, 0, 0, 0), small_cohort, GATES, None).action
        == health.Action.ADVANCE
    )
    soaking = health.Thresholds(min_stage_seconds=3600)
    assert (
        health.decide(health.Counts(60, 0, 0, 0), STAGE, soaking, None).action == health.Action.HOLD
    )


def test_install_failures_pause_only_when_clearly_above_the_limit() -> None:
    bad = health.decide(health.Counts(30, 15, 0, 0), STAGE, GATES, None)
    assert bad.action == health.Action.PAUSE
    assert bad.reason.startswith("install failures 15/45")
    assert bad.signals["failure_p"] < GATES.alpha
    # 2 failures in 40 is above 5% but could be luck: hold, do not pause, do not advance.
    unsure = health.decide(health.Counts(60, 4, 0, 0), STAGE, GATES, None)
    assert unsure.action == health.Action.HOLD
    # Too few attempts to judge at all.
    assert health.decide(health.Counts(3, 3, 0, 0), STAGE, GATES, None).action == health.Action.HOLD


def test_crashes_pause() -> None:
    decision = health.decide(health.Counts(60, 0, 40, 0), STAGE, GATES, None)
    assert decision.action == health.Action.PAUSE
    assert decision.reason.startswith("crashes 40")


def test_the_feedback_test_is_a_proper_rate_comparison() -> None:
    # Same rate as before: large p. Five times the rate: tiny p.
    assert health.feedback_test(5, 1000, 50, 10_000) > 0.4
    assert health.feedback_test(25, 1000, 50, 10_000) < 1e-6
    # Matches the exact conditional binomial test computed by hand for a small case:
    # n = 3, p = 1/2, P(X >= 3) = 1/8.
    assert health.feedback_test(3, 10, 0, 10) == pytest.approx(0.125)
    base = health.Baseline("1.0", installs=10_000, feedback=50)
    spike = health.decide(health.Counts(60, 0, 0, 8), STAGE, GATES, base)
    assert spike.action == health.Action.PAUSE
    assert spike.reason.startswith("feedback spike")
    usual = health.decide(health.Counts(60, 0, 0, 1), STAGE, GATES, base)
    assert usual.action == health.Action.ADVANCE
    assert (
        health.decide(health.Counts(60, 0, 0, 8), STAGE, GATES, None).action
        == health.Action.ADVANCE
    )


@pytest.mark.parametrize("stages", [[], [5, 5], [50, 20], [0, 100], [10, 101], [float("nan")]])
def test_stages_must_grow_within_0_and_100(stages: list[float]) -> None:
    with pytest.raises(InvalidInput):
        health.check_stages(stages)


def test_thresholds_round_trip() -> None:
    assert health.Thresholds.from_dict({**GATES.as_dict(), "unknown": 1}) == GATES


# --- changelog ---------------------------------------------------------------------------------


def test_changelog_credits_reporters_and_voters_and_respects_opt_outs() -> None:
    ana, bo, cy = (
        changelog.Person(1, "Ana"),
        changelog.Person(2, "Bo"),
        changelog.Person(3, "Cy", opted_out=True),
    )
    many = [changelog.Person(10 + i, f"V{i}") for i in range(7)]
    posts = [
        changelog.PostFacts(5, "idea", "深色模式", "zh", 3, reporter=bo, voters=[ana]),
        changelog.PostFacts(
            4, "bug", "Wi-Fi drops", "en", 9, reporter=cy, voters=[ana, bo, cy, *many]
        ),
    ]
    log = changelog.assemble(posts)
    assert [e.post_id for e in log.fixed] == [4]
    assert [e.post_id for e in log.new] == [5]
    wifi = log.fixed[0].credit
    assert wifi.reporter is None  # Cy opted out
    assert wifi.voters == ("Ana", "Bo", "V0", "V1", "V2")
    assert wifi.other_voters == 4  # V3..V6 not named; the reporter's own vote not counted twice
    assert log.new[0].title == "深色模式"
    assert log.new[0].language == "zh"
    assert log.contributors == 10
    assert "Cy" not in log.named
    text = changelog.render_text(log, "2.0", lambda s: s)
    assert (
        "Wi-Fi drops (#4) — reported by a friend; voted for by Ana, Bo, V0, V1, V2 and 4 more"
        in text
    )
    assert "深色模式 (#5) — reported by Bo; voted for by Ana" in text
    assert "Cy" not in text


# --- the train's calendar -----------------------------------------------------------------------


def test_the_train_leaves_friday_17_local_and_skips_holidays() -> None:
    schedule = TrainSchedule()  # Friday 17:00 Asia/Shanghai, CN holidays
    after = datetime(2026, 9, 28, tzinfo=UTC)  # a Monday, before China's National Day week
    trains = upcoming(schedule, after=after, count=3)
    first, skip = trains[0]
    assert first.weekday() == 4
    assert first.time() == time(17, 0)
    assert first.utcoffset() == timedelta(hours=8)
    assert first.date() == date(2026, 10, 2)
    assert skip is not None
    assert trains[1][0].date() == date(2026, 10, 9)
    assert trains[1][1] is None
    assert holiday_name("CN", date(2026, 10, 1)) is not None
    assert holiday_name("IN", date(2026, 10, 2)) is not None  # Gandhi Jayanti
    assert holiday_name("CN", date(2026, 10, 9)) is None


def test_train_schedules_are_validated() -> None:
    for kwargs in ({"weekday": "friday"}, {"timezone": "Mars/Base"}, {"country": "XX"}):
        with pytest.raises(InvalidInput):
            TrainSchedule(**kwargs)  # type: ignore[arg-type]
