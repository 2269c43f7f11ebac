"""Festival greetings for the demo world, written through the service so every rule holds.

``add_demo_greetings(session, team=..., friends=...)`` takes the next festivals (within 90 days)
of CN, IN and US and, for each in each of the country's demo languages, has friends write the
greetings of ``data/greetings.json``, the team approve all but the last one written (left in the
team's queue), and other friends vote, so that the pages show ranked greetings, the honour roll
credits their authors and the packs have something to ship. Seeded: the same seed, the same
votes. The lead calls it from the demo; the packs are built by the daily job (or
``canyu greetings packs``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.db import utcnow
from canyu.errors import CanyuError
from canyu.greetings import service
from canyu.greetings.models import Greeting

_DATA = Path(__file__).parent / "data" / "greetings.json"
AHEAD_DAYS = 90


@dataclass
class DemoGreetings:
    written: int = 0
    approved: int = 0
    pending: int = 0
    votes: int = 0
    festivals: dict[str, list[str]] = field(default_factory=dict)  # country -> festival keys


def _texts() -> tuple[dict[str, list[str]], dict[str, dict[str, list[str]]]]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return data["countries"], data["greetings"]


def add_demo_greetings(
    session: Session,
    *,
    team: User,
    friends: Sequence[User],
    today: date | None = None,
    seed: int = 26,
) -> DemoGreetings:
    if len(friends) < 2:
        raise ValueError("the demo greetings need at least two friends")
    rng = random.Random(seed)
    start = today or utcnow().date()
    countries, texts = _texts()
    summary = DemoGreetings()
    written: list[Greeting] = []
    seen: set[tuple[str, str]] = set()
    for country, languages in countries.items():
        upcoming = service.upcoming(country, today=start, days=AHEAD_DAYS)
        summary.festivals[country] = [f.key for f in upcoming]
        for festival in upcoming:
            for language in languages:
                if (festival.key, language) in seen:
                    continue  # CN and US share New Year's Day in English
                seen.add((festival.key, language))
                local = [f for f in friends if f.country == country] or list(friends)
                for text in texts.get(language, {}).get(festival.key, []):
                    author = rng.choice(local)
                    try:
                        greeting = service.write_greeting(
                            session,
                            author=author,
                            festival=festival.key,
                            language=language,
                            text=text,
                        )
                    except CanyuError:
                        continue  # already there (a second run on the same database)
                    written.append(greeting)
    summary.written = len(written)
    for greeting in written[:-1]:
        service.decide(session, actor=team, greeting_id=greeting.id, approve=True)
        summary.approved += 1
        for voter in rng.sample(list(friends), k=min(len(friends), rng.randint(0, 12))):
            if voter.id != greeting.author_id:
                service.vote(session, user=voter, greeting_id=greeting.id)
                summary.votes += 1
    summary.pending = len(written) - summary.approved
    session.flush()
    return summary


def next_festival_day(country: str, today: date | None = None) -> date | None:
    """The date of the country's next festival (for the demo's phone), or None."""
    start = today or utcnow().date()
    found = service.upcoming(country, today=start, days=AHEAD_DAYS)
    return found[0].date if found else None
