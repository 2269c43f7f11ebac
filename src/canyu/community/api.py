from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from canyu.accounts.deps import CurrentUser, MaybeUser, TeamUser
from canyu.accounts.schemas import UserOut
from canyu.community import digest, follows, moderation, notices, service
from canyu.community.credits import FORMULA
from canyu.community.models import Kind, Status
from canyu.community.schemas import (
    BulkStatusIn,
    CommentIn,
    CommentOut,
    DigestPreference,
    FollowOut,
    HonourOut,
    HonourRollOut,
    MarkRead,
    MergeIn,
    NotificationOut,
    PostIn,
    PostOut,
    SimilarOut,
    StatusChangeOut,
    StatusIn,
)
from canyu.community.similar import MAX_K, MAX_QUERY, SimilarPosts
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.i18n import gettext_for

router = APIRouter(prefix="/api/v1", tags=["feedback"])

PostId = Annotated[int, Path(ge=1, le=MAX_ID, description="A post's id.")]


def similar_index(request: Request) -> SimilarPosts:
    index: SimilarPosts = request.app.state.similar
    return index


@router.get("/feedback", response_model=list[PostOut])
def list_feedback(
    session: DbSession,
    sort: service.Sort = service.Sort.HOT,
    kind: Kind | None = None,
    status: Status | None = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    device_model: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> object:
    filters = service.PostFilters(
        kind=kind, status=status, language=language, device_model=device_model
    )
    return service.list_posts(session, sort=sort, filters=filters, limit=limit, offset=offset)


@router.post("/feedback", response_model=PostOut, status_code=status.HTTP_201_CREATED)
def submit_feedback(body: PostIn, user: CurrentUser, session: DbSession) -> object:
    return service.create_post(
        session,
        author=user,
        kind=body.kind,
        title=body.title,
        body=body.body,
        device_model=body.device_model,
        software_build=body.software_build,
        language=body.language,
    )


@router.get("/feedback/similar", response_model=list[SimilarOut])
def similar_feedback(
    request: Request,
    session: DbSession,
    q: Annotated[str, Query(max_length=MAX_QUERY, description="What the friend is typing.")],
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 5,
    exclude: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="A post id to leave out.")
    ] = None,
) -> object:
    """The closest existing posts, in any language, with scores."""
    found = similar_index(request).search(session, query=q, k=k, exclude=exclude)
    return [
        SimilarOut(
            post=PostOut.model_validate(s.post), score=s.score, likely_duplicate=s.likely_duplicate
        )
        for s in found
    ]


@router.get("/feedback/{post_id}", response_model=PostOut)
def get_feedback(post_id: PostId, user: MaybeUser, session: DbSession) -> object:
    return moderation.visible_post(session, post_id=post_id, viewer=user)


@router.put("/feedback/{post_id}/vote", response_model=PostOut)
def vote(post_id: PostId, user: CurrentUser, session: DbSession) -> object:
    """Vote for a post. Voting twice changes nothing."""
    return service.vote(session, user=user, post_id=post_id)


@router.delete("/feedback/{post_id}/vote", response_model=PostOut)
def unvote(post_id: PostId, user: CurrentUser, session: DbSession) -> object:
    """Take a vote back."""
    return service.unvote(session, user=user, post_id=post_id)


@router.get("/feedback/{post_id}/comments", response_model=list[CommentOut])
def list_comments(post_id: PostId, user: MaybeUser, session: DbSession) -> object:
    """Comments on the post and on the posts merged into it."""
    post = moderation.visible_post(session, post_id=post_id, viewer=user)
    return moderation.visible_comments(service.comments_for(session, post=post), user)


@router.post(
    "/feedback/{post_id}/comments", response_model=CommentOut, status_code=status.HTTP_201_CREATED
)
def add_comment(post_id: PostId, body: CommentIn, user: CurrentUser, session: DbSession) -> object:
    return service.add_comment(session, author=user, post_id=post_id, body=body.body)


@router.get("/feedback/{post_id}/history", response_model=list[StatusChangeOut])
def history(post_id: PostId, user: MaybeUser, session: DbSession) -> object:
    moderation.visible_post(session, post_id=post_id, viewer=user)
    return service.status_history(session, post_id=post_id)


@router.post("/feedback/{post_id}/status", response_model=PostOut)
def change_status(post_id: PostId, body: StatusIn, team: TeamUser, session: DbSession) -> object:
    """Move a post along the workflow (team only); author and voters are notified."""
    return service.change_status(
        session, actor=team, post_id=post_id, status=body.status, reason=body.reason
    )


@router.post("/feedback/bulk-status", response_model=list[PostOut])
def bulk_status(body: BulkStatusIn, team: TeamUser, session: DbSession) -> object:
    """Move several posts at once; all move or none does."""
    return service.bulk_change_status(
        session, actor=team, post_ids=body.post_ids, status=body.status, reason=body.reason
    )


@router.post("/feedback/{post_id}/merge", response_model=PostOut)
def merge(post_id: PostId, body: MergeIn, team: TeamUser, session: DbSession) -> object:
    """Merge this post into ``target_id`` as a duplicate; returns the target."""
    service.merge(session, actor=team, source_id=post_id, target_id=body.target_id)
    return service.get_post(session, post_id=body.target_id)


@router.delete("/feedback/{post_id}/merge", response_model=PostOut)
def undo_merge(post_id: PostId, team: TeamUser, session: DbSession) -> object:
    """Undo the merge of this post; returns the reopened post."""
    return service.undo_merge(session, actor=team, source_id=post_id)


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(
    user: CurrentUser,
    session: DbSession,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> object:
    _ = gettext_for(user.locale)
    found = service.list_notifications(session, user=user, unread_only=unread, limit=limit)
    return [
        NotificationOut(
            id=n.id,
            post_id=n.post_id,
            kind=n.kind,
            payload=n.payload,
            text=notices.describe(n.payload, _),
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in found
    ]


@router.post("/notifications/read")
def mark_read(body: MarkRead, user: CurrentUser, session: DbSession) -> dict[str, int]:
    return {"marked": service.mark_notifications_read(session, user=user, ids=body.ids)}


@router.get("/credits/honour-roll", response_model=HonourRollOut)
def honour_roll(
    session: DbSession, limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50
) -> object:
    entries = [
        HonourOut(
            user=UserOut.model_validate(e.user),
            points=e.contribution.points,
            posts_accepted=e.contribution.posts_accepted,
            posts_shipped=e.contribution.posts_shipped,
            early_votes=e.contribution.early_votes,
        )
        for e in service.honour_roll(session, limit=limit)
    ]
    return HonourRollOut(formula=FORMULA, entries=entries)


@router.put("/feedback/{post_id}/follow", response_model=FollowOut)
def follow(post_id: PostId, user: CurrentUser, session: DbSession) -> object:
    """Follow a post without voting: comments on it become notifications."""
    follows.follow(session, user=user, post=service.get_post(session, post_id=post_id))
    return FollowOut(post_id=post_id, following=True)


@router.delete("/feedback/{post_id}/follow", response_model=FollowOut)
def unfollow(post_id: PostId, user: CurrentUser, session: DbSession) -> object:
    """Stop following a post (also one's own)."""
    follows.unfollow(session, user=user, post=service.get_post(session, post_id=post_id))
    return FollowOut(post_id=post_id, following=False)


@router.get("/me/digest", response_model=DigestPreference)
def get_digest(user: CurrentUser, session: DbSession) -> object:
    return DigestPreference(enabled=digest.is_enabled(session, user=user))


@router.put("/me/digest", response_model=DigestPreference)
def put_digest(body: DigestPreference, user: CurrentUser, session: DbSession) -> object:
    """Turn the weekly email digest on or off."""
    digest.set_enabled(session, user=user, enabled=body.enabled)
    return body
