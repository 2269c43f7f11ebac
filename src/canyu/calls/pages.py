"""The calls pages: a friend's marks, a number's page with its appeal steps, the team's queue.
Thin: forms are checked for CSRF and handed to ``service``; errors come back on the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.calls import service
from canyu.calls.api import calls_settings, code_sender, limit_marks
from canyu.calls.reputation import BLOCKING, Category
from canyu.calls.service.common import number_path
from canyu.calls.settings import CallsSettings
from canyu.deps import DbSession, RowId
from canyu.errors import CanyuError, InvalidInput
from canyu.i18n import gettext_for
from canyu.ratelimit import client_ip
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, redirect, signin_redirect
from canyu.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

NumberPath = Annotated[str, Path(max_length=64)]
CATEGORIES = [c.value for c in Category]
SPAM_CATEGORIES = sorted(c.value for c in BLOCKING)


_number_url = number_path


def _message(request: Request, user: User | None, exc: CanyuError) -> str:
    """The service's reason, in the viewer's language where we have a translation."""
    _ = gettext_for(request_locale(request, user))
    return _(exc.message)


def _settings(request: Request) -> CallsSettings:
    return calls_settings(request)


# --- a friend's marks -------------------------------------------------------------------------


def _marks_page(
    request: Request,
    session: DbSession,
    user: User,
    *,
    error: str | None = None,
    done: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    marks, total = service.list_marks(session, user=user, limit=200)
    return render(
        request,
        "calls/marks.html",
        {
            "nav": "calls",
            "marks": marks,
            "total": total,
            "categories": CATEGORIES,
            "error": error,
            "done": done,
            "values": values or {"number": "", "category": "fraud"},
        },
        user=user,
        status_code=status_code,
    )


@router.get("/calls")
def my_marks(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    if user is None:
        return signin_redirect("/calls")
    return _marks_page(request, session, user, done=done)


@router.post("/calls/marks")
def mark(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    number: FormStr = "",
    category: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect("/calls")
    check_csrf(request, csrf_token)
    settings = _settings(request)
    try:
        limit_marks(request, user, settings)
        service.mark_number(
            session,
            user=user,
            number=number[:64],
            category=category[:32],
            network=service.network_id(client_ip(request), request.app.state.secret_key),
            settings=settings,
        )
    except CanyuError as exc:
        session.rollback()
        return _marks_page(
            request,
            session,
            user,
            error=_message(request, user, exc),
            values={"number": number[:64], "category": category[:32]},
            status_code=exc.status_code,
        )
    return redirect("/calls?done=marked")


@router.post("/calls/marks/withdraw")
def withdraw(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    number: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect("/calls")
    check_csrf(request, csrf_token)
    try:
        service.withdraw_mark(session, user=user, number=number[:64], settings=_settings(request))
    except CanyuError as exc:
        session.rollback()
        return _marks_page(
            request, session, user, error=_message(request, user, exc), status_code=exc.status_code
        )
    return redirect("/calls?done=withdrawn")


@router.get("/calls/lookup")
def find_number(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    number: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The search box: normalise and go to the number's page."""
    settings = _settings(request)
    try:
        phone = service.parse_number(
            number, (user.country if user else None) or settings.default_region
        )
    except InvalidInput as exc:
        if user is None:
            return signin_redirect("/calls")
        return _marks_page(
            request,
            session,
            user,
            error=_message(request, user, exc),
            values={"number": number, "category": "fraud"},
            status_code=422,
        )
    return redirect(_number_url(phone.e164))


# --- a number's page --------------------------------------------------------------------------


def _number_context(
    request: Request, session: DbSession, user: User | None, number: str
) -> dict[str, object]:
    settings = _settings(request)
    summary = service.summarise(
        session, number=number, region=(user.country if user else None), settings=settings
    )
    row = service.get_number(session, e164=summary.e164)
    mine = None
    if user is not None and row is not None:
        mine = next(
            (
                m
                for m in service.list_marks(session, user=user, limit=1000)[0]
                if m.number_id == row.id
            ),
            None,
        )
    return {
        "nav": "calls",
        "summary": summary,
        "label_reporters": service.label_reporters(session, number=row) if row else 0,
        "mine": mine,
        "categories": CATEGORIES,
        "spam_categories": SPAM_CATEGORIES,
        "number_url": _number_url(summary.e164),
        "max_count": max(summary.by_category.values(), default=0),
        # Complaint feeds beside friends' marks ("reported to the FTC 12 times ...").
        "feed_lines": service.feed_lines(session, number_id=row.id) if row else [],
        "suspicious": row is not None
        and row.label is None
        and row.decision is None
        and row.feed_score >= settings.feed_warn_score,
    }


@router.get("/calls/numbers/{number}")
def number_page(
    number: NumberPath, request: Request, session: DbSession, user: MaybeUser
) -> Response:
    try:
        context = _number_context(request, session, user, number)
    except InvalidInput as exc:
        return render(
            request,
            "error.html",
            {"status": 422, "message": _message(request, user, exc)},
            user=user,
            status_code=422,
        )
    return render(request, "calls/number.html", context, user=user)


# --- appeals ----------------------------------------------------------------------------------


def _appeal_page(
    request: Request,
    session: DbSession,
    user: User,
    number: str,
    *,
    step: str,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = _number_context(request, session, user, number)
    context.update(
        {"step": step, "error": error, "values": values or {"business_name": "", "reason": ""}}
    )
    return render(request, "calls/appeal.html", context, user=user, status_code=status_code)


@router.get("/calls/numbers/{number}/appeal")
def appeal_form(
    number: NumberPath,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    step: Annotated[str, Query(max_length=8)] = "code",
) -> Response:
    if user is None:
        return signin_redirect(_number_url(number, "/appeal"))
    try:
        return _appeal_page(
            request,
            session,
            user,
            number,
            step=step if step in ("code", "verify", "appeal", "done") else "code",
        )
    except InvalidInput as exc:
        return render(
            request,
            "error.html",
            {"status": 422, "message": _message(request, user, exc)},
            user=user,
            status_code=422,
        )


@router.post("/calls/numbers/{number}/appeal/code")
def appeal_send_code(
    number: NumberPath,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect(_number_url(number, "/appeal"))
    check_csrf(request, csrf_token)
    settings = _settings(request)
    try:
        request.app.state.limiter.hit(settings.code_rate, "calls-code", str(user.id), what="code")
        sent = service.request_code(
            session,
            user=user,
            number=number,
            sender=code_sender(request),
            settings=settings,
        )
    except CanyuError as exc:
        session.rollback()
        return _appeal_page(
            request,
            session,
            user,
            number,
            step="code",
            error=_message(request, user, exc),
            status_code=exc.status_code,
        )
    return redirect(_number_url(sent.e164, "/appeal?step=verify"))


@router.post("/calls/numbers/{number}/appeal/verify")
def appeal_verify(
    number: NumberPath,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    code: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect(_number_url(number, "/appeal"))
    check_csrf(request, csrf_token)
    try:
        service.verify_code(
            session, user=user, number=number, code=code[:12], settings=_settings(request)
        )
    except CanyuError as exc:
        session.rollback()
        return _appeal_page(
            request,
            session,
            user,
            number,
            step="verify",
            error=_message(request, user, exc),
            status_code=exc.status_code,
        )
    return redirect(_number_url(number, "/appeal?step=appeal"))


@router.post("/calls/numbers/{number}/appeal")
def appeal_submit(
    number: NumberPath,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    business_name: FormStr = "",
    reason: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect(_number_url(number, "/appeal"))
    check_csrf(request, csrf_token)
    try:
        service.file_appeal(
            session,
            user=user,
            number=number,
            business_name=business_name[:200],
            reason=reason[:4000],
            settings=_settings(request),
        )
    except CanyuError as exc:
        session.rollback()
        step = "code" if exc.code == "not_verified" else "appeal"
        return _appeal_page(
            request,
            session,
            user,
            number,
            step=step,
            error=_message(request, user, exc),
            values={"business_name": business_name[:200], "reason": reason[:4000]},
            status_code=exc.status_code,
        )
    return redirect(_number_url(number, "/appeal?step=done"))


# --- the team's queue -------------------------------------------------------------------------


@router.get("/calls/appeals")
def appeal_queue(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    if user is None:
        return signin_redirect("/calls/appeals")
    accounts.require_team(user)
    appeals = service.appeal_queue(session)
    summaries = {
        a.id: service.summarise(
            session, number=a.number.e164, region=None, settings=_settings(request)
        )
        for a in appeals
    }
    return render(
        request,
        "calls/appeals.html",
        {
            "nav": "console",
            "appeals": appeals,
            "summaries": summaries,
            "review": service.review_queue(session),
            "decided": service.appeal_queue(session, status="upheld")[-5:]
            + service.appeal_queue(session, status="rejected")[-5:],
            "done": done,
            "number_url": _number_url,
            "categories": CATEGORIES,
        },
        user=user,
    )


@router.post("/calls/appeals/{appeal_id}/decide")
def decide_appeal(
    appeal_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    decision: FormStr = "",
    note: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect("/calls/appeals")
    check_csrf(request, csrf_token)
    if decision not in ("uphold", "reject"):
        raise InvalidInput("Choose uphold or reject.")
    service.decide_appeal(
        session,
        actor=user,
        appeal_id=appeal_id,
        uphold=decision == "uphold",
        note=note[:2000],
        settings=_settings(request),
    )
    return redirect(f"/calls/appeals?done={decision}")


@router.post("/calls/numbers/{number}/decide")
def decide_number(
    number: NumberPath,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    decision: FormStr = "",
    category: FormStr = "",
) -> Response:
    if user is None:
        return signin_redirect(_number_url(number))
    check_csrf(request, csrf_token)
    row = service.decide_number(
        session,
        actor=user,
        number=number,
        decision=decision[:8],
        category=category[:32] or None,
        settings=_settings(request),
    )
    return redirect(_number_url(row.e164))
