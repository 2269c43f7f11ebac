"""Request and response models of the markets API (and the CLI's JSON)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from canyu.markets import scoring
from canyu.markets.geo import world

Weight = Annotated[float, Field(ge=0.0, le=10.0)]


class WeightsIn(BaseModel):
    tipping: Weight = 1.0
    social: Weight = 1.0
    ecommerce: Weight = 1.0
    size: Annotated[float, Field(ge=0.0, le=1.0)] = scoring.DEFAULT_SIZE_WEIGHT

    def weights(self) -> scoring.Weights:
        return scoring.Weights(self.tipping, self.social, self.ecommerce, self.size)


class CountryScoreOut(BaseModel):
    iso3: str
    name: str
    score: float
    rank: int
    criteria: dict[str, float]
    imputed: list[str]


class RankingOut(BaseModel):
    asof: int
    uses_figures_up_to: int
    home_market: str = Field(description="Ranked like any other country (China is included).")
    weights: dict[str, float]
    countries: list[CountryScoreOut]


class FigureOut(BaseModel):
    indicator: str
    title: str
    unit: str
    value: float | None
    year: int | None
    percentile: float | None
    imputed: str | None


class SCurveOut(BaseModel):
    ceiling: float
    speed: float
    midpoint: float
    fitted: bool
    level: float
    level_imputed: bool
    take_off: float
    points: list[tuple[int, float]]


class CountryOut(CountryScoreOut):
    asof: int
    figures: list[FigureOut]
    scurve: SCurveOut | None
    opened: bool


class OpeningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: Annotated[str, Field(min_length=2, max_length=3, description="ISO alpha-3 or -2")]
    opened_on: date
    note: Annotated[str, Field(max_length=2000)] = ""


class OpeningOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    iso3: str
    opened_on: date
    note: str
    decided_by_id: int | None
    created_at: datetime


def country_out(c: scoring.CountryScore, *, locale: str = "en") -> CountryScoreOut:
    found = world().countries.get(c.iso3)
    return CountryScoreOut(
        iso3=c.iso3,
        name=found.name(locale) if found else c.iso3,
        score=c.score,
        rank=c.rank,
        criteria=c.criteria,
        imputed=c.imputed,
    )


def ranking_out(
    ranking: scoring.Ranking, *, locale: str = "en", limit: int | None = None
) -> RankingOut:
    countries = ranking.countries if limit is None else ranking.countries[:limit]
    w = ranking.weights
    return RankingOut(
        asof=ranking.asof,
        uses_figures_up_to=ranking.asof - 1,
        home_market=scoring.HOME_MARKET,
        weights={
            "tipping": w.tipping,
            "social": w.social,
            "ecommerce": w.ecommerce,
            "size": w.size,
        },
        countries=[country_out(c, locale=locale) for c in countries],
    )


def country_detail(
    c: scoring.CountryScore, *, asof: int, opened: bool, locale: str = "en"
) -> CountryOut:
    from canyu.markets.indicators import INDICATORS

    base = country_out(c, locale=locale)
    figures = [
        FigureOut(
            indicator=code,
            title=INDICATORS[code].title,
            unit=INDICATORS[code].unit,
            value=f.value,
            year=f.year,
            percentile=f.percentile,
            imputed=f.imputed,
        )
        for code, f in c.figures.items()
    ]
    curve = c.scurve
    return CountryOut(
        **base.model_dump(),
        asof=asof,
        figures=figures,
        opened=opened,
        scurve=None
        if curve is None
        else SCurveOut(
            ceiling=curve.ceiling,
            speed=curve.speed,
            midpoint=curve.midpoint,
            fitted=curve.fitted,
            level=curve.level,
            level_imputed=curve.level_imputed,
            take_off=curve.take_off,
            points=list(curve.points),
        ),
    )
