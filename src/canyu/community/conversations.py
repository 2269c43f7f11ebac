"""Private conversations with the team: one thread per post and friend, read only by that friend
and the team (never another friend: it is not a messenger between friends). The friend starts
one to send logs or a detail they would rather not post; the team starts one with the post's
author for a follow-up question. Each side is told when the other writes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community import moderation, service
from canyu.community.models import Post
from canyu.community.team_models import Conversation, ConversationMessage
from canyu.db import utcnow
from canyu.errors import Conflict, NotFound
from canyu.i18n import gettext_for
from canyu.mail import Email, queue_email

MAX_MESSAGE = 5_000
MAX_LIST = 100


def _thread(session: Session, *, post: Post, friend_id: int) -> Conversation:
    """The post's thread with this friend, made on first use (once, also under a race)."""
    query = select(Conversation).where(
        Conversation.post_id == post.id, Conversation.friend_id == friend_id
    )
    found = session.scalar(query)
    if found is not None:
        return found
    conversation = Conversation(post_id=post.id, friend_id=friend_id, created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        existing = session.scalar(query)
        assert existing is not None
        return existing
    return conversation


def start(
    session: Session, *, actor: User, post_id: int, body: str, friend_id: int | None = None
) -> Conversation:
    """Write on a post's private thread: a friend with the team, or the team with a friend (the
    post's author unless ``friend_id`` names another)."""
    post = moderation.visible_post(session, post_id=post_id, viewer=actor)
    if actor.is_team:
        friend = accounts.get_user(session, user_id=friend_id or post.author_id)
        if friend.is_team:
            raise Conflict("A conversation is between a friend and the team; choose a friend.")
    else:
        if friend_id not in (None, actor.id):
            raise NotFound("Friends talk privately with the team only.")
        friend = actor
    conversation = _thread(session, post=post, friend_id=friend.id)
    write(session, actor=actor, conversation=conversation, body=body)
    return conversation


def readable(session: Session, *, conversation_id: int, viewer: User) -> Conversation:
    """The thread, for its friend and the team; "no conversation" to anyone else."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or not (viewer.is_team or viewer.id == conversation.friend_id):
        raise NotFound(f"No conversation {conversation_id}.")
    return conversation


def reply(session: Session, *, actor: User, conversation_id: int, body: str) -> Conversation:
    conversation = readable(session, conversation_id=conversation_id, viewer=actor)
    write(session, actor=actor, conversation=conversation, body=body)
    return conversation


def write(
    session: Session, *, actor: User, conversation: Conversation, body: str
) -> ConversationMessage:
    text = service.clean_text(body, field="message", maximum=MAX_MESSAGE)
    post = service.get_post(session, post_id=conversation.post_id)
    now = utcnow()
    message = ConversationMessage(
        conversation_id=conversation.id, author_id=actor.id, body=text, created_at=now
    )
    session.add(message)
    conversation.last_message_at = now
    conversation.awaiting_team = not actor.is_team
    _notify(session, actor=actor, conversation=conversation, post=post)
    session.flush()
    return message


def _notify(session: Session, *, actor: User, conversation: Conversation, post: Post) -> None:
    """The friend hears from the team (in canyu and by email); team members who have written in
    the thread hear the friend's answer. A first message from a friend waits in the team's
    inbox (awaiting_team) rather than notifying everyone on the team."""
    if actor.is_team:
        recipients = [conversation.friend_id]
    else:
        recipients = sorted(
            set(
                session.scalars(
                    select(ConversationMessage.author_id).where(
                        ConversationMessage.conversation_id == conversation.id,
                        ConversationMessage.author_id != actor.id,
                    )
                )
            )
        )
    for user_id in recipients:
        service.tell(
            session,
            user_id=user_id,
            posts=[post],
            event="conversation",
            conversation_id=conversation.id,
            by=actor.display_name,
            from_team=actor.is_team,
        )
    if actor.is_team:
        friend = accounts.get_user(session, user_id=conversation.friend_id)
        _ = gettext_for(friend.locale)
        queue_email(
            session,
            Email(
                to=friend.email,
                subject=_("canyu: the team wrote to you about “{title}”").format(title=post.title),
                body=_("Read and answer privately: {path}").format(
                    path=f"/conversations/{conversation.id}"
                ),
            ),
        )


def messages(session: Session, *, conversation: Conversation) -> list[ConversationMessage]:
    query = (
        select(ConversationMessage)
        .where(ConversationMessage.conversation_id == conversation.id)
        .order_by(ConversationMessage.created_at, ConversationMessage.id)
    )
    return list(session.scalars(query))


def inbox(session: Session, *, viewer: User, limit: int = MAX_LIST) -> list[Conversation]:
    """A friend's own threads; for the team every thread, those awaiting an answer first."""
    query = select(Conversation)
    if viewer.is_team:
        query = query.order_by(
            Conversation.awaiting_team.desc(), Conversation.last_message_at.desc()
        )
    else:
        query = query.where(Conversation.friend_id == viewer.id).order_by(
            Conversation.last_message_at.desc()
        )
    return list(session.scalars(query.limit(limit)))


def on_post(session: Session, *, post: Post, viewer: User | None) -> list[Conversation]:
    """The threads on this post the viewer may read (the friend's own; the team's all)."""
    if viewer is None:
        return []
    query = select(Conversation).where(Conversation.post_id == post.id)
    if not viewer.is_team:
        query = query.where(Conversation.friend_id == viewer.id)
    return list(session.scalars(query.order_by(Conversation.last_message_at.desc())))


def awaiting_count(session: Session) -> int:
    query = select(func.count()).where(Conversation.awaiting_team.is_(True))
    return int(session.scalar(query) or 0)


def posts_of(session: Session, conversations: list[Conversation]) -> dict[int, Post]:
    ids = {c.post_id for c in conversations}
    return {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(ids)))}
