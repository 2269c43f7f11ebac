"""The API of moderation, screenshots and private conversations with the team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile, status
from sqlalchemy.orm import Session

from canyu.accounts.deps import CurrentUser, MaybeUser, TeamUser
from canyu.accounts.schemas import UserOut
from canyu.community import attachments, conversations, moderation, service, uploads
from canyu.community.team_models import Attachment, Conversation
from canyu.community.team_schemas import (
    ActionOut,
    AttachmentOut,
    BanOut,
    ConversationDetailOut,
    ConversationOut,
    FlagOut,
    MessageIn,
    MessageOut,
    ModeratedOut,
    ModerateIn,
    QueueItemOut,
    ReasonIn,
    ReportIn,
    ReviewIn,
    StartIn,
)
from canyu.db import MAX_ID
from canyu.deps import DbSession

router = APIRouter(prefix="/api/v1", tags=["moderation and conversations"])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Kind = Annotated[str, Path(pattern="^(post|comment)$")]
Screenshots = Annotated[list[UploadFile], File(description="PNG, JPEG or WebP screenshots.")]


def screenshot_url(attachment_id: int) -> str:
    return f"/screenshots/{attachment_id}"


def _attachment_out(rows: list[Attachment]) -> list[AttachmentOut]:
    return [
        AttachmentOut(
            id=a.id,
            post_id=a.post_id,
            comment_id=a.comment_id,
            content_type=a.content_type,
            width=a.width,
            height=a.height,
            size=a.size,
            created_at=a.created_at,
            url=screenshot_url(a.id),
        )
        for a in rows
    ]


# --- moderation --------------------------------------------------------------------------------


@router.post("/moderation/posts/{post_id}", response_model=ModeratedOut)
def moderate_post(post_id: Id, body: ModerateIn, team: TeamUser, session: DbSession) -> object:
    """Edit, hide, delete or restore a post, with a reason its author reads."""
    return moderation.moderate_post(
        session,
        actor=team,
        post_id=post_id,
        action=body.action,
        reason=body.reason,
        title=body.title,
        body=body.body,
    )


@router.post("/moderation/comments/{comment_id}", response_model=ModeratedOut)
def moderate_comment(
    comment_id: Id, body: ModerateIn, team: TeamUser, session: DbSession
) -> object:
    """Edit, hide, delete or restore a comment, with a reason its author reads."""
    return moderation.moderate_comment(
        session,
        actor=team,
        comment_id=comment_id,
        action=body.action,
        reason=body.reason,
        body=body.body,
    )


@router.post("/moderation/users/{user_id}/ban", response_model=BanOut)
def ban(user_id: Id, body: ReasonIn, team: TeamUser, session: DbSession) -> object:
    """Ban a friend's account: sign-in and API tokens are refused with the reason."""
    return moderation.ban_account(session, actor=team, user_id=user_id, reason=body.reason)


@router.post("/moderation/users/{user_id}/unban", response_model=BanOut)
def unban(user_id: Id, body: ReasonIn, team: TeamUser, session: DbSession) -> object:
    return moderation.unban_account(session, actor=team, user_id=user_id, reason=body.reason)


@router.get("/moderation/queue", response_model=list[QueueItemOut])
def spam_queue(team: TeamUser, session: DbSession) -> object:
    """Reported posts and comments (by friends or the spam rule), most reported first."""
    return [
        QueueItemOut(
            kind=item.kind,
            target_id=item.target_id,
            post_id=item.post.id,
            author=UserOut.model_validate(item.author),
            text=item.text,
            reports=[FlagOut.model_validate(f) for f in item.flags],
        )
        for item in moderation.queue(session, actor=team)
    ]


@router.post("/moderation/queue/{kind}/{target_id}")
def review(
    kind: Kind, target_id: Id, body: ReviewIn, team: TeamUser, session: DbSession
) -> dict[str, int]:
    """Dismiss the reports, or hide or delete what they report; every open report closes."""
    closed = moderation.review(
        session,
        actor=team,
        kind=kind,
        target_id=target_id,
        decision=body.decision,
        reason=body.reason,
    )
    return {"closed": closed}


@router.get("/moderation/log", response_model=list[ActionOut])
def moderation_log(
    team: TeamUser,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> object:
    """Every moderation step: who, when, what, why."""
    return moderation.history(session, limit=limit)


@router.post(
    "/feedback/{post_id}/report", response_model=FlagOut, status_code=status.HTTP_201_CREATED
)
def report_post(post_id: Id, body: ReportIn, user: CurrentUser, session: DbSession) -> object:
    """Report a post as spam; the team reviews it."""
    return moderation.report(
        session, reporter=user, kind="post", target_id=post_id, reason=body.reason
    )


@router.post(
    "/comments/{comment_id}/report", response_model=FlagOut, status_code=status.HTTP_201_CREATED
)
def report_comment(comment_id: Id, body: ReportIn, user: CurrentUser, session: DbSession) -> object:
    return moderation.report(
        session, reporter=user, kind="comment", target_id=comment_id, reason=body.reason
    )


# --- screenshots -------------------------------------------------------------------------------


@router.get("/feedback/{post_id}/screenshots", response_model=list[AttachmentOut])
def list_screenshots(post_id: Id, user: MaybeUser, session: DbSession) -> object:
    """The post's and its readable comments' screenshots; each ``url`` serves the image."""
    post = moderation.visible_post(session, post_id=post_id, viewer=user)
    grouped = attachments.on_post(session, post=post)
    readable = {
        c.id for c in moderation.visible_comments(service.comments_for(session, post=post), user)
    }
    rows = [a for key, found in grouped.items() if key is None or key in readable for a in found]
    return _attachment_out(sorted(rows, key=lambda a: a.id))


@router.post(
    "/feedback/{post_id}/screenshots",
    response_model=list[AttachmentOut],
    status_code=status.HTTP_201_CREATED,
)
def add_post_screenshots(
    post_id: Id, files: Screenshots, user: CurrentUser, session: DbSession
) -> object:
    """Add screenshots to one's post (the team: to any); EXIF and location are removed."""
    post = moderation.visible_post(session, post_id=post_id, viewer=user)
    rows = attachments.attach(session, uploader=user, post=post, files=uploads.read(files))
    return _attachment_out(rows)


@router.post(
    "/comments/{comment_id}/screenshots",
    response_model=list[AttachmentOut],
    status_code=status.HTTP_201_CREATED,
)
def add_comment_screenshots(
    comment_id: Id, files: Screenshots, user: CurrentUser, session: DbSession
) -> object:
    comment = moderation.get_comment(session, comment_id=comment_id)
    post = moderation.visible_post(session, post_id=comment.post_id, viewer=user)
    rows = attachments.attach(
        session, uploader=user, post=post, comment=comment, files=uploads.read(files)
    )
    return _attachment_out(rows)


# --- conversations with the team -------------------------------------------------------------


def _detail(session: Session, conversation: Conversation) -> ConversationDetailOut:
    return ConversationDetailOut(
        **ConversationOut.model_validate(conversation).model_dump(),
        messages=[
            MessageOut.model_validate(m)
            for m in conversations.messages(session, conversation=conversation)
        ],
    )


@router.get("/conversations", response_model=list[ConversationOut])
def list_conversations(user: CurrentUser, session: DbSession) -> object:
    """A friend's private threads with the team; the team sees all, awaiting answers first."""
    return conversations.inbox(session, viewer=user)


@router.post(
    "/feedback/{post_id}/conversation",
    response_model=ConversationDetailOut,
    status_code=status.HTTP_201_CREATED,
)
def start_conversation(post_id: Id, body: StartIn, user: CurrentUser, session: DbSession) -> object:
    """Write privately about a post: a friend to the team, or the team to a friend."""
    conversation = conversations.start(
        session, actor=user, post_id=post_id, body=body.body, friend_id=body.friend_id
    )
    return _detail(session, conversation)


@router.get("/conversations/{conversation_id}", response_model=ConversationDetailOut)
def get_conversation(conversation_id: Id, user: CurrentUser, session: DbSession) -> object:
    conversation = conversations.readable(session, conversation_id=conversation_id, viewer=user)
    return _detail(session, conversation)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=ConversationDetailOut,
    status_code=status.HTTP_201_CREATED,
)
def reply(conversation_id: Id, body: MessageIn, user: CurrentUser, session: DbSession) -> object:
    conversation = conversations.reply(
        session, actor=user, conversation_id=conversation_id, body=body.body
    )
    return _detail(session, conversation)
