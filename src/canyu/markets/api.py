"""JSON routes of the markets domain (team only; thin: the rules are in ``service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from canyu.accounts.deps import TeamUser
from canyu.deps import DbSession
from canyu.errors import InvalidInput
from canyu.markets import scoring, service
from canyu.markets.schemas import (
    CountryOut,
    OpeningIn,
    OpeningOut,
    RankingOut,
    WeightsIn,
    country_detail,
    ranking_out,
)

router = APIRouter(prefix="/api/v1/markets", tags=["markets"])

AsOf = Annotated[int, Query(ge=service.MIN_ASOF, le=service.MAX_ASOF)]
CountryCode = Annotated[str, Path(min_length=2, max_length=3, pattern=r"^[A-Za-z]{2,3}$")]


def _weights(weights: Annotated[WeightsIn, Depends()]) -> scoring.Weights:
    try:
        return weights.weights()
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


Weights = Annotated[scoring.Weights, Depends(_weights)]


@router.get("/ranking", response_model=RankingOut)
def ranking(
    session: DbSession,
    _user: TeamUser,
    weights: Weights,
    asof: AsOf,
    limit: Annotated[int | None, Query(ge=1, le=300)] = None,
) -> RankingOut:
    """Every country with figures, scored as of ``asof`` (figures up to ``asof - 1``)."""
    return ranking_out(service.ranking(session, asof=asof, weights=weights), limit=limit)


@router.get("/countries/{code}", response_model=CountryOut)
def country(
    session: DbSession, _user: TeamUser, weights: Weights, code: CountryCode, asof: AsOf
) -> CountryOut:
    """A country's score explained: its figures (imputed ones say how) and S-curve fit."""
    score = service.country_score(session, iso3=code, asof=asof, weights=weights)
    return country_detail(score, asof=asof, opened=score.iso3 in service.open_iso3(session))


@router.get("/backtest")
def backtest(
    session: DbSession,
    _user: TeamUser,
    weights: Weights,
    plan: Annotated[str, Query(min_length=1, max_length=64)],
    asof: Annotated[int | None, Query(ge=service.MIN_ASOF, le=service.MAX_ASOF)] = None,
) -> dict[str, object]:
    """An imported plan back-tested: where each market stood, beside population alone."""
    labels = service.plans(session).get(plan)
    if labels is None:
        raise InvalidInput(f"No plan named {plan!r}; import its CSV with `canyu markets import`.")
    return {
        "plan": plan,
        "asof": asof,
        **service.backtest(session, labels=labels, asof=asof, weights=weights),
    }


@router.get("/openings", response_model=list[OpeningOut])
def openings(session: DbSession, _user: TeamUser) -> list[OpeningOut]:
    """The opened markets (the home market, China, is always open and not listed)."""
    return [OpeningOut.model_validate(o) for o in service.opened_markets(session)]


@router.post("/openings", response_model=OpeningOut, status_code=status.HTTP_201_CREATED)
def open_market(session: DbSession, user: TeamUser, body: OpeningIn) -> OpeningOut:
    """Record the team's decision to open a market."""
    opening = service.open_market(
        session,
        country_code=body.country,
        opened_on=body.opened_on,
        note=body.note,
        by_user_id=user.id,
    )
    return OpeningOut.model_validate(opening)
