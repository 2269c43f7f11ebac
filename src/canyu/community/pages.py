"""The friends' portal and the team console, server-rendered; the rules stay in ``service``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.community import credits, notices, service, workflow
from canyu.community.language import SUPPORTED as SUPPORTED_LANGUAGES
from canyu.community.models import Kind, Post, Status
from canyu.community.similar import MAX_QUERY, SimilarPost, SimilarPosts
from canyu.deps import DbSession, RowId
from canyu.errors import CanyuError, InvalidInput
from canyu.i18n import Gettext
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, gettext_of, here, redirect, safe_next, signin_redirect
from canyu.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
CONSOLE_PAGE_SIZE = 25
MAX_PAGE_NUMBER = 10_000
SIMILAR_IN_CONSOLE = 3
# What a form shows for a field the service refused, in the viewer's language.
FIELD_MESSAGES = {
    "title": "Give your post a title (up to 200 characters).",
    "body": "Describe it in a few words (up to 10,000 characters).",
    "comment": "Write a comment (up to 5,000 characters).",
    "device model": "The device model has at most 64 characters.",
    "software build": "The software build has at most 64 characters.",
}
DONE_MESSAGES = {
    "status": "Status changed; the author and voters were notified.",
    "bulk": "Statuses changed; the authors and voters were notified.",
    "merge": "Merged as a duplicate; its voters now count for the target.",
    "unmerge": "Merge undone; the post is open again.",
}
CONSOLE_STATUSES = ("new", "accepted", "planned", "shipped", "declined", "duplicate", "all")

E = TypeVar("E", bound=StrEnum)


# --- small helpers ------------------------------------------------------------------------


def _parse_enum(enum: type[E], value: str | None) -> E | None:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _page_number(value: str | None) -> int:
    try:
        number = int(value or "1")
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE_NUMBER)


def _int_or_none(value: str) -> int | None:
    text = value.strip().lstrip("#").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _url(path: str, params: Mapping[str, object]) -> str:
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path


def error_text(exc: CanyuError, _: Gettext) -> str:
    """A refused field gets a friendly sentence; any other message is translated if known."""
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    if isinstance(field, str) and field in FIELD_MESSAGES:
        return _(FIELD_MESSAGES[field])
    return _(exc.message)


def _similar(request: Request) -> SimilarPosts:
    index: SimilarPosts = request.app.state.similar
    return index


def _page(
    request: Request,
    session: Session,
    user: User | None,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render with what every portal page needs: label helpers."""
    locale = request_locale(request, user)
    languages = Locale.parse(locale).languages

    def language_name(code: str) -> str:
        return str(languages.get(code, code))

    base: dict[str, Any] = {
        "language_name": language_name,
        "here": here(request),
    }
    return render(request, template, base | context, user=user, status_code=status_code)


def _voted(session: Session, user: User | None, posts: Iterable[Post]) -> set[int]:
    if user is None:
        return set()
    return service.has_voted(session, user=user, post_ids=[p.id for p in posts])


# --- the portal ---------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def portal(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    sort: str = "top",
    kind: str = "",
    status: str = "",
    language: str = "",
    device: str = "",
    page: str = "1",
) -> Response:
    chosen_sort = _parse_enum(service.Sort, sort) or service.Sort.TOP
    chosen_kind = _parse_enum(Kind, kind)
    chosen_status = _parse_enum(Status, status)
    chosen_language = language if language in SUPPORTED_LANGUAGES else None
    chosen_device = device.strip()[:64] or None
    number = _page_number(page)
    filters = service.PostFilters(
        kind=chosen_kind,
        status=chosen_status,
        language=chosen_language,
        device_model=chosen_device,
    )
    found = service.list_posts(
        session,
        sort=chosen_sort,
        filters=filters,
        limit=PAGE_SIZE + 1,
        offset=(number - 1) * PAGE_SIZE,
    )
    posts = found[:PAGE_SIZE]
    current = {
        "sort": chosen_sort.value,
        "kind": chosen_kind.value if chosen_kind else "",
        "status": chosen_status.value if chosen_status else "",
        "language": chosen_language or "",
        "device": chosen_device or "",
    }
    context = {
        "posts": posts,
        "voted": _voted(session, user, posts),
        "current": current,
        "filtered": any(v for k, v in current.items() if k != "sort"),
        "tabs": [(s.value, _url("/", current | {"sort": s.value})) for s in service.Sort],
        "page": number,
        "prev_url": _url("/", current | {"page": number - 1}) if number > 1 else None,
        "next_url": _url("/", current | {"page": number + 1}) if len(found) > PAGE_SIZE else None,
        "languages": sorted(SUPPORTED_LANGUAGES),
        "device_models": service.device_models(session),
    }
    return _page(request, session, user, "index.html", context)


def _post_view(
    request: Request,
    session: Session,
    user: User | None,
    post: Post,
    *,
    comment_body: str = "",
    comment_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    comments = service.comments_for(session, post=post)
    origins = {
        c.post_id: service.get_post(session, post_id=c.post_id)
        for c in comments
        if c.post_id != post.id
    }
    context = {
        "post": post,
        "voted": post.id in _voted(session, user, [post]),
        "canonical": service.canonical(session, post=post) if post.duplicate_of_id else None,
        "history": service.status_history(session, post_id=post.id),
        "merged_here": service.merged_into(session, post_id=post.id),
        "comments": comments,
        "origins": origins,
        "comment_body": comment_body,
        "comment_error": comment_error,
    }
    return _page(request, session, user, "post.html", context, status_code=status_code)


@router.get("/posts/{post_id}", response_class=HTMLResponse)
def post_page(post_id: RowId, request: Request, session: DbSession, user: MaybeUser) -> Response:
    return _post_view(request, session, user, service.get_post(session, post_id=post_id))


def _vote_action(
    request: Request,
    session: Session,
    user: User | None,
    post_id: int,
    csrf_token: str,
    next_url: str,
    action: Callable[..., Post],
) -> Response:
    check_csrf(request, csrf_token)
    back = safe_next(next_url, f"/posts/{post_id}")
    if user is None:
        return signin_redirect(back)
    action(session, user=user, post_id=post_id)
    session.commit()
    return redirect(back)


@router.post("/posts/{post_id}/vote")
def vote(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    next: FormStr = "",
) -> Response:
    return _vote_action(request, session, user, post_id, csrf_token, next, service.vote)


@router.post("/posts/{post_id}/unvote")
def unvote(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    next: FormStr = "",
) -> Response:
    return _vote_action(request, session, user, post_id, csrf_token, next, service.unvote)


@router.post("/posts/{post_id}/comments", response_class=HTMLResponse)
def comment(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    body: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/posts/{post_id}")
    try:
        created = service.add_comment(session, author=user, post_id=post_id, body=body)
        session.commit()
    except InvalidInput as exc:
        session.rollback()
        post = service.get_post(session, post_id=post_id)
        return _post_view(
            request,
            session,
            user,
            post,
            comment_body=body,
            comment_error=error_text(exc, gettext_of(request, user)),
            status_code=exc.status_code,
        )
    return redirect(f"/posts/{post_id}#comment-{created.id}")


# --- submitting -----------------------------------------------------------------------------


def _submit_view(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, str],
    *,
    error: str | None = None,
    error_field: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "values": values,
        "error": error,
        "error_field": error_field,
        "device_models": service.device_models(session),
    }
    return _page(request, session, user, "submit.html", context, status_code=status_code)


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, session: DbSession, user: MaybeUser, kind: str = "") -> Response:
    if user is None:
        return signin_redirect("/submit")
    chosen = _parse_enum(Kind, kind) or Kind.BUG
    values = {
        "kind": chosen.value,
        "title": "",
        "body": "",
        "device_model": "",
        "software_build": "",
    }
    return _submit_view(request, session, user, values)


@router.post("/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    kind: FormStr = "",
    title: FormStr = "",
    body: FormStr = "",
    device_model: FormStr = "",
    software_build: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect("/submit")
    values = {
        "kind": kind,
        "title": title,
        "body": body,
        "device_model": device_model,
        "software_build": software_build,
    }
    try:
        post = service.create_post(
            session,
            author=user,
            kind=kind,
            title=title,
            body=body,
            device_model=device_model,
            software_build=software_build,
        )
        session.commit()
    except CanyuError as exc:
        session.rollback()
        field = exc.details.get("field", "") if isinstance(exc.details, dict) else ""
        return _submit_view(
            request,
            session,
            user,
            values,
            error=error_text(exc, gettext_of(request, user)),
            error_field="kind" if _parse_enum(Kind, kind) is None else str(field),
            status_code=exc.status_code,
        )
    return redirect(f"/posts/{post.id}")


# --- notifications and the honour roll ------------------------------------------------------


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, session: DbSession, user: MaybeUser) -> Response:
    if user is None:
        return signin_redirect("/notifications")
    _ = gettext_of(request, user)
    found = service.list_notifications(session, user=user, limit=service.MAX_PAGE)
    items = [(n, notices.describe(n.payload, _)) for n in found]
    return _page(request, session, user, "notifications.html", {"items": items})


@router.post("/notifications/read")
def mark_read(
    request: Request, session: DbSession, user: MaybeUser, csrf_token: FormStr = ""
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect("/notifications")
    service.mark_notifications_read(session, user=user)
    session.commit()
    return redirect("/notifications")


@router.get("/honour", response_class=HTMLResponse)
def honour(request: Request, session: DbSession, user: MaybeUser) -> Response:
    context = {
        "entries": service.honour_roll(session, limit=service.MAX_PAGE),
        "formula": credits.FORMULA,
        "points": {
            "accepted": credits.POINTS_POST_ACCEPTED,
            "shipped": credits.POINTS_POST_SHIPPED,
            "early": credits.POINTS_EARLY_VOTE,
        },
    }
    return _page(request, session, user, "honour.html", context)


# --- the team console -----------------------------------------------------------------------


def _console_view(
    request: Request,
    session: Session,
    user: User,
    params: Mapping[str, str],
    *,
    error: str | None = None,
    error_details: list[tuple[str, str]] | None = None,
    checked: Iterable[int] = (),
    status_code: int = 200,
) -> HTMLResponse:
    status_param = params.get("status", "new")
    if status_param not in CONSOLE_STATUSES:
        status_param = "new"
    chosen_status = None if status_param == "all" else Status(status_param)
    chosen_kind = _parse_enum(Kind, params.get("kind"))
    chosen_language = (
        params.get("language") if params.get("language") in SUPPORTED_LANGUAGES else None
    )
    chosen_sort = service.Sort.NEW if params.get("sort") == "new" else service.Sort.TOP
    number = _page_number(params.get("page"))
    filters = service.PostFilters(kind=chosen_kind, status=chosen_status, language=chosen_language)
    found = service.list_posts(
        session,
        sort=chosen_sort,
        filters=filters,
        limit=CONSOLE_PAGE_SIZE + 1,
        offset=(number - 1) * CONSOLE_PAGE_SIZE,
    )
    posts = found[:CONSOLE_PAGE_SIZE]
    index = _similar(request)
    similar: dict[int, list[SimilarPost]] = {}
    for post in posts:
        if post.status != Status.DUPLICATE:
            query = f"{post.title}\n{post.body}"[:MAX_QUERY]
            found_similar = index.search(
                session, query=query, k=SIMILAR_IN_CONSOLE, exclude=post.id
            )
            similar[post.id] = [s for s in found_similar if s.likely_duplicate]
    current = {
        "status": status_param,
        "kind": chosen_kind.value if chosen_kind else "",
        "language": chosen_language or "",
        "sort": chosen_sort.value,
    }
    back = _url("/console", current | {"page": number if number > 1 else ""})
    order = list(Status)
    context = {
        "posts": posts,
        "similar": similar,
        "targets": {
            p.id: sorted(workflow.TRANSITIONS[Status(p.status)], key=order.index) for p in posts
        },
        "bulk_statuses": [s for s in Status if s != Status.DUPLICATE],
        "statuses": CONSOLE_STATUSES,
        "current": current,
        "back": back,
        "page": number,
        "prev_url": _url("/console", current | {"page": number - 1}) if number > 1 else None,
        "next_url": (
            _url("/console", current | {"page": number + 1})
            if len(found) > CONSOLE_PAGE_SIZE
            else None
        ),
        "languages": sorted(SUPPORTED_LANGUAGES),
        "done": DONE_MESSAGES.get(params.get("done", "")),
        "error": error,
        "error_details": error_details or [],
        "checked": set(checked),
    }
    return _page(request, session, user, "console.html", context, status_code=status_code)


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, session: DbSession, user: MaybeUser) -> Response:
    if user is None:
        return signin_redirect(here(request))
    accounts.require_team(user)
    return _console_view(request, session, user, dict(request.query_params))


def _console_back(back: str) -> tuple[str, dict[str, str]]:
    """Where a console form returns to, and the console filters it carries."""
    target = safe_next(back, "/console")
    parts = urlsplit(target)
    params = {k: v for k, v in parse_qsl(parts.query) if k != "done"}
    return target, params


def _console_action(
    request: Request,
    session: Session,
    user: User | None,
    csrf_token: str,
    back: str,
    done: str,
    action: Callable[[User], object],
    *,
    checked: Iterable[int] = (),
) -> Response:
    """Run one team action; on success go back, on refusal show the console with the reason."""
    check_csrf(request, csrf_token)
    target, params = _console_back(back)
    if user is None:
        return signin_redirect(target)
    accounts.require_team(user)
    try:
        action(user)
        session.commit()
    except CanyuError as exc:
        session.rollback()
        if not urlsplit(target).path.startswith("/console"):
            raise
        details = exc.details if isinstance(exc.details, dict) else {}
        return _console_view(
            request,
            session,
            user,
            params,
            error=error_text(exc, gettext_of(request, user)),
            error_details=[(f"#{k}", str(v)) for k, v in details.items()],
            checked=checked,
            status_code=exc.status_code,
        )
    path = urlsplit(target).path
    if path.startswith("/console"):
        return redirect(_url(path, params | {"done": done}))
    return redirect(target)


def _post_id(value: str) -> int:
    number = _int_or_none(value)
    if number is None:
        raise InvalidInput("Give a post by its number, e.g. 42.")
    return number


@router.post("/console/status", response_class=HTMLResponse)
def console_status(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    post_id: FormStr = "",
    status: FormStr = "",
    reason: FormStr = "",
    back: FormStr = "/console",
) -> Response:
    def act(actor: User) -> object:
        return service.change_status(
            session, actor=actor, post_id=_post_id(post_id), status=status, reason=reason
        )

    return _console_action(request, session, user, csrf_token, back, "status", act)


@router.post("/console/bulk", response_class=HTMLResponse)
def console_bulk(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    post_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    status: FormStr = "",
    reason: FormStr = "",
    back: FormStr = "/console",
) -> Response:
    ids = [n for n in (_int_or_none(v) for v in post_ids) if n is not None]

    def act(actor: User) -> object:
        if len(ids) != len(post_ids):
            raise InvalidInput("Choose posts by their numbers.")
        return service.bulk_change_status(
            session, actor=actor, post_ids=ids, status=status, reason=reason
        )

    return _console_action(request, session, user, csrf_token, back, "bulk", act, checked=ids)


@router.post("/console/merge", response_class=HTMLResponse)
def console_merge(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    source_id: FormStr = "",
    target_id: FormStr = "",
    back: FormStr = "/console",
) -> Response:
    def act(actor: User) -> object:
        return service.merge(
            session,
            actor=actor,
            source_id=_post_id(source_id),
            target_id=_post_id(target_id),
        )

    return _console_action(request, session, user, csrf_token, back, "merge", act)


@router.post("/console/unmerge", response_class=HTMLResponse)
def console_unmerge(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    source_id: FormStr = "",
    back: FormStr = "/console",
) -> Response:
    def act(actor: User) -> object:
        return service.undo_merge(session, actor=actor, source_id=_post_id(source_id))

    return _console_action(request, session, user, csrf_token, back, "unmerge", act)
