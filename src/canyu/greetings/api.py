"""JSON routes of the greetings domain (thin: validation, auth, rate limits; rules in service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from canyu.accounts.deps import CurrentUser, MaybeUser, TeamUser
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.greetings import calendar, service
from canyu.greetings.models import Greeting
from canyu.greetings.schemas import (
    CalendarOut,
    CreditOut,
    DecisionIn,
    GreetingIn,
    GreetingOut,
    PackOut,
)
from canyu.releases import publishing
from canyu.releases.publishing import TargetPublisher
from canyu.releases.settings import ReleaseSettings, get_release_settings

router = APIRouter(prefix="/api/v1/greetings", tags=["greetings"])

GreetingId = Annotated[int, Path(ge=1, le=MAX_ID)]


def greeting_out(greeting: Greeting) -> GreetingOut:
    return GreetingOut(
        id=greeting.id,
        festival=greeting.festival_key,
        language=greeting.language,
        text=greeting.text,
        author=greeting.author.display_name,
        status=greeting.status,
        votes=greeting.votes,
        created_at=greeting.created_at,
    )


def pack_publisher(
    release: Annotated[ReleaseSettings, Depends(get_release_settings)],
) -> TargetPublisher | None:
    return publishing.publisher(service.TUF_PRODUCT, release)


@router.get("/festivals", response_model=CalendarOut)
def festivals(
    country: Annotated[str, Query(max_length=8, description="ISO 3166 alpha-2, e.g. CN.")],
    year: Annotated[int, Query(ge=-99999, le=99999, description="1901 to 2100.")],
) -> object:
    """A country's festivals in a year: public holidays and the observances greeted."""
    return calendar.calendar_json(country, year)


@router.get("", response_model=list[GreetingOut])
def list_greetings(
    session: DbSession,
    user: MaybeUser,
    festival: Annotated[str | None, Query(max_length=64)] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> object:
    """Approved greetings (and, for their author and the team, pending ones), by votes."""
    found = service.list_greetings(
        session, viewer=user, festival=festival, language=language, limit=limit
    )
    return [greeting_out(g) for g in found]


@router.post("", response_model=GreetingOut, status_code=status.HTTP_201_CREATED)
def write(request: Request, body: GreetingIn, user: CurrentUser, session: DbSession) -> object:
    """Write a greeting for a festival in a language; it waits in the team's queue."""
    request.app.state.limiter.hit(
        service.WRITE_RATE, "greetings-write", str(user.id), what="greeting"
    )
    greeting = service.write_greeting(
        session, author=user, festival=body.festival, language=body.language, text=body.text
    )
    return greeting_out(greeting)


@router.get("/queue", response_model=list[GreetingOut])
def moderation_queue(team: TeamUser, session: DbSession) -> object:
    """Greetings waiting for the team, oldest first."""
    return [greeting_out(g) for g in service.queue(session, actor=team)]


@router.get("/honour-roll", response_model=list[CreditOut])
def honour_roll(session: DbSession) -> object:
    """Friends whose greetings ship, most first."""
    return service.honour_roll(session)


@router.get("/{greeting_id}", response_model=GreetingOut)
def get_greeting(greeting_id: GreetingId, user: MaybeUser, session: DbSession) -> object:
    return greeting_out(service.view_greeting(session, greeting_id=greeting_id, viewer=user))


@router.post("/{greeting_id}/vote", response_model=GreetingOut, status_code=status.HTTP_201_CREATED)
def vote(greeting_id: GreetingId, user: CurrentUser, session: DbSession) -> object:
    """Vote for an approved greeting, once (a second vote is 409 and counts nothing)."""
    return greeting_out(service.vote(session, user=user, greeting_id=greeting_id))


@router.post("/{greeting_id}/decision", response_model=GreetingOut)
def decide(greeting_id: GreetingId, body: DecisionIn, team: TeamUser, session: DbSession) -> object:
    """Approve or reject a pending greeting (team only)."""
    greeting = service.decide(
        session, actor=team, greeting_id=greeting_id, approve=body.approve, reason=body.reason
    )
    return greeting_out(greeting)


@router.post(
    "/packs/{country}/{language}", response_model=PackOut, status_code=status.HTTP_201_CREATED
)
def build_pack(
    country: Annotated[str, Path(max_length=8)],
    language: Annotated[str, Path(max_length=16)],
    team: TeamUser,
    session: DbSession,
    publisher: Annotated[TargetPublisher | None, Depends(pack_publisher)],
) -> object:
    """Build and publish the pack of a country and language now (the weekly job does it too)."""
    _ = team
    built = service.build_pack(session, country=country, language=language, publisher=publisher)
    return built.__dict__
