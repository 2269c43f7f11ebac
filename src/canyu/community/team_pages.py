"""Pages of moderation (the team's forms on posts and comments, the moderation console with the
spam queue, bans and the record), screenshots, and private conversations with the team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.community import attachments, conversations, moderation
from canyu.community.pages import error_text
from canyu.deps import DbSession, RowId
from canyu.errors import InvalidInput
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, gettext_of, here, redirect, safe_next, signin_redirect
from canyu.web.templating import render

router = APIRouter(include_in_schema=False)

# A screenshot's bytes never change (a new one gets a new id); whether the viewer may still see
# it can (the team hides a post), so only the viewer's own browser keeps it, and not for long.
SCREENSHOT_CACHE = "private, max-age=3600"
DONE = {
    "moderated": "Done; the author was told, and the step is in the moderation record.",
    "reported": "Thank you; the team will review it.",
    "reviewed": "Reviewed; the reports are closed.",
    "banned": "Account banned; they were told why by email.",
    "unbanned": "Account unbanned.",
}


def _int(value: str, what: str) -> int:
    text = value.strip().lstrip("#")
    if not (text.isdigit() and len(text) < 11):
        raise InvalidInput(f"Give the {what} by its number, e.g. 42.")
    return int(text)


def _act(
    request: Request,
    session: Session,
    user: User | None,
    csrf_token: str,
    back: str,
    action: Callable[[User], object],
    *,
    team: bool,
) -> Response:
    """Run one form's action and go back; a refusal shows the error page with the reason."""
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(back)
    if team:
        accounts.require_team(user)
    action(user)
    session.commit()
    return redirect(back)


# --- screenshots ---------------------------------------------------------------------------------


@router.get("/screenshots/{attachment_id}")
def screenshot(
    attachment_id: RowId,
    session: DbSession,
    user: MaybeUser,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    found = attachments.readable(session, attachment_id=attachment_id, viewer=user)
    headers = {
        "Cache-Control": SCREENSHOT_CACHE,
        "ETag": f'"{found.sha256}"',
        "Content-Disposition": f'inline; filename="screenshot-{found.id}.{found.content_type[6:]}"',
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if if_none_match == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(found.data, media_type=found.content_type, headers=headers)


# --- moderation on a post's page --------------------------------------------------------------


@router.post("/posts/{post_id}/moderate")
def moderate_post(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    action: FormStr = "",
    reason: FormStr = "",
    title: FormStr = "",
    body: FormStr = "",
) -> Response:
    def act(actor: User) -> object:
        return moderation.moderate_post(
            session,
            actor=actor,
            post_id=post_id,
            action=action,
            reason=reason,
            title=title or None,
            body=body or None,
        )

    back = f"/posts/{post_id}?done=moderated"
    return _act(request, session, user, csrf_token, back, act, team=True)


@router.post("/comments/{comment_id}/moderate")
def moderate_comment(
    comment_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    action: FormStr = "",
    reason: FormStr = "",
    body: FormStr = "",
    next: FormStr = "",
) -> Response:
    def act(actor: User) -> object:
        return moderation.moderate_comment(
            session,
            actor=actor,
            comment_id=comment_id,
            action=action,
            reason=reason,
            body=body or None,
        )

    back = safe_next(next, "/console/moderation")
    return _act(request, session, user, csrf_token, back, act, team=True)


@router.post("/posts/{post_id}/report")
def report_post(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    reason: FormStr = "",
) -> Response:
    def act(reporter: User) -> object:
        return moderation.report(
            session, reporter=reporter, kind="post", target_id=post_id, reason=reason
        )

    back = f"/posts/{post_id}?done=reported"
    return _act(request, session, user, csrf_token, back, act, team=False)


@router.post("/comments/{comment_id}/report")
def report_comment(
    comment_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    reason: FormStr = "",
    next: FormStr = "",
) -> Response:
    def act(reporter: User) -> object:
        return moderation.report(
            session, reporter=reporter, kind="comment", target_id=comment_id, reason=reason
        )

    return _act(request, session, user, csrf_token, safe_next(next), act, team=False)


# --- the moderation console ----------------------------------------------------------------------


@router.get("/console/moderation", response_class=HTMLResponse)
def moderation_console(
    request: Request, session: DbSession, user: MaybeUser, done: str = ""
) -> Response:
    if user is None:
        return signin_redirect(here(request))
    context = {
        "queue": moderation.queue(session, actor=user),
        "banned": moderation.banned_accounts(session),
        "log": moderation.history(session, limit=50),
        "done": DONE.get(done),
    }
    return render(request, "community/moderation.html", context, user=user)


@router.post("/console/moderation/review")
def review(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    kind: FormStr = "",
    target_id: FormStr = "",
    decision: FormStr = "",
    reason: FormStr = "",
) -> Response:
    def act(actor: User) -> object:
        return moderation.review(
            session,
            actor=actor,
            kind=kind,
            target_id=_int(target_id, kind or "post"),
            decision=decision,
            reason=reason,
        )

    back = "/console/moderation?done=reviewed"
    return _act(request, session, user, csrf_token, back, act, team=True)


def _account_action(
    request: Request,
    session: Session,
    user: User | None,
    csrf_token: str,
    user_id: str,
    reason: str,
    *,
    ban: bool,
) -> Response:
    step = moderation.ban_account if ban else moderation.unban_account

    def act(actor: User) -> object:
        return step(session, actor=actor, user_id=_int(user_id, "account"), reason=reason)

    back = f"/console/moderation?done={'banned' if ban else 'unbanned'}"
    return _act(request, session, user, csrf_token, back, act, team=True)


@router.post("/console/moderation/ban")
def ban(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    user_id: FormStr = "",
    reason: FormStr = "",
) -> Response:
    return _account_action(request, session, user, csrf_token, user_id, reason, ban=True)


@router.post("/console/moderation/unban")
def unban(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    user_id: FormStr = "",
    reason: FormStr = "",
) -> Response:
    return _account_action(request, session, user, csrf_token, user_id, reason, ban=False)


# --- conversations with the team --------------------------------------------------------------


@router.get("/conversations", response_class=HTMLResponse)
def inbox(request: Request, session: DbSession, user: MaybeUser) -> Response:
    if user is None:
        return signin_redirect("/conversations")
    threads = conversations.inbox(session, viewer=user)
    context = {"threads": threads, "posts": conversations.posts_of(session, threads)}
    return render(request, "community/conversations.html", context, user=user)


def _thread_view(
    request: Request,
    session: Session,
    user: User,
    conversation_id: int,
    *,
    draft: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    conversation = conversations.readable(session, conversation_id=conversation_id, viewer=user)
    context = {
        "conversation": conversation,
        "post": moderation.visible_post(session, post_id=conversation.post_id, viewer=user),
        "messages": conversations.messages(session, conversation=conversation),
        "draft": draft,
        "error": error,
    }
    return render(
        request, "community/conversation.html", context, user=user, status_code=status_code
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
def thread(
    conversation_id: RowId, request: Request, session: DbSession, user: MaybeUser
) -> Response:
    if user is None:
        return signin_redirect(f"/conversations/{conversation_id}")
    return _thread_view(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/messages", response_class=HTMLResponse)
def reply(
    conversation_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    body: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/conversations/{conversation_id}")
    try:
        conversations.reply(session, actor=user, conversation_id=conversation_id, body=body)
        session.commit()
    except InvalidInput as exc:
        session.rollback()
        return _thread_view(
            request,
            session,
            user,
            conversation_id,
            draft=body,
            error=error_text(exc, gettext_of(request, user)),
            status_code=exc.status_code,
        )
    return redirect(f"/conversations/{conversation_id}#latest")


@router.post("/posts/{post_id}/conversation")
def start(
    post_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    body: FormStr = "",
    friend_id: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/posts/{post_id}")
    conversation = conversations.start(
        session,
        actor=user,
        post_id=post_id,
        body=body,
        friend_id=_int(friend_id, "friend") if friend_id.strip() else None,
    )
    session.commit()
    return redirect(f"/conversations/{conversation.id}#latest")
