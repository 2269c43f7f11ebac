"""The greetings pages: upcoming festivals of the viewer's country with friends' greetings,
votes and a "write one" form; the team's moderation queue. Thin: every rule is in service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.errors import CanyuError, InvalidInput
from canyu.greetings import calendar, service
from canyu.i18n import display_country
from canyu.web.csrf import check_csrf
from canyu.web.forms import redirect
from canyu.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

FormStr = Annotated[str, Form(max_length=4000)]
GreetingId = Annotated[int, Path(ge=1, le=MAX_ID)]
UPCOMING_DAYS = 60


def _country(request: Request, user: User | None, asked: str | None) -> str:
    if asked:
        return calendar.parse_country(asked)
    if user is not None and user.country in calendar.countries():
        return user.country
    return "CN" if request_locale(request, user) == "zh" else "US"


def _festivals_page(
    request: Request,
    session: Any,
    user: User | None,
    *,
    country: str,
    error: str | None = None,
    form: dict[str, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    locale = request_locale(request, user)
    today = calendar.local_today(country)
    festivals = service.upcoming(country, today=today, days=UPCOMING_DAYS)
    by_key: dict[str, list[Any]] = {}
    for festival in festivals:
        if festival.key not in by_key:
            by_key[festival.key] = service.list_greetings(
                session, viewer=user, festival=festival.key, language=locale, limit=10
            )
    ids = [g.id for found in by_key.values() for g in found]
    return render(
        request,
        "greetings/index.html",
        {
            "nav": "greetings",
            "country": country,
            "country_name": display_country(country, locale),
            "festivals": festivals,
            "greetings": by_key,
            "voted": service.voted_ids(session, user=user, greeting_ids=ids),
            "languages": sorted({locale, "en", "zh", *calendar.languages(country)}),
            "error": error,
            "form": form or {},
            "done": done,
            "days": UPCOMING_DAYS,
            "max_text": service.MAX_TEXT,
            "today": today,
            "credits": service.honour_roll(session, limit=5),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/greetings", response_class=HTMLResponse)
def index(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    country: Annotated[str | None, Query(max_length=8)] = None,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return _festivals_page(
        request, session, user, country=_country(request, user, country), done=done
    )


@router.post("/greetings/write", response_class=HTMLResponse)
def write(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    festival: FormStr,
    language: FormStr,
    text: FormStr,
    country: FormStr,
    csrf_token: FormStr,
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return redirect("/signin?next=/greetings")
    code = _country(request, user, country)
    try:
        request.app.state.limiter.hit(
            service.WRITE_RATE, "greetings-write", str(user.id), what="greeting"
        )
        service.write_greeting(
            session, author=user, festival=festival, language=language, text=text
        )
    except CanyuError as exc:
        session.rollback()
        form = {"festival": festival, "language": language, "text": text}
        return _festivals_page(
            request,
            session,
            user,
            country=code,
            error=exc.message,
            form=form,
            status_code=exc.status_code,
        )
    return redirect(f"/greetings?country={code}&done=written")


@router.post("/greetings/{greeting_id}/vote")
def vote(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    greeting_id: GreetingId,
    country: FormStr,
    csrf_token: FormStr,
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return redirect("/signin?next=/greetings")
    code = _country(request, user, country)
    try:
        service.vote(session, user=user, greeting_id=greeting_id)
    except CanyuError as exc:
        session.rollback()
        return _festivals_page(
            request, session, user, country=code, error=exc.message, status_code=exc.status_code
        )
    return redirect(f"/greetings?country={code}&done=voted#greeting-{greeting_id}")


@router.get("/greetings/queue", response_class=HTMLResponse)
def team_queue(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    if user is None:
        return redirect("/signin?next=/greetings/queue")
    pending = service.queue(session, actor=user)
    locale = request_locale(request, user)
    names = {key: calendar.NAMES.get(key) for key in {g.festival_key for g in pending}}
    return render(
        request,
        "greetings/queue.html",
        {
            "nav": "greetings",
            "pending": pending,
            "names": {
                key: (pair[1] if locale == "zh" else pair[0]) if pair else key.replace("_", " ")
                for key, pair in names.items()
            },
            "done": done,
        },
        user=user,
    )


@router.post("/greetings/{greeting_id}/decision")
def decision(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    greeting_id: GreetingId,
    decision: FormStr,
    csrf_token: FormStr,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return redirect("/signin?next=/greetings/queue")
    if decision not in ("approve", "reject"):
        raise InvalidInput("Decide with approve or reject.", details={"field": "decision"})
    service.decide(
        session,
        actor=user,
        greeting_id=greeting_id,
        approve=decision == "approve",
        reason=reason or None,
    )
    return redirect(f"/greetings/queue?done={'approved' if decision == 'approve' else 'rejected'}")
