"""The rules of the greetings domain: friends write greetings per festival and language, vote on
each other's once, the team approves or rejects them, and the top approved ones ship in packs
per country and language, credited to their authors."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.db import utcnow
from canyu.errors import Conflict, InvalidInput, NotFound
from canyu.greetings import calendar
from canyu.greetings import pack as pack_mod
from canyu.greetings.models import Greeting, GreetingPack, GreetingStatus, GreetingVote
from canyu.markets import service as markets
from canyu.releases.publishing import Publisher

MIN_TEXT = 2
MAX_TEXT = 140  # one SMS in Latin script (160), two in Chinese (70 each); 20 fit in 8 KB
MAX_REASON = 200
# Per friend, in the `limits` notation, like posts.
WRITE_RATE = "5/minute;40/day"
PER_FESTIVAL = 3  # greetings per festival in a pack
PACK_DAYS = 400  # a year and a month: a weekly rebuild always leaves weeks ahead
TUF_PRODUCT = "greetings"

# A line break, and the zero-width joiner that emoji sequences need.
_ALLOWED_FORMAT = frozenset("\n\u200d")
_KEY = re.compile(r"^[a-z0-9_]{1,48}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# Markup and links: HTML tags and entities, Markdown links, emphasis, code and headings, URLs.
_MARKUP = re.compile(
    r"<\s*/?\s*[a-zA-Z!?]|&[a-zA-Z#][a-zA-Z0-9]{1,8};|\]\(|\*\*|__|`|^\s*#|"
    r"(?:https?|ftp)://|www\.|\{(?!name\})|(?<!\{name)\}",
    re.MULTILINE,
)


# --- input --------------------------------------------------------------------------------------


def parse_language(value: str) -> str:
    code = (value or "").strip().lower().replace("-", "_").split("_")[0]
    if not _LANGUAGE.match(code) or code not in _known_languages():
        raise InvalidInput(
            f"Unknown language {value!r}; use a two- or three-letter code such as en, zh or hi.",
            details={"field": "language"},
        )
    return code


def _known_languages() -> frozenset[str]:
    return calendar.known_languages()


@lru_cache(maxsize=1)
def known_festival_keys() -> frozenset[str]:
    """Every festival key of every country, this year and the next two."""
    this_year = utcnow().year
    keys = set(calendar.NAMES)
    for country in calendar.countries():
        for year in range(this_year - 1, this_year + 3):
            if calendar.MIN_YEAR <= year <= calendar.MAX_YEAR:
                keys.update(f.key for f in calendar.festivals(country, year))
    return frozenset(keys)


def parse_festival(value: str) -> str:
    key = (value or "").strip()
    if not _KEY.match(key) or key not in known_festival_keys():
        raise InvalidInput(
            f"Unknown festival {value!r}; see /api/v1/greetings/festivals for the keys.",
            details={"field": "festival"},
        )
    return key


def check_text(value: str) -> str:
    """A greeting: 2 to 140 characters of plain text on at most three lines, no markup or links,
    no control characters; ``{name}`` marks where the recipient's name goes."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    text = "\n".join(line.strip() for line in text.splitlines())
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        raise InvalidInput(
            f"A greeting has {MIN_TEXT} to {MAX_TEXT} characters (got {len(text)}).",
            details={"field": "text"},
        )
    if any(
        unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") and c not in _ALLOWED_FORMAT
        for c in text
    ):
        raise InvalidInput("A greeting has no control characters.", details={"field": "text"})
    if text.count("\n") > 2:
        raise InvalidInput("A greeting has at most three lines.", details={"field": "text"})
    if _MARKUP.search(text):
        raise InvalidInput(
            "A greeting is plain text: no markup, links or braces other than {name}.",
            details={"field": "text"},
        )
    return text


# --- writing, voting, moderating ---------------------------------------------------------------


def write_greeting(
    session: Session,
    *,
    author: User,
    festival: str,
    language: str,
    text: str,
    created_at: datetime | None = None,
) -> Greeting:
    greeting = Greeting(
        festival_key=parse_festival(festival),
        language=parse_language(language),
        text=check_text(text),
        author_id=author.id,
        status=GreetingStatus.PENDING.value,
        votes=0,
        created_at=created_at or utcnow(),
    )
    duplicate = session.scalar(
        select(Greeting.id).where(
            Greeting.festival_key == greeting.festival_key,
            Greeting.language == greeting.language,
            Greeting.text == greeting.text,
            Greeting.status != GreetingStatus.REJECTED.value,
        )
    )
    if duplicate is not None:
        raise Conflict(
            "This greeting was already written; vote for it instead.",
            details={"greeting_id": duplicate},
        )
    session.add(greeting)
    session.flush()
    return greeting


def get_greeting(session: Session, *, greeting_id: int) -> Greeting:
    greeting = session.get(Greeting, greeting_id)
    if greeting is None:
        raise NotFound(f"No greeting {greeting_id}.")
    return greeting


def visible(greeting: Greeting, viewer: User | None) -> bool:
    """Approved greetings are public; pending ones are seen by their author and the team."""
    if greeting.status == GreetingStatus.APPROVED.value:
        return True
    if viewer is None:
        return False
    return viewer.is_team or greeting.author_id == viewer.id


def view_greeting(session: Session, *, greeting_id: int, viewer: User | None) -> Greeting:
    greeting = get_greeting(session, greeting_id=greeting_id)
    if not visible(greeting, viewer):
        raise NotFound(f"No greeting {greeting_id}.")
    return greeting


def list_greetings(
    session: Session,
    *,
    viewer: User | None,
    festival: str | None = None,
    language: str | None = None,
    limit: int = 50,
) -> list[Greeting]:
    """Greetings the viewer may see, most votes first."""
    query = select(Greeting).where(Greeting.status != GreetingStatus.REJECTED.value)
    if festival is not None:
        query = query.where(Greeting.festival_key == parse_festival(festival))
    if language is not None:
        query = query.where(Greeting.language == parse_language(language))
    if viewer is None:
        query = query.where(Greeting.status == GreetingStatus.APPROVED.value)
    elif not viewer.is_team:
        query = query.where(
            (Greeting.status == GreetingStatus.APPROVED.value) | (Greeting.author_id == viewer.id)
        )
    query = query.order_by(Greeting.votes.desc(), Greeting.id).limit(limit)
    return list(session.scalars(query))


def voted_ids(session: Session, *, user: User | None, greeting_ids: Sequence[int]) -> set[int]:
    if user is None or not greeting_ids:
        return set()
    rows = session.scalars(
        select(GreetingVote.greeting_id).where(
            GreetingVote.user_id == user.id, GreetingVote.greeting_id.in_(greeting_ids)
        )
    )
    return set(rows)


def vote(session: Session, *, user: User, greeting_id: int) -> Greeting:
    """One vote per friend and greeting: a second is refused (409) and changes nothing."""
    greeting = view_greeting(session, greeting_id=greeting_id, viewer=user)
    if greeting.status != GreetingStatus.APPROVED.value:
        raise Conflict("Only approved greetings take votes.")
    if greeting.author_id == user.id:
        raise Conflict("You cannot vote for your own greeting.")
    try:
        with session.begin_nested():
            session.add(GreetingVote(greeting_id=greeting.id, user_id=user.id))
    except IntegrityError:
        raise Conflict("You already voted for this greeting.") from None
    session.execute(
        update(Greeting).where(Greeting.id == greeting.id).values(votes=Greeting.votes + 1)
    )
    session.refresh(greeting)
    return greeting


def queue(session: Session, *, actor: User, limit: int = 100) -> list[Greeting]:
    accounts.require_team(actor)
    return list(
        session.scalars(
            select(Greeting)
            .where(Greeting.status == GreetingStatus.PENDING.value)
            .order_by(Greeting.created_at, Greeting.id)
            .limit(limit)
        )
    )


def decide(
    session: Session, *, actor: User, greeting_id: int, approve: bool, reason: str | None = None
) -> Greeting:
    accounts.require_team(actor)
    greeting = get_greeting(session, greeting_id=greeting_id)
    if greeting.status != GreetingStatus.PENDING.value:
        raise Conflict(f"Greeting {greeting_id} was already {greeting.status}.")
    clean = (reason or "").strip() or None
    if clean is not None and len(clean) > MAX_REASON:
        raise InvalidInput(f"A reason has at most {MAX_REASON} characters.")
    greeting.status = (GreetingStatus.APPROVED if approve else GreetingStatus.REJECTED).value
    greeting.decided_at = utcnow()
    greeting.decided_by = actor.id
    greeting.reason = clean
    session.flush()
    return greeting


def top_greetings(
    session: Session, *, festivals: Iterable[str], language: str, per_festival: int = PER_FESTIVAL
) -> dict[str, list[Greeting]]:
    """The approved greetings that ship, per festival: most votes first, then the oldest."""
    keys = sorted(set(festivals))
    out: dict[str, list[Greeting]] = {k: [] for k in keys}
    if not keys:
        return out
    rows = session.scalars(
        select(Greeting)
        .where(
            Greeting.festival_key.in_(keys),
            Greeting.language == language,
            Greeting.status == GreetingStatus.APPROVED.value,
        )
        .order_by(Greeting.festival_key, Greeting.votes.desc(), Greeting.created_at, Greeting.id)
    )
    for greeting in rows:
        if len(out[greeting.festival_key]) < per_festival:
            out[greeting.festival_key].append(greeting)
    return out


@dataclass(frozen=True)
class Credit:
    user_id: int
    display_name: str
    shipped: int
    votes: int


def honour_roll(session: Session, *, limit: int = 50) -> list[Credit]:
    """Authors of the greetings that ship (top of their festival and language), by count."""
    rows = session.scalars(
        select(Greeting)
        .where(Greeting.status == GreetingStatus.APPROVED.value)
        .order_by(
            Greeting.festival_key, Greeting.language, Greeting.votes.desc(), Greeting.created_at
        )
    )
    seen: dict[tuple[str, str], int] = {}
    credits: dict[int, list[Any]] = {}
    for greeting in rows:
        slot = (greeting.festival_key, greeting.language)
        if seen.get(slot, 0) >= PER_FESTIVAL:
            continue
        seen[slot] = seen.get(slot, 0) + 1
        entry = credits.setdefault(greeting.author_id, [greeting.author.display_name, 0, 0])
        entry[1] += 1
        entry[2] += greeting.votes
    ranked = sorted(credits.items(), key=lambda kv: (-kv[1][1], -kv[1][2], kv[0]))
    return [Credit(uid, str(e[0]), int(e[1]), int(e[2])) for uid, e in ranked[:limit]]


# --- festivals ---------------------------------------------------------------------------------


def upcoming(country: str, *, today: date, days: int = 60) -> list[calendar.Festival]:
    return calendar.festivals_between(country, today, today + timedelta(days=days))


# --- packs ---------------------------------------------------------------------------------------


def target_name(country: str, language: str) -> str:
    """The pack's TUF target: the signed targets metadata carries its length and hashes, and
    the pack's header its version, so no index file is needed."""
    return f"{country}/{language}/pack.cyg"


def make_pack(
    country: str,
    language: str,
    *,
    start: date,
    days: int,
    greetings: dict[str, list[tuple[str, str]]],
    version: int = 1,
    created: int = 0,
) -> pack_mod.GreetingPack:
    """A pack of ``country``'s festivals from ``start`` for ``days`` days, with ``greetings``
    (festival key -> [(text, author)]) in ``language``. Pure: the bench builds with it too."""
    festivals = calendar.festivals_between(country, start, start + timedelta(days=days - 1))
    pack = pack_mod.GreetingPack(country, language, version, created, start, days)
    for festival in festivals:
        index = len(pack.festivals)
        name = festival.zh if language == "zh" else festival.en
        pack.festivals.append(pack_mod.PackFestival(festival.date, festival.key, name))
        for text, author in greetings.get(festival.key, []):
            pack.greetings.append(pack_mod.PackGreeting(index, text, author))
    return pack


@dataclass(frozen=True)
class BuiltPack:
    country: str
    language: str
    version: int
    greetings: int
    size: int
    sha256: str
    published: bool


def build_pack(
    session: Session,
    *,
    country: str,
    language: str,
    publisher: Publisher | None,
    today: date | None = None,
    days: int = PACK_DAYS,
) -> BuiltPack:
    """Build (and publish as a TUF target) the pack of ``country`` and ``language``
    from today for ``days`` days."""
    code = calendar.parse_country(country)
    markets.require_open_market(session, country=code)  # packs are built for opened markets
    lang = parse_language(language)
    start = today or utcnow().date()
    festivals = calendar.festivals_between(code, start, start + timedelta(days=days - 1))
    top = top_greetings(session, festivals=[f.key for f in festivals], language=lang)
    latest = session.scalar(
        select(func.max(GreetingPack.version)).where(
            GreetingPack.country == code, GreetingPack.language == lang
        )
    )
    version = (latest or 0) + 1
    pack = make_pack(
        code,
        lang,
        start=start,
        days=days,
        greetings={
            key: [(g.text, g.author.display_name) for g in found] for key, found in top.items()
        },
        version=version,
        created=int(time.time()),
    )
    data = pack.encode()
    sha = hashlib.sha256(data).hexdigest()
    if publisher is not None:
        publisher.publish([(target_name(code, lang), data)])
    session.add(
        GreetingPack(
            country=code,
            language=lang,
            version=version,
            greetings=len(pack.greetings),
            size=len(data),
            sha256=sha,
            built_at=utcnow(),
            published=publisher is not None,
        )
    )
    session.flush()
    return BuiltPack(
        code, lang, version, len(pack.greetings), len(data), sha, publisher is not None
    )


def build_packs(
    session: Session,
    *,
    publisher: Publisher | None,
    countries: Iterable[str] | None = None,
    today: date | None = None,
) -> list[BuiltPack]:
    """The packs of these countries (by default every opened market) in each of their
    languages (the daily job, and `canyu greetings packs`)."""
    built = []
    chosen = countries if countries is not None else sorted(markets.open_iso2(session))
    for country in chosen:
        code = calendar.parse_country(country)
        for language in calendar.languages(code):
            if language in _known_languages():
                built.append(
                    build_pack(
                        session, country=code, language=language, publisher=publisher, today=today
                    )
                )
    return built
