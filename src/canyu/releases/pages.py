"""Release pages: the calendar, a build's page (changelog with credits, payloads, hashes) and a
rollout's page (stages, health chart, the team's controls). Thin: rules live in the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from babel.dates import get_day_names
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.errors import CanyuError
from canyu.i18n import gettext_for
from canyu.releases import changelog as changelog_mod
from canyu.releases import chart, service
from canyu.releases.runtime import runtime_for
from canyu.releases.scheduling import schedule_from
from canyu.releases.train import WEEKDAYS, upcoming
from canyu.web.csrf import check_csrf
from canyu.web.forms import signin_redirect
from canyu.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

ACTIONS = {
    "pause": service.pause,
    "resume": service.resume,
    "halt": service.halt,
    "rollback": service.roll_back,
}
DONE = {
    "pause": "The rollout is paused: no device is offered the build until it resumes.",
    "resume": "The rollout is running again.",
    "halt": "The rollout is halted for good.",
    "rollback": "Rolled back: devices on this build are offered the previous one.",
}


def _page(
    request: Request, session: Session, user: User | None, template: str, context: dict[str, Any]
) -> HTMLResponse:
    return render(request, template, {"nav": "releases"} | context, user=user)


@router.get("/releases", response_class=HTMLResponse)
def calendar(request: Request, session: DbSession, user: MaybeUser) -> HTMLResponse:
    """The release calendar: the next weekly trains (holidays marked), builds, rollouts."""
    settings = runtime_for(request.app).settings
    schedule = schedule_from(settings)
    locale = request_locale(request, user)
    trains = upcoming(schedule, after=datetime.now(UTC), count=6, locale=locale)
    weekday = get_day_names("wide", locale="zh_CN" if locale == "zh" else "en")[
        WEEKDAYS.index(schedule.weekday)
    ]
    builds = service.list_builds(session, limit=40)
    rollouts = service.list_rollouts(session, limit=20)
    by_build: dict[int, list[Any]] = {}
    for rollout in rollouts:
        by_build.setdefault(rollout.build_id, []).append(rollout)
    products = service.list_products(session)
    train_posts = {p.key: service.train_posts(session, product_key=p.key) for p in products}
    return _page(
        request,
        session,
        user,
        "releases/calendar.html",
        {
            "schedule": schedule,
            "weekday": weekday,
            "trains": trains,
            "builds": builds,
            "rollouts": rollouts,
            "by_build": by_build,
            "products": products,
            "train_posts": train_posts,
        },
    )


@router.get("/releases/builds/{build_id}", response_class=HTMLResponse)
def build_page(
    request: Request,
    build_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: DbSession,
    user: MaybeUser,
) -> HTMLResponse:
    build = service.get_build(session, build_id=build_id)
    log = service.changelog(session, build=build)
    _ = gettext_for(request_locale(request, user))
    return _page(
        request,
        session,
        user,
        "releases/build.html",
        {
            "build": build,
            "log": log,
            "credit_text": lambda credit: changelog_mod.credit_text(credit, _),
            "rollouts": service.list_rollouts(session, build_id=build.id),
        },
    )


@router.get("/releases/rollouts/{rollout_id}", response_class=HTMLResponse)
def rollout_page(
    request: Request,
    rollout_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: DbSession,
    user: MaybeUser,
    done: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    rollout = service.get_rollout(session, rollout_id=rollout_id)
    counts = service.rollout_counts(session, rollout=rollout, since_resume=False)
    samples = service.health_samples(session, rollout_id=rollout.id)
    points = [
        chart.Point(s.created_at, s.successes, s.failures, s.crashes, s.feedback, s.percent)
        for s in samples
    ]
    now_point = chart.Point(
        datetime.now(UTC),
        counts.successes,
        counts.failures,
        counts.crashes,
        counts.feedback,
        rollout.percent,
    )
    if not points or points[-1].at < now_point.at:
        points.append(now_point)
    return _page(
        request,
        session,
        user,
        "releases/rollout.html",
        {
            "rollout": rollout,
            "counts": counts,
            "chart": chart.build(points),
            "events": service.rollout_events(session, rollout_id=rollout.id),
            "done": DONE.get(done or ""),
            "error": error,
        },
    )


@router.post("/releases/rollouts/{rollout_id}/{action}")
def rollout_action(
    request: Request,
    rollout_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: Annotated[str, Path(pattern="^(pause|resume|halt|rollback)$")],
    session: DbSession,
    user: MaybeUser,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The team's buttons on the rollout page (a form post with the CSRF token)."""
    check_csrf(request, csrf_token)
    here = f"/releases/rollouts/{rollout_id}"
    if user is None:
        return signin_redirect(here)
    accounts.require_team(user)
    try:
        ACTIONS[action](
            session,
            actor=user,
            rollout_id=rollout_id,
            reason=reason or None,
            runtime=runtime_for(request.app),
        )
    except CanyuError as exc:
        session.rollback()
        from urllib.parse import quote

        return RedirectResponse(f"{here}?error={quote(exc.message)}", status_code=303)
    return RedirectResponse(f"{here}?done={action}", status_code=303)


@router.post("/profile/release-credit")
def release_credit(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: Annotated[str, Form()] = "",
    named: Annotated[bool, Form()] = False,
) -> Response:
    """The profile's switch for being named in changelogs (the same rule as the API's
    ``PUT /api/v1/me/release-credit``); an unchecked box is not sent, so absent means no."""
    check_csrf(request, csrf_token)
    if user is None:
        return RedirectResponse("/signin?next=/profile", status_code=303)
    service.set_credit_optout(session, user=user, opted_out=not named)
    return RedirectResponse("/profile?saved=1", status_code=303)
