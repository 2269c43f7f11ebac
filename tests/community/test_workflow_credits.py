"""Pure rules with no database: the status workflow, the "top" ranking and the credit formula."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from canyu.community import credits, ranking, workflow
from canyu.community.credits import Contribution
from canyu.community.models import Status
from canyu.errors import Conflict, InvalidInput

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- workflow.check_transition ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.NEW, Status.ACCEPTED),
        (Status.NEW, Status.PLANNED),
        (Status.ACCEPTED, Status.PLANNED),
        (Status.ACCEPTED, Status.SHIPPED),
        (Status.ACCEPTED, Status.NEW),
        (Status.PLANNED, Status.SHIPPED),
        (Status.PLANNED, Status.ACCEPTED),
        (Status.SHIPPED, Status.ACCEPTED),
        (Status.DECLINED, Status.NEW),
        (Status.DECLINED, Status.ACCEPTED),
    ],
)
def test_allowed_transitions_pass_without_a_reason(current: Status, target: Status) -> None:
    workflow.check_transition(current, target, None)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.NEW, Status.SHIPPED),
        (Status.SHIPPED, Status.NEW),
        (Status.SHIPPED, Status.PLANNED),
        (Status.SHIPPED, Status.DECLINED),
        (Status.DECLINED, Status.SHIPPED),
        (Status.DECLINED, Status.PLANNED),
    ],
)
def test_illegal_transitions_conflict_and_name_what_is_allowed(
    current: Status, target: Status
) -> None:
    with pytest.raises(Conflict) as caught:
        workflow.check_transition(current, target, "because")
    allowed = sorted(s.value for s in workflow.TRANSITIONS[current])
    assert f"allowed: {', '.join(allowed)}" in caught.value.message


@pytest.mark.parametrize("status", [s for s in Status if s != Status.DUPLICATE])
def test_staying_in_the_same_status_is_a_conflict(status: Status) -> None:
    with pytest.raises(Conflict, match="already"):
        workflow.check_transition(status, status, "reason")


@pytest.mark.parametrize("current", [Status.NEW, Status.ACCEPTED, Status.DECLINED])
def test_duplicate_is_reached_only_through_merge(current: Status) -> None:
    with pytest.raises(Conflict, match="merge"):
        workflow.check_transition(current, Status.DUPLICATE, "same as #1")


@pytest.mark.parametrize("target", [Status.NEW, Status.ACCEPTED, Status.DECLINED])
def test_a_duplicate_is_left_only_through_undo(target: Status) -> None:
    with pytest.raises(Conflict, match="undo"):
        workflow.check_transition(Status.DUPLICATE, target, "reopen")


@pytest.mark.parametrize("reason", [None, "", "   \n\t"])
def test_declining_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        workflow.check_transition(Status.NEW, Status.DECLINED, reason)
    workflow.check_transition(Status.NEW, Status.DECLINED, "Out of scope for this phone.")


def test_an_overlong_reason_is_refused() -> None:
    workflow.check_transition(Status.NEW, Status.ACCEPTED, "x" * workflow.MAX_REASON)
    with pytest.raises(InvalidInput, match="at most"):
        workflow.check_transition(Status.NEW, Status.ACCEPTED, "x" * (workflow.MAX_REASON + 1))


def test_parse_status_rejects_unknown_values_with_the_valid_ones() -> None:
    assert workflow.parse_status("shipped") is Status.SHIPPED
    with pytest.raises(InvalidInput) as caught:
        workflow.parse_status("done")
    assert "'done'" in caught.value.message
    for status in Status:
        assert status.value in caught.value.message


# --- ranking.top_score ------------------------------------------------------------------------


def test_more_votes_rank_higher_at_the_same_age() -> None:
    scores = [ranking.top_score(votes, NOW) for votes in (0, 1, 5, 50, 5000)]
    assert scores == sorted(scores)
    assert len(set(scores)) == len(scores)


def test_newer_ranks_higher_for_equal_votes() -> None:
    older = ranking.top_score(7, NOW - timedelta(days=3))
    newer = ranking.top_score(7, NOW)
    assert newer > older


def test_ten_times_the_votes_equal_one_half_life_newer() -> None:
    half_life = timedelta(seconds=ranking.TOP_HALF_LIFE_SECONDS)
    # log10(1 + votes): 9 → 1.0 and 99 → 2.0 exactly, so the bonus is one whole half-life.
    old_popular = ranking.top_score(99, NOW - half_life)
    new_modest = ranking.top_score(9, NOW)
    assert math.isclose(old_popular, new_modest, abs_tol=1e-5)
    # Roughly the same for any tenfold step.
    assert math.isclose(
        ranking.top_score(1000, NOW - half_life), ranking.top_score(100, NOW), abs_tol=0.01
    )
    # Less than a half-life of head start is not enough to beat ten times the votes.
    assert ranking.top_score(99, NOW - half_life / 2) > ranking.top_score(9, NOW)


def test_negative_votes_count_as_none() -> None:
    assert ranking.top_score(-5, NOW) == ranking.top_score(0, NOW)


# --- credits.Contribution ---------------------------------------------------------------------


def test_points_follow_the_published_formula() -> None:
    contribution = Contribution(posts_accepted=3, posts_shipped=2, early_votes=7)
    assert contribution.points == (
        3 * credits.POINTS_POST_ACCEPTED
        + 2 * credits.POINTS_POST_SHIPPED
        + 7 * credits.POINTS_EARLY_VOTE
    )
    assert contribution.points == 3 * 10 + 2 * 20 + 7 * 2


def test_each_kind_of_contribution_earns_its_own_points() -> None:
    assert Contribution(0, 0, 0).points == 0
    assert Contribution(1, 0, 0).points == credits.POINTS_POST_ACCEPTED
    assert Contribution(0, 1, 0).points == credits.POINTS_POST_SHIPPED
    assert Contribution(0, 0, 1).points == credits.POINTS_EARLY_VOTE


def test_the_formula_text_names_every_weight() -> None:
    for weight in (
        credits.POINTS_POST_ACCEPTED,
        credits.POINTS_POST_SHIPPED,
        credits.POINTS_EARLY_VOTE,
    ):
        assert f"{weight} ×" in credits.FORMULA


def test_more_contribution_never_means_fewer_points() -> None:
    base = Contribution(2, 1, 4)
    for more in (Contribution(3, 1, 4), Contribution(2, 2, 4), Contribution(2, 1, 5)):
        assert more.points > base.points
