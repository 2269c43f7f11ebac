"""The mail an account gets: a welcome with a link to confirm the address, the confirmation
again on request, and a link to reset a forgotten password; and what following the links does.

Links name ``CANYU_BASE_URL`` (canyu.accounts.tokens.Links). Mail leaves only when the
transaction commits (canyu.mail).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from canyu.accounts import service
from canyu.accounts.models import User, WebSession
from canyu.accounts.tokens import Links, Purpose, redeem
from canyu.db import utcnow
from canyu.i18n import gettext_for
from canyu.mail import Email, queue_email

VERIFY_PATH = "/verify-email"
RESET_PATH = "/password/reset"


def send_welcome(session: Session, *, user: User, links: Links) -> None:
    """After sign-up: welcome, and the link that confirms the address."""
    _ = gettext_for(user.locale)
    url = links.url(VERIFY_PATH, Purpose.VERIFY, user)
    body = _(
        "Hello {name},\n\n"
        "Welcome to canyu: friends building a phone together. Report bugs, propose ideas and "
        "vote for what matters; the team ships new software every week from what you write.\n\n"
        "Please confirm your email address with this link (it works for 7 days):\n{link}\n\n"
        "If you did not sign up, ignore this email."
    ).format(name=user.display_name, link=url)
    subject = _("Welcome to canyu, {name}").format(name=user.display_name)
    queue_email(session, Email(to=user.email, subject=subject, body=body))


def send_verification(session: Session, *, user: User, links: Links) -> bool:
    """The confirmation link again; False (and no mail) when the address is confirmed."""
    if user.email_verified_at is not None:
        return False
    _ = gettext_for(user.locale)
    url = links.url(VERIFY_PATH, Purpose.VERIFY, user)
    body = _(
        "Please confirm your email address for canyu with this link (it works for 7 days):\n"
        "{link}\n\nIf you did not ask for it, ignore this email."
    ).format(link=url)
    subject = _("canyu: confirm your email address")
    queue_email(session, Email(to=user.email, subject=subject, body=body))
    return True


def confirm_email(session: Session, *, links: Links, token: str) -> User:
    user = redeem(session, links.secret_key, Purpose.VERIFY, token)
    user.email_verified_at = utcnow()
    return user


def request_password_reset(session: Session, *, email: str, links: Links) -> None:
    """Mail a reset link when an account has this address; say nothing either way, so that
    nobody learns from the answer (or its timing: mail leaves after the response) who has an
    account."""
    if "\x00" in email:
        return
    user = session.scalar(select(User).where(User.email == service.normalise_email(email)))
    if user is None:
        return
    _ = gettext_for(user.locale)
    url = links.url(RESET_PATH, Purpose.RESET, user)
    body = _(
        "Someone, hopefully you, asked to reset the password of your canyu account.\n\n"
        "Choose a new password with this link within an hour:\n{link}\n\n"
        "If it was not you, ignore this email: your password stays as it is."
    ).format(link=url)
    subject = _("canyu: reset your password")
    queue_email(session, Email(to=user.email, subject=subject, body=body))


def check_reset_token(session: Session, *, links: Links, token: str) -> User:
    return redeem(session, links.secret_key, Purpose.RESET, token)


def reset_password(session: Session, *, links: Links, token: str, password: str) -> User:
    """Set a new password from a reset link: every browser signed in is signed out, and the
    address is confirmed (the link reached it)."""
    user = redeem(session, links.secret_key, Purpose.RESET, token)
    service.check_password(password)
    user.password_hash = service.hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user
