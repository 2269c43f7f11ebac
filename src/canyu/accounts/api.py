from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from canyu.accounts import emails, service
from canyu.accounts.deps import CurrentUser, MailLinks
from canyu.accounts.schemas import MeOut, NewToken, ProfileUpdate, SignUp, TokenOut, TokenRequest
from canyu.accounts.throttle import limit_signup, sign_in
from canyu.db import MAX_ID
from canyu.deps import DbSession

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/accounts/signup", response_model=MeOut, status_code=status.HTTP_201_CREATED)
def sign_up(body: SignUp, request: Request, session: DbSession, links: MailLinks) -> object:
    """Create a friend's account."""
    limit_signup(request)
    user = service.create_user(
        session,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        locale=body.locale,
        country=body.country,
    )
    emails.send_welcome(
        session,
        user=user,
        links=links,
    )
    return user


@router.post("/accounts/tokens", response_model=NewToken, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenRequest, request: Request, session: DbSession) -> object:
    """Sign in with email and password and get an API token for scripts and devices."""
    user = sign_in(
        request,
        str(body.email),
        lambda: service.authenticate(session, email=str(body.email), password=body.password),
    )
    token, raw = service.create_api_token(session, user=user, name=body.name)
    return NewToken(
        id=token.id, name=token.name, created_at=token.created_at, revoked_at=None, token=raw
    )


@router.get("/accounts/tokens", response_model=list[TokenOut])
def list_tokens(user: CurrentUser, session: DbSession) -> object:
    return service.list_api_tokens(session, user=user)


@router.delete("/accounts/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: CurrentUser, session: DbSession
) -> None:
    service.revoke_api_token(session, user=user, token_id=token_id)


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> object:
    return user


@router.patch("/me", response_model=MeOut)
def update_me(body: ProfileUpdate, user: CurrentUser, session: DbSession) -> object:
    return service.update_profile(
        session, user=user, display_name=body.display_name, locale=body.locale, country=body.country
    )
