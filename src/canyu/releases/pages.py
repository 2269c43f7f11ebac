"""Release pages: the calendar, a build's page (changelog with credits, payloads, hashes) and a
rollout's page (stages, health chart, the team's controls). Thin: rules live in the service."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from babel.dates import get_day_names
from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.errors import CanyuError, InvalidInput
from canyu.i18n import gettext_for
from canyu.releases import changelog as changelog_mod
from canyu.releases import chart, health, service, wording
from canyu.releases.models import LIVE_STATUSES, Channel, RolloutEvent
from canyu.releases.runtime import runtime_for
from canyu.releases.scheduling import schedule_from
from canyu.releases.train import WEEKDAYS, upcoming
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, redirect, safe_next, signin_redirect
from canyu.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
ProductKey = Annotated[str, Path(min_length=2, max_length=40)]

ACTIONS = {
    "pause": service.pause,
    "resume": service.resume,
    "advance": service.advance,
    "halt": service.halt,
    "rollback": service.roll_back,
}
# Actions that cannot be undone ask for a reason and a confirmation.
WEIGHTY = frozenset({"halt", "rollback"})
DONE = {
    "pause": "The rollout is paused: no device is offered the build until it resumes.",
    "resume": "The rollout is running again.",
    "advance": "The rollout moved on to its next stage.",
    "halt": "The rollout is halted for good.",
    "rollback": "Rolled back: devices on this build are offered the previous one.",
    "boarded": "The post is on the next train.",
    "left": "The post is off the train.",
    "cut": "The build is cut: upload its payloads, then start its rollout.",
    "uploaded": "The payload is uploaded and signed.",
    "started": "The rollout has started.",
}
REFUSED = {
    "reason": "Say why: the reason goes into the rollout's history.",
    "confirm": "Tick the box to confirm: this cannot be undone.",
}


def _page(
    request: Request, session: Session, user: User | None, template: str, context: dict[str, Any]
) -> HTMLResponse:
    return render(request, template, {"nav": "releases"} | context, user=user)


def _notice(done: str | None, error: str | None) -> dict[str, str | None]:
    """The banner after a form: what was done, or why it was refused (a code or the rule's
    own message)."""
    return {"done": DONE.get(done or ""), "error": REFUSED.get(error or "", error)}


def _team_form(
    request: Request,
    session: Session,
    user: User | None,
    csrf_token: str,
    here: str,
    act: Callable[[User], str],
) -> Response:
    """One team form: CSRF, sign-in, the team's role; ``act`` returns where to go when it
    worked; a rule's refusal goes back to ``here`` with its reason."""
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(here)
    accounts.require_team(user)
    try:
        target = act(user)
        session.commit()
    except CanyuError as exc:
        session.rollback()
        return redirect(_with(here, error=exc.message))
    return redirect(target)


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
            "products": products,
            "train_posts": train_posts,
        },
    )


# --- the team's week: the train, the cut, payloads, the rollout ----------------------------------

WEEK = "/console/releases"


@router.get(WEEK, response_class=HTMLResponse)
def week(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    done: str | None = None,
    error: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """The team's week on one page: each product's next train (board, take off, cut), the
    builds waiting to go out, and the rollouts under way."""
    if user is None:
        return signin_redirect(WEEK)
    accounts.require_team(user)
    products = service.list_products(session)
    waiting = [b for b in service.list_builds(session, limit=100) if b.released_at is None]
    live = [r for r in service.list_rollouts(session, limit=100) if r.status in LIVE_STATUSES]
    return _page(
        request,
        session,
        user,
        "releases/week.html",
        {
            "nav": "console",
            "products": products,
            "train_posts": {
                p.key: service.train_posts(session, product_key=p.key) for p in products
            },
            "waiting": waiting,
            "live": live,
        }
        | _notice(done, error),
    )


def _post_number(value: str) -> int:
    text = value.strip().lstrip("#")
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise InvalidInput("Give a post by its number, e.g. 42.")
    return int(text)


TRAIN_MOVES = {"board": (service.train_attach, "boarded"), "leave": (service.train_detach, "left")}


@router.post(WEEK + "/{move}")
def train_move(
    request: Request,
    move: Annotated[str, Path(pattern="^(board|leave)$")],
    session: DbSession,
    user: MaybeUser,
    product: Annotated[str, Form(max_length=40)] = "",
    post: FormStr = "",
    back: FormStr = WEEK,
    csrf_token: FormStr = "",
) -> Response:
    """Put an accepted or planned post on the product's next train, or take it off (from the
    week's page or from the post's page)."""
    here = safe_next(back, WEEK)
    rule, done = TRAIN_MOVES[move]

    def act(actor: User) -> str:
        rule(session, actor=actor, product_key=product, post_id=_post_number(post))
        return _with(here, done=done)

    return _team_form(request, session, user, csrf_token, here, act)


@router.post(WEEK + "/train/{key}/cut")
def cut(
    request: Request,
    key: ProductKey,
    session: DbSession,
    user: MaybeUser,
    version: Annotated[str, Form(max_length=64)] = "",
    notes: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: FormStr = "",
) -> Response:
    """Cut this week's developer build from the posts on the train."""

    def act(actor: User) -> str:
        build = service.cut_train(
            session, actor=actor, product_key=key, version=version.strip() or None, notes=notes
        )
        return f"/releases/builds/{build.id}?done=cut"

    return _team_form(request, session, user, csrf_token, WEEK, act)


def _with(path: str, **params: str) -> str:
    """``path`` with these query parameters set (a form's way back, with its outcome)."""
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query)) | params
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


@router.get("/releases/builds/{build_id}", response_class=HTMLResponse)
def build_page(
    request: Request,
    build_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: DbSession,
    user: MaybeUser,
    done: str | None = None,
    error: Annotated[str | None, Query(max_length=2000)] = None,
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
            "channels": [c.value for c in Channel],
            "default_stages": ", ".join(f"{s:g}" for s in service.DEFAULT_STAGES),
        }
        | _notice(done, error),
    )


@router.post("/releases/builds/{build_id}/payloads")
def upload_payload(
    request: Request,
    build_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: DbSession,
    user: MaybeUser,
    file: Annotated[UploadFile | None, File()] = None,
    sha256: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """A payload from the build's page: the file and the SHA-256 its builder declared (the page
    fills it in from the chosen file); it becomes a signed TUF target, as through the API."""
    here = f"/releases/builds/{build_id}"
    settings = runtime_for(request.app).settings

    def act(actor: User) -> str:
        if file is None or not file.filename:
            raise InvalidInput("Choose a payload file.", details={"field": "file"})
        build = service.get_build(session, build_id=build_id)
        with tempfile.TemporaryDirectory(prefix="canyu-upload-") as spool_dir:
            spool, length, digest = service.read_payload(
                file.file, limit=settings.max_payload_bytes, spool=FsPath(spool_dir) / "payload"
            )
            service.add_payload(
                session,
                actor=actor,
                build=build,
                filename=file.filename,
                data=spool,
                length=length,
                actual_sha256=digest,
                declared_sha256=sha256,
                settings=settings,
            )
        return f"{here}?done=uploaded"

    return _team_form(request, session, user, csrf_token, here, act)


def _numbers(text: str) -> list[float]:
    try:
        return [
            float(part)
            for part in text.replace("%", "").replace("，", ",").split(",")
            if part.strip()
        ]
    except ValueError:
        raise InvalidInput(
            "Stages are percentages separated by commas, e.g. 5, 20, 50, 100.",
            details={"field": "stages"},
        ) from None


@router.post("/releases/builds/{build_id}/rollout")
def start_rollout(
    request: Request,
    build_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: DbSession,
    user: MaybeUser,
    stages: Annotated[str, Form(max_length=200)] = "",
    channels: Annotated[list[str] | None, Form()] = None,
    countries: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: FormStr = "",
) -> Response:
    """Start the build's rollout: its channels, countries (none: every opened market) and
    stages."""

    def act(actor: User) -> str:
        rollout = service.start_rollout(
            session,
            actor=actor,
            build_id=build_id,
            stages=_numbers(stages),
            channels=channels or None,
            countries=[
                c.strip().upper() for c in countries.replace("，", ",").split(",") if c.strip()
            ],
            runtime=runtime_for(request.app),
        )
        return f"/releases/rollouts/{rollout.id}?done=started"

    return _team_form(request, session, user, csrf_token, f"/releases/builds/{build_id}", act)


@router.get("/releases/rollouts/{rollout_id}", response_class=HTMLResponse)
def rollout_page(
    request: Request,
    rollout_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: DbSession,
    user: MaybeUser,
    done: str | None = None,
    error: Annotated[str | None, Query(max_length=2000)] = None,
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
    gates = health.Thresholds.from_dict(rollout.thresholds)
    previous = service.baseline(session, rollout=rollout)
    _ = gettext_for(request_locale(request, user))
    events = service.rollout_events(session, rollout_id=rollout.id)

    def said(event: RolloutEvent) -> str:
        return wording.event_text(
            event.kind,
            reason=event.reason,
            signals=event.signals,
            actor=event.actor.display_name if event.actor else None,
            thresholds=rollout.thresholds,
            _=_,
        )

    why = next(
        (
            e
            for e in reversed(events)
            if e.kind in ("paused", "auto_paused", "halted", "rolled_back")
        ),
        None,
    )
    return _page(
        request,
        session,
        user,
        "releases/rollout.html",
        {
            "rollout": rollout,
            "counts": counts,
            "charts": [
                chart.rate_chart(points, "failures", gates.max_failure_rate),
                chart.rate_chart(points, "crashes", gates.max_crash_rate),
            ],
            "feedback": (
                (
                    counts.feedback / counts.successes if counts.successes else None,
                    gates.feedback_min_ratio * previous.feedback / previous.installs,
                    previous,
                )
                if previous is not None
                else None
            ),
            "events": [(e, said(e)) for e in events],
            "why": said(why) if why is not None and rollout.status != "active" else None,
            "kind_label": lambda kind: wording.kind_label(kind, _),
            "share": wording.share,
            "weighty": WEIGHTY,
        }
        | _notice(done, error),
    )


@router.post("/releases/rollouts/{rollout_id}/{action}")
def rollout_action(
    request: Request,
    rollout_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: Annotated[str, Path(pattern="^(pause|resume|advance|halt|rollback)$")],
    session: DbSession,
    user: MaybeUser,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The team's buttons on the rollout page (a form post with the CSRF token). Halting and
    rolling back need a reason and a ticked confirmation."""
    here = f"/releases/rollouts/{rollout_id}"

    def act(actor: User) -> str:
        if action in WEIGHTY and not reason.strip():
            return f"{here}?error=reason"
        if action in WEIGHTY and confirm != "yes":
            return f"{here}?error=confirm"
        ACTIONS[action](
            session,
            actor=actor,
            rollout_id=rollout_id,
            reason=reason or None,
            runtime=runtime_for(request.app),
        )
        return f"{here}?done={action}"

    return _team_form(request, session, user, csrf_token, here, act)


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
