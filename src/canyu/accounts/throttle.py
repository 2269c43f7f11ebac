"""Sign-up and sign-in limits, shared by the JSON API and the pages.

Sign-in is limited per address (``signin_rate``). Per account, failures slow the next attempt
down rather than lock the account: from the same network after three failures (1, 2, 4 ... s, at
most 5 minutes), from anywhere after ten (at most 30 s). So ten wrong passwords from a stranger
cost the owner at most a few seconds from their own network, never a refusal of the right one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from fastapi import Request

from canyu.accounts.models import User
from canyu.accounts.service import normalise_email
from canyu.errors import RateLimited, Unauthorized
from canyu.ratelimit import client_ip, network_of

__all__ = ["client_ip", "limit_mail_link", "limit_password_reset", "limit_signup", "sign_in"]

# (free failures, longest wait in seconds): from the same network, and from anywhere.
SAME_NETWORK = (3, 300.0)
ANY_NETWORK = (10, 30.0)


def limit_signup(request: Request) -> None:
    request.app.state.limiter.hit(
        request.app.state.settings.signup_rate, "signup", client_ip(request), what="sign-up"
    )


def limit_mail_link(request: Request, email: str) -> None:
    """Links mailed to one address (resets, confirmations), however many ask: nobody can flood
    an inbox through canyu. The same answer whether the address has an account or not."""
    request.app.state.limiter.hit(
        request.app.state.settings.mail_link_rate,
        "mail-link",
        normalise_email(email),
        what="email link",
    )


def limit_password_reset(request: Request, email: str) -> None:
    settings = request.app.state.settings
    request.app.state.limiter.hit(
        settings.reset_request_rate, "reset", client_ip(request), what="password reset"
    )
    limit_mail_link(request, email)


def sign_in(request: Request, email: str, attempt: Callable[[], User]) -> User:
    """Run ``attempt`` (the password check) within the limits: per address, and the account's
    backoff; a failure lengthens the backoff, a success clears it for this network."""
    limiter = request.app.state.limiter
    ip = client_ip(request)
    limiter.hit(request.app.state.settings.signin_rate, "signin-ip", ip, what="sign-in")
    account = normalise_email(email)
    here = ("signin", account, network_of(ip))
    anywhere = ("signin", account)
    wait = max(limiter.backoff_wait(*here), limiter.backoff_wait(*anywhere))
    if wait > 0:
        seconds = math.ceil(wait)
        raise RateLimited(
            f"Too many wrong passwords for this account; try again in {seconds} s.",
            details={"retry_after": seconds},
        )
    try:
        user = attempt()
    except Unauthorized:
        limiter.backoff_failed(*here, free=SAME_NETWORK[0], cap=SAME_NETWORK[1])
        limiter.backoff_failed(*anywhere, free=ANY_NETWORK[0], cap=ANY_NETWORK[1])
        raise
    limiter.backoff_clear(*here)
    limiter.backoff_clear(*anywhere)
    return user
