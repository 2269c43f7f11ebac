"""Banned accounts: a ban ends the account's browser sessions, and every later sign-in or API
token use is refused with the team's reason. The record of who banned whom is community's
(community.moderation), which calls these."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from canyu.accounts.models import User, WebSession
from canyu.accounts.service import require_team
from canyu.db import utcnow
from canyu.errors import Conflict, InvalidInput

MAX_REASON = 2000


def check_reason(reason: str) -> str:
    """A moderation reason: the person it concerns reads it, so it is never empty."""
    text = reason.strip()
    if not text:
        raise InvalidInput(
            "Give a reason; the person concerned reads it.", details={"field": "reason"}
        )
    if len(text) > MAX_REASON or "\x00" in text:
        raise InvalidInput(
            f"A reason has at most {MAX_REASON} characters and no NUL.", details={"field": "reason"}
        )
    return text


def ban(session: Session, *, actor: User, user: User, reason: str) -> User:
    require_team(actor)
    clean = check_reason(reason)
    if user.id == actor.id:
        raise Conflict("You cannot ban yourself.")
    if user.is_team:
        raise Conflict("Only friends' accounts can be banned; change a team member's role first.")
    if user.banned_at is not None:
        raise Conflict("This account is already banned.")
    user.banned_at = utcnow()
    user.ban_reason = clean
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def unban(session: Session, *, actor: User, user: User) -> User:
    require_team(actor)
    if user.banned_at is None:
        raise Conflict("This account is not banned.")
    user.banned_at = None
    user.ban_reason = None
    return user
