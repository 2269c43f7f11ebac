"""The friends' portal and the team console, server-rendered; the rules stay in ``service``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel import Locale
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.deps import MailLinks, MaybeUser
from canyu.accounts.models import User
from canyu.community import (
    attachments,
    credits,
    digest,
    follows,
    moderation,
    notices,
    post_extras,
    service,
    uploads,
    workflow,
)
from canyu.community.language import SUPPORTED as SUPPORTED_LANGUAGES
from canyu.community.models import Kind, Post, Status
from canyu.community.similar import MAX_QUERY, SimilarPost, SimilarPosts
from canyu.deps import DbSession, RowId
from canyu.errors import CanyuError, InvalidInput
from canyu.i18n import Gettext
from canyu.web.csrf import check_csrf
from canyu.web.flash import flash
from canyu.web.forms import FormStr, gettext_of, here, redirect, safe_next, signin_redirect
from canyu.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
Screenshots = Annotated[list[UploadFile], File()]

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
    "message": "Write a message (up to 5,000 characters).",
}
DONE_MESSAGES = {
    "status": "Status changed; the author and voters were notified.",
    "bulk": "Statuses changed; the authors and voters were notified.",
    "merge": "Merged as a duplicate; its voters now count for the target.",
    "unmerge": "Merge undone; the post is open again.",
}
# Confirmations shown once on the page a form leads to (canyu.web.flash).
FLASH_MESSAGES = {
    "posted": "Thanks! Your post is up; you follow it and will hear about every comment.",
    "commented": "Your comment is posted.",
    "voted": "Thanks, your vote counts.",
    "unvoted": "Your vote was taken back.",
    "followed": "You follow this post: comments on it will show in your notifications.",
    "unfollowed": "You no longer follow this post.",
    "digest_on": "The weekly digest is on.",
    "digest_off": "The weekly digest is off.",
}
# Search results: the similar-posts index's closest posts, as many as it gives at once.
SEARCH_RESULTS = 50
MAX_SEARCH = 200
# A search hit is shown when it scores at least this, and at least this share of the best
# hit's score: the index's scores vary with the query (a one-word query's best may be 0.3, a
# sentence's 0.8), and what scores under half the best shares little with the words asked for.
MIN_SEARCH_SCORE = 0.1
SEARCH_SHARE_OF_BEST = 0.5
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
    sort: str = "hot",
    kind: str = "",
    status: str = "",
    language: str = "",
    device: str = "",
    page: str = "1",
    q: str = "",
) -> Response:
    chosen_sort = _parse_enum(service.Sort, sort) or service.Sort.HOT
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
    query = q.strip()[:MAX_SEARCH].replace("\x00", "")
    if query:
        found = _search(request, session, query, filters)
        number = 1
    else:
        found = service.list_posts(
            session,
            sort=chosen_sort,
            filters=filters,
            limit=PAGE_SIZE + 1,
            offset=(number - 1) * PAGE_SIZE,
        )
    posts = found[:PAGE_SIZE] if not query else found
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
        "query": query,
        "filtered": any(v for k, v in current.items() if k != "sort"),
        "tabs": [(s.value, _url("/", current | {"sort": s.value})) for s in service.Sort],
        "page": number,
        "prev_url": _url("/", current | {"page": number - 1}) if number > 1 else None,
        "next_url": (
            _url("/", current | {"page": number + 1})
            if len(found) > PAGE_SIZE and not query
            else None
        ),
        "languages": sorted(SUPPORTED_LANGUAGES),
        "device_models": service.device_models(session),
    }
    return _page(request, session, user, "index.html", context)


def _search(
    request: Request, session: Session, query: str, filters: service.PostFilters
) -> list[Post]:
    """The feedback list searched in any language: the similar-posts index's closest posts,
    most relevant first (a merged duplicate found stands for its canonical post), filtered."""
    hits = _similar(request).search(session, query=query, k=SEARCH_RESULTS)

    def wanted(post: Post) -> bool:
        return (
            (filters.kind is None or post.kind == filters.kind.value)
            and (filters.status is None or post.status == filters.status.value)
            and (filters.language is None or post.language == filters.language)
            and (filters.device_model is None or post.device_model == filters.device_model)
        )

    floor = max(MIN_SEARCH_SCORE, SEARCH_SHARE_OF_BEST * max((h.score for h in hits), default=0))
    return [h.post for h in hits if h.score >= floor and wanted(h.post)]


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
    comments = moderation.visible_comments(service.comments_for(session, post=post), user)
    origins = {
        c.post_id: service.get_post(session, post_id=c.post_id)
        for c in comments
        if c.post_id != post.id
    }
    context = {
        "post": post,
        "voted": post.id in _voted(session, user, [post]),
        "following": user is not None and follows.is_following(session, user=user, post=post),
        "canonical": service.canonical(session, post=post) if post.duplicate_of_id else None,
        "history": service.status_history(session, post_id=post.id),
        "merged_here": service.merged_into(session, post_id=post.id),
        "comments": comments,
        "origins": origins,
        "comment_body": comment_body,
        "comment_error": comment_error,
    }
    context |= post_extras.context(session, post=post, viewer=user, comments=comments)
    return _page(request, session, user, "post.html", context, status_code=status_code)


@router.get("/posts/{post_id}", response_class=HTMLResponse)
def post_page(post_id: RowId, request: Request, session: DbSession, user: MaybeUser) -> Response:
    post = moderation.visible_post(session, post_id=post_id, viewer=user)
    return _post_view(request, session, user, post)


def _vote_action(
    request: Request,
    session: Session,
    user: User | None,
    post_id: int,
    csrf_token: str,
    next_url: str,
    action: Callable[..., Post],
    done: str,
) -> Response:
    check_csrf(request, csrf_token)
    back = safe_next(next_url, f"/posts/{post_id}")
    if user is None:
        return signin_redirect(back)
    action(session, user=user, post_id=post_id)
    session.commit()
    return flash(request, redirect(back), FLASH_MESSAGES[done])


@router.post("/posts/{post_id}/vote")
def vote(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    next: FormStr = "",
) -> Response:
    return _vote_action(request, session, user, post_id, csrf_token, next, service.vote, "voted")


@router.post("/posts/{post_id}/unvote")
def unvote(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    next: FormStr = "",
) -> Response:
    return _vote_action(
        request, session, user, post_id, csrf_token, next, service.unvote, "unvoted"
    )


@router.post("/posts/{post_id}/comments", response_class=HTMLResponse)
def comment(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    body: FormStr = "",
    screenshots: Screenshots = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/posts/{post_id}")
    try:
        created = service.add_comment(session, author=user, post_id=post_id, body=body)
        attachments.attach(
            session,
            uploader=user,
            post=service.get_post(session, post_id=post_id),
            comment=created,
            files=uploads.read(screenshots),
        )
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
    response = redirect(f"/posts/{post_id}#comment-{created.id}")
    return flash(request, response, FLASH_MESSAGES["commented"])


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
    screenshots: Screenshots = [],  # noqa: B006 - FastAPI copies defaults
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
        attachments.attach(session, uploader=user, post=post, files=uploads.read(screenshots))
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
    return flash(request, redirect(f"/posts/{post.id}"), FLASH_MESSAGES["posted"])


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


# --- following, and the email digest -----------------------------------------------------------


def _follow_action(
    request: Request,
    session: Session,
    user: User | None,
    post_id: int,
    csrf_token: str,
    following: bool,
) -> Response:
    check_csrf(request, csrf_token)
    back = f"/posts/{post_id}"
    if user is None:
        return signin_redirect(back)
    post = service.get_post(session, post_id=post_id)
    (follows.follow if following else follows.unfollow)(session, user=user, post=post)
    session.commit()
    done = "followed" if following else "unfollowed"
    return flash(request, redirect(back), FLASH_MESSAGES[done])


@router.post("/posts/{post_id}/follow")
def follow(
    post_id: RowId, request: Request, session: DbSession, user: MaybeUser, csrf_token: FormStr = ""
) -> Response:
    return _follow_action(request, session, user, post_id, csrf_token, True)


@router.post("/posts/{post_id}/unfollow")
def unfollow(
    post_id: RowId, request: Request, session: DbSession, user: MaybeUser, csrf_token: FormStr = ""
) -> Response:
    return _follow_action(request, session, user, post_id, csrf_token, False)


@router.post("/profile/digest")
def digest_setting(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    enabled: Annotated[bool, Form()] = False,
) -> Response:
    """The profile's digest switch; an unchecked box is not sent, so absent means off."""
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect("/profile")
    digest.set_enabled(session, user=user, enabled=enabled)
    session.commit()
    message = FLASH_MESSAGES["digest_on" if enabled else "digest_off"]
    return flash(request, redirect("/profile"), message)


@router.get("/digest/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(
    request: Request, session: DbSession, user: MaybeUser, links: MailLinks, token: str = ""
) -> Response:
    """The digest's link: a button to confirm, signed in or not (mail scanners open links, so
    opening it changes nothing)."""
    owner = digest.unsubscribe_owner(session, links=links, token=token)
    context = {"token": token, "email": owner.email, "done": False}
    return _page(request, session, user, "unsubscribe.html", context)


@router.post("/digest/unsubscribe", response_class=HTMLResponse)
def unsubscribe(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    links: MailLinks,
    token: FormStr = "",
) -> Response:
    """Turn the digest off. The signed token is the credential, so no CSRF token is asked for:
    mail apps' one-click unsubscribe (RFC 8058) posts here with the link's token alone."""
    link_token = token or request.query_params.get("token", "")
    owner = digest.unsubscribe_owner(session, links=links, token=link_token)
    digest.set_enabled(session, user=owner, enabled=False)
    session.commit()
    context = {"token": link_token, "email": owner.email, "done": True}
    return _page(request, session, user, "unsubscribe.html", context)
