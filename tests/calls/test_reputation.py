"""The trust-weighted scoring, its caps, and the anti-abuse simulation (small)."""

from __future__ import annotations

import pytest

from canyu.calls import reputation
from canyu.calls.reputation import DAY, Category, Mark, Thresholds
from canyu.lab import abuse_sim

NOW = 1_000 * DAY


def honest(i: int, category: Category = Category.FRAUD, *, days_ago: float = 1.0) -> Mark:
    return Mark(
        reporter=i,
        category=category,
        at=NOW - days_ago * DAY - i * 3600,
        account_age_days=400,
        has_device=True,
        network=f"net-{i}",
    )


def test_trust_grows_with_age_device_and_agreement() -> None:
    fresh = reputation.reporter_trust(account_age_days=0, has_device=False)
    assert fresh == Thresholds().min_trust
    month_no_device = reputation.reporter_trust(account_age_days=30, has_device=False)
    month_device = reputation.reporter_trust(account_age_days=30, has_device=True)
    assert month_no_device == pytest.approx(0.5)
    assert month_device == pytest.approx(1.0)
    agreeing = reputation.reporter_trust(account_age_days=30, has_device=True, agreed=20)
    disagreeing = reputation.reporter_trust(account_age_days=30, has_device=True, disagreed=20)
    assert agreeing == pytest.approx(1.5)
    assert disagreeing < 0.25


def test_old_marks_decay() -> None:
    assert reputation.decay(0) == 1.0
    assert reputation.decay(90 * DAY) == pytest.approx(0.5)
    recent = reputation.assess([honest(i) for i in range(4)], now=NOW)
    old = reputation.assess([honest(i, days_ago=365) for i in range(4)], now=NOW)
    assert recent.label == Category.FRAUD
    assert old.label is None
    assert old.score < recent.score / 10


def test_a_few_trusted_friends_on_different_networks_label_a_number() -> None:
    result = reputation.assess([honest(i) for i in range(4)], now=NOW)
    assert result.label == Category.FRAUD
    assert result.reporters == 4
    assert result.networks == 4
    # Three fully trusted friends a day ago: just under the label score once decayed.
    assert reputation.assess([honest(i) for i in range(3)], now=NOW).label is None
    # Two can never be enough, however trusted (min_reporters).
    agreeing = [Mark(i, Category.FRAUD, NOW, 400, True, agreed=50, network=f"n{i}") for i in (1, 2)]
    assert reputation.assess(agreeing, now=NOW).score >= 3.0
    assert reputation.assess(agreeing, now=NOW).label is None


def test_one_network_adds_at_most_its_cap() -> None:
    marks = [
        Mark(
            reporter=i,
            category=Category.FRAUD,
            at=NOW - i,
            account_age_days=400,
            has_device=True,
            network="office",
        )
        for i in range(20)
    ]
    result = reputation.assess(marks, now=NOW)
    assert result.score == pytest.approx(Thresholds().network_cap)
    assert result.networks == 1
    assert result.label is None


def test_bursts_of_new_accounts_are_capped_but_established_friends_are_not() -> None:
    new_accounts = [
        Mark(
            reporter=i,
            category=Category.FRAUD,
            at=NOW - 3600 + 60 * i,
            account_age_days=10,
            has_device=True,
            network=f"n{i}",
        )
        for i in range(30)
    ]
    burst = reputation.assess(new_accounts, now=NOW)
    assert burst.score == pytest.approx(Thresholds().burst_cap)
    assert burst.label is None
    # The same burst from established friends (a real robocall campaign) labels at once.
    campaign = [
        Mark(
            reporter=i,
            category=Category.FRAUD,
            at=NOW - 60 * i,
            account_age_days=400,
            has_device=True,
            network=f"n{i}",
        )
        for i in range(30)
    ]
    assert reputation.assess(campaign, now=NOW).label == Category.FRAUD


def test_hysteresis_keeps_a_label_until_evidence_falls_below_the_lower_score() -> None:
    marks = [honest(i) for i in range(3)]
    weak = [*marks[:2], Mark(3, Category.FRAUD, NOW, 15, True, network="x")]  # 2.5 evidence
    assert reputation.assess(weak, now=NOW, labelled=False).label is None
    assert reputation.assess(weak, now=NOW, labelled=True).label == Category.FRAUD


def test_category_is_the_one_with_most_evidence_and_ties_go_to_the_more_harmful() -> None:
    def at_noon(i: int, category: Category) -> Mark:
        return Mark(i, category, NOW - DAY, 400, True, network=f"n{i}")

    marks = [
        at_noon(0, Category.TELEMARKETING),
        at_noon(1, Category.TELEMARKETING),
        at_noon(2, Category.FRAUD),
        at_noon(3, Category.FRAUD),
    ]
    result = reputation.assess(marks, now=NOW)
    assert result.label == Category.FRAUD  # equal evidence: fraud is worse
    marks.append(at_noon(4, Category.TELEMARKETING))
    assert reputation.assess(marks, now=NOW).label == Category.TELEMARKETING


def test_fifty_fresh_accounts_from_one_network_do_not_label_a_business() -> None:
    labelled, score = abuse_sim.one_network(50)
    assert not labelled
    assert score <= Thresholds().network_cap + 1e-9


def test_crowd_simulation_meets_both_goals() -> None:
    result = abuse_sim.crowd(abuse_sim.SMALL)
    assert result.malicious == pytest.approx(result.reporters * 0.10, abs=1)
    assert result.malicious_marks > result.config.legit_numbers * 0.2  # real pressure
    assert result.spam_many >= 50
    assert result.legit_labelled_share <= 0.001
    assert result.many_recall >= 0.95


def test_simulation_is_sensitive_to_the_defences() -> None:
    """Without the trust model (everyone fully trusted, no caps) malicious reporters do label
    legitimate numbers: the goals above are met because of the defences, not the setup."""
    naive = Thresholds(
        min_trust=1.0,
        no_device_factor=1.0,
        network_cap=1e9,
        burst_cap=1e9,
        full_trust_age_days=1e-9,
        label_score=2.0,
        min_reporters=2,
        min_networks=1,
    )
    result = abuse_sim.crowd(abuse_sim.SMALL, thresholds=naive)
    assert result.legit_labelled_share > 0.001
    labelled, _ = abuse_sim.one_network(50, thresholds=naive)
    assert labelled
