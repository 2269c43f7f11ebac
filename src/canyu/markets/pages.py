"""The team's markets pages: the ranking as of a year (table with criterion bars, a world map
coloured by score, the back-test against imported plans) and a country's card (figures over
time, the S-curve fit, opening the market). Thin: rules in ``service``."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.deps import DbSession
from canyu.errors import CanyuError, InvalidInput
from canyu.i18n import gettext_for
from canyu.markets import plots, scoring, service
from canyu.markets.geo import world
from canyu.markets.indicators import INDICATORS
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, signin_redirect
from canyu.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

AsOfQuery = Annotated[int | None, Query(ge=service.MIN_ASOF, le=service.MAX_ASOF)]
SizeQuery = Annotated[float | None, Query(ge=0.0, le=1.0)]
CodePath = Annotated[str, Path(min_length=2, max_length=3, pattern=r"^[A-Za-z]{2,3}$")]
DEFAULT_ASOF = 2014
SHOWN = 30


def _years(session: DbSession) -> list[int]:
    """As-of years worth offering: from the first year with internet figures to a year after
    the last figure."""
    figures = service.data(session)
    years = {y for ind in figures.values() for s in ind.values() for y in s}
    if not years:
        return [DEFAULT_ASOF]
    return list(range(max(2000, min(years) + 1), max(years) + 2))


CriterionQuery = Annotated[float, Query(ge=0.0, le=10.0)]


def page_weights(
    size: SizeQuery = None,
    tipping: CriterionQuery = 1.0,
    social: CriterionQuery = 1.0,
    ecommerce: CriterionQuery = 1.0,
) -> scoring.Weights:
    try:
        return scoring.Weights(
            tipping, social, ecommerce, scoring.DEFAULT_SIZE_WEIGHT if size is None else size
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


PageWeights = Annotated[scoring.Weights, Depends(page_weights)]


def _query(asof: int, weights: scoring.Weights) -> str:
    return urlencode(
        {
            "asof": asof,
            "size": f"{weights.size:g}",
            "tipping": f"{weights.tipping:g}",
            "social": f"{weights.social:g}",
            "ecommerce": f"{weights.ecommerce:g}",
        }
    )


@router.get("/markets")
def markets(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    weights: PageWeights,
    asof: AsOfQuery = None,
    show: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    if user is None:
        return signin_redirect("/markets")
    accounts.require_team(user)
    locale = request_locale(request, user)
    years = _years(session)
    year = asof or (DEFAULT_ASOF if DEFAULT_ASOF in years else years[-1])
    ranking = service.ranking(session, asof=year, weights=weights)
    geo = world().countries
    names = {iso3: c.name(locale) for iso3, c in geo.items()}
    opened = service.open_iso3(session)
    shown = ranking.countries if show == "all" else ranking.countries[:SHOWN]
    _ = gettext_for(locale)
    tests = []
    for plan, labels in sorted(service.plans(session).items()):
        result = service.backtest(session, labels=labels, asof=year, weights=weights)
        tests.append({"plan": plan, **result})
    query = _query(year, weights)
    return render(
        request,
        "markets/index.html",
        {
            "nav": "markets",
            "asof": year,
            "weights": weights,
            "years": years,
            "ranking": ranking,
            "shown": shown,
            "show_all": show == "all",
            "names": names,
            "opened": opened,
            "openings": service.opened_markets(session),
            "tests": tests,
            "query": query,
            "home": scoring.HOME_MARKET,
            "world_map": plots.world_map(
                {c.iso3: (c.score, c.rank) for c in ranking.countries},
                names=names,
                opened=opened,
                href="/markets/countries/{iso3}?" + query,
                label=_("World map coloured by score as of %(year)s") % {"year": year},
            ),
            "palette": plots.PALETTE,
        },
        user=user,
    )


def _card(
    request: Request,
    session: DbSession,
    user: User,
    *,
    code: str,
    asof: int,
    weights: scoring.Weights,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    locale = request_locale(request, user)
    _ = gettext_for(locale)
    found = service.country(code)
    score = service.country_score(session, iso3=found.iso3, asof=asof, weights=weights)
    history = service.history(session, iso3=found.iso3, asof=asof)
    first = min((min(s) for s in history.values() if s), default=asof - 15)
    first = max(first, asof - 25)
    series = []
    for code_, indicator in INDICATORS.items():
        points = [(y, v) for y, v in sorted(history.get(code_, {}).items()) if y >= first]
        figure = score.figures.get(code_)
        how = None
        if figure is not None and figure.template is not None:
            how = _(figure.template) % dict(figure.args or {})
        series.append(
            {
                "code": code_,
                "indicator": indicator,
                "how": how,
                "title": _(indicator.title),
                "unit": _(indicator.unit),
                "figure": figure,
                "points": points,
                "spark": plots.sparkline(
                    points, first=first, last=asof - 1, label=_(indicator.title)
                ),
            }
        )
    curve = score.scurve
    plot = (
        plots.scurve_plot(
            curve,
            asof=asof,
            labels={
                "title": _("Internet use and its fitted S-curve"),
                "band": _("Take-off: 10 to 25 % of the ceiling"),
                "now": _("The last year the ranking may read"),
                "fit": _("Fitted logistic curve"),
                "level": _("Smartphone share now"),
            },
        )
        if curve is not None
        else None
    )
    opening = next((o for o in service.opened_markets(session) if o.iso3 == found.iso3), None)
    return render(
        request,
        "markets/country.html",
        {
            "nav": "markets",
            "country": found,
            "name": found.name(locale),
            "score": score,
            "total": len(service.ranking(session, asof=asof, weights=weights).countries),
            "asof": asof,
            "series": series,
            "curve": curve,
            "plot": plot,
            "opening": opening,
            "is_home": found.iso3 == scoring.HOME_MARKET,
            "query": _query(asof, weights),
            "error": error,
            "done": done,
            "today": date.today().isoformat(),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/markets/countries/{code}")
def country_card(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    code: CodePath,
    weights: PageWeights,
    asof: AsOfQuery = None,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    if user is None:
        return signin_redirect(f"/markets/countries/{code}")
    accounts.require_team(user)
    return _card(
        request,
        session,
        user,
        code=code,
        asof=asof or DEFAULT_ASOF,
        weights=weights,
        done=done,
    )


@router.post("/markets/openings")
def open_market(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    country: FormStr = "",
    opened_on: FormStr = "",
    note: FormStr = "",
    asof: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect("/markets")
    accounts.require_team(user)
    check_csrf(request, csrf_token)
    code = country.strip()[:3]
    year = int(asof) if asof.isdigit() and len(asof) == 4 else DEFAULT_ASOF
    try:
        try:
            when = date.fromisoformat(opened_on.strip())
        except ValueError:
            raise InvalidInput("The opening date must be YYYY-MM-DD.") from None
        opening = service.open_market(
            session, country_code=code, opened_on=when, note=note[:2000], by_user_id=user.id
        )
    except CanyuError as exc:
        session.rollback()
        if world().resolve(code) is None:
            raise
        _ = gettext_for(request_locale(request, user))
        return _card(
            request,
            session,
            user,
            code=code,
            asof=year,
            weights=scoring.Weights(),
            error=_(exc.message),
            status_code=exc.status_code,
        )
    return RedirectResponse(
        f"/markets/countries/{opening.iso3}?" + urlencode({"asof": year, "done": "opened"}),
        status_code=303,
    )
