"""Links mailed to a friend: confirm an address, reset a password, turn the email digest off.

Each is an itsdangerous token signed with the app's secret key, salted by its purpose (a reset
token is no unsubscribe token), with a lifetime; nothing is stored. A token also carries a
fingerprint of what using it changes, so it works once: a reset token names a hash of the
password hash it may replace, a confirmation token the address and its unconfirmed state, so
the first use spends it (and a second reset link is spent when the first one is used).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.errors import InvalidInput


class Purpose(StrEnum):
    VERIFY = "verify-email"
    RESET = "reset-password"
    UNSUBSCRIBE = "digest-off"


LIFETIME = {
    Purpose.VERIFY: timedelta(days=7),
    Purpose.RESET: timedelta(hours=1),
    # Old digests' links should still work; turning mail off is harmless to whoever clicks.
    Purpose.UNSUBSCRIBE: timedelta(days=180),
}
MAX_TOKEN = 512


def _serializer(secret_key: str, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"canyu-{purpose.value}")


def _fingerprint(user: User, purpose: Purpose) -> str:
    if purpose == Purpose.RESET:
        state = user.password_hash
    elif purpose == Purpose.VERIFY:
        state = f"{user.email}|{user.email_verified_at is not None}"
    else:
        state = str(user.id)
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def issue(secret_key: str, purpose: Purpose, user: User) -> str:
    return _serializer(secret_key, purpose).dumps([user.id, _fingerprint(user, purpose)])


@dataclass(frozen=True)
class Links:
    """What mailed links need: the key that signs them and the site's address
    (``CANYU_BASE_URL``: never the request's Host header, which a stranger asking for someone
    else's reset could point at their own site). Routes get one from accounts.deps.MailLinks."""

    secret_key: str
    base_url: str

    def url(self, path: str, purpose: Purpose, user: User) -> str:
        token = issue(self.secret_key, purpose, user)
        return f"{self.base_url.rstrip('/')}{path}?{urlencode({'token': token})}"

    def page(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"


def redeem(session: Session, secret_key: str, purpose: Purpose, token: str) -> User:
    """The friend a token was issued to, if it is genuine, in time and not spent."""
    spent = InvalidInput("This link is not valid or was already used; ask for a new one.")
    if not token or len(token) > MAX_TOKEN:
        raise spent
    max_age = int(LIFETIME[purpose].total_seconds())
    try:
        payload = _serializer(secret_key, purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidInput("This link has expired; ask for a new one.") from None
    except BadSignature:
        raise spent from None
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        raise spent
    user = session.get(User, payload[0])
    if user is None or payload[1] != _fingerprint(user, purpose):
        raise spent
    return user
