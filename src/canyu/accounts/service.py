"""Account rules: sign-up, sign-in, web sessions, API tokens, profiles."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from babel import Locale
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts.models import ApiToken, Role, User, WebSession
from canyu.db import utcnow
from canyu.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized

SUPPORTED_LOCALES = ("en", "zh")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOKEN_PREFIX = "cy_"  # noqa: S105 (a public prefix, not a secret)
_TOKEN_RE = re.compile(r"^cy_[A-Za-z0-9_-]{43}$")
_COUNTRIES = frozenset(
    str(code) for code in Locale("en").territories if re.fullmatch(r"[A-Z]{2}", str(code))
)

_hasher = PasswordHasher()


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        message = f"Not a valid email address: {exc}"
        raise InvalidInput(message, details={"field": "email"}) from None


def _no_nul(value: str, *, field: str) -> None:
    # PostgreSQL cannot store NUL in text; refuse it on every backend alike.
    if "\x00" in value:
        raise InvalidInput(f"The {field} contains a NUL character.", details={"field": field})


def check_display_name(display_name: str) -> str:
    name = display_name.strip()
    if not 1 <= len(name) <= 80:
        raise InvalidInput(
            "A display name has 1 to 80 characters.", details={"field": "display_name"}
        )
    _no_nul(name, field="display_name")
    return name


def check_country(country: str) -> str:
    code = country.strip().upper()
    if code not in _COUNTRIES:
        raise InvalidInput(
            f"Unknown country code {country!r}; use ISO 3166 alpha-2, e.g. CN or IN."
        )
    return code


def check_locale(locale: str) -> str:
    if locale not in SUPPORTED_LOCALES:
        raise InvalidInput(f"Unsupported locale {locale!r}; choose one of {SUPPORTED_LOCALES}.")
    return locale


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"A password has {MIN_PASSWORD} to {MAX_PASSWORD} characters.",
            details={"field": "password"},
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    locale: str = "en",
    country: str = "CN",
    role: Role = Role.FRIEND,
    password_hash: str | None = None,
) -> User:
    """Create an account. ``password_hash`` lets bulk loaders reuse one hash (demo data)."""
    check_password(password)
    name = check_display_name(display_name)
    _no_nul(email, field="email")
    user = User(
        email=check_email(email),
        password_hash=password_hash or hash_password(password),
        display_name=name,
        locale=check_locale(locale),
        country=check_country(country),
        role=Role(role).value,
    )
    try:
        # A savepoint, so a taken email undoes only this insert, not the caller's other work.
        with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise Conflict("An account with this email already exists.") from exc
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    failure = Unauthorized("Wrong email or password.")
    if "\x00" in email:
        raise failure
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        # Spend the same time as a real check so response times do not reveal accounts.
        _hasher.hash(password[:MAX_PASSWORD])
        raise failure
    try:
        _hasher.verify(user.password_hash, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        raise failure from None
    refuse_banned(user)  # told only to whoever knows the password
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def refuse_banned(user: User) -> None:
    """A banned account is told why (canyu.accounts.bans), whatever it tries."""
    if user.banned_at is not None:
        raise Forbidden(
            "This account was banned by the team.", details={"ban_reason": user.ban_reason or ""}
        )


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def set_role(session: Session, *, user: User, role: Role) -> User:
    user.role = Role(role).value
    return user


def update_profile(
    session: Session,
    *,
    user: User,
    display_name: str | None = None,
    locale: str | None = None,
    country: str | None = None,
) -> User:
    if display_name is not None:
        user.display_name = check_display_name(display_name)
    if locale is not None:
        user.locale = check_locale(locale)
    if country is not None:
        user.country = check_country(country)
    return user


def start_web_session(session: Session, *, user: User, days: int) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_sha256(raw), user_id=user.id, expires_at=utcnow() + timedelta(days=days)
        )
    )
    return raw


def user_for_web_session(session: Session, *, raw_token: str) -> User | None:
    web_session = session.scalar(
        select(WebSession).where(WebSession.token_hash == _sha256(raw_token))
    )
    if web_session is None or web_session.expires_at <= utcnow():
        return None
    if web_session.user.banned_at is not None:
        return None
    return web_session.user


def end_web_session(session: Session, *, raw_token: str) -> None:
    web_session = session.scalar(
        select(WebSession).where(WebSession.token_hash == _sha256(raw_token))
    )
    if web_session is not None:
        session.delete(web_session)


def create_api_token(session: Session, *, user: User, name: str) -> tuple[ApiToken, str]:
    """Return the token row and the raw token, which is shown once and never stored."""
    label = name.strip()
    if not 1 <= len(label) <= 80:
        raise InvalidInput("A token name has 1 to 80 characters.", details={"field": "name"})
    _no_nul(label, field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=label, token_hash=_sha256(raw))
    session.add(token)
    session.flush()
    return token, raw


def user_for_api_token(session: Session, *, raw_token: str) -> User:
    if not _TOKEN_RE.fullmatch(raw_token):
        raise Unauthorized(
            "Malformed API token: expected 'cy_' followed by 43 URL-safe characters."
        )
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(raw_token)))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("Unknown or revoked API token.")
    refuse_banned(token.user)
    return token.user


def revoke_api_token(session: Session, *, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"No token {token_id}.")
    token.revoked_at = utcnow()


def list_api_tokens(session: Session, *, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))


def require_team(actor: User | None) -> None:
    """The one team check: a friend is refused. None is canyu acting on its own (a periodic
    job, an operator's command), which may do what the team may."""
    if actor is not None and not actor.is_team:
        raise Forbidden("Only team members can do this.")
