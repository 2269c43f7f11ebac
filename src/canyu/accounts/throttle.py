"""Sign-up and sign-in limits, shared by the JSON API and the pages."""

from __future__ import annotations

from fastapi import Request

from canyu.accounts.service import normalise_email
from canyu.ratelimit import client_ip

__all__ = ["client_ip", "limit_signin", "limit_signup"]


def limit_signup(request: Request) -> None:
    request.app.state.limiter.hit(
        request.app.state.settings.signup_rate, "signup", client_ip(request), what="sign-up"
    )


def limit_signin(request: Request, email: str) -> None:
    rate = request.app.state.settings.signin_rate
    limiter = request.app.state.limiter
    limiter.hit(rate, "signin-ip", client_ip(request), what="sign-in")
    limiter.hit(rate, "signin-email", normalise_email(email), what="sign-in")
