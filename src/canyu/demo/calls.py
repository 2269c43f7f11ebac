"""Spam marks for the demo world, written through the service so every rule holds.

``add_demo_calls(session)`` adds, per demo country, numbers that seasoned friends marked (some
labelled: fraud, telemarketing, harassment, delivery), a few numbers with a lone mark (never
labelled), marks by the demo friends themselves (``friend@`` and ``pengyou@``, for their "my
marks" page) and one pending owner appeal with a verified code, for the team's queue.

The demo world's own friends are created "now", and brand-new accounts barely count (that is
the anti-abuse rule), so the marks come from reporters whose accounts date back months:
``spamwatch-<n>@example.com`` friends made here (no device: trust 0.5 each), spread over
networks, so a number needs seven or more of them to be labelled. Seeded: the same seed gives
the same numbers and marks.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.calls import service
from canyu.calls.models import Number
from canyu.calls.sender import LoggingSender
from canyu.calls.settings import CallsSettings, get_calls_settings
from canyu.db import utcnow

COUNTRIES = ("CN", "IN", "ID", "MY", "SG", "PH", "US", "ES")
# (category, how many seasoned friends mark it) per labelled number, by country.
LABELLED: dict[str, tuple[tuple[str, int], ...]] = {
    "CN": (
        ("fraud", 14),
        ("telemarketing", 11),
        ("telemarketing", 9),
        ("delivery", 8),
        ("harassment", 8),
        ("fraud", 9),
    ),
    "IN": (("fraud", 10), ("telemarketing", 12), ("telemarketing", 8)),
    "ID": (("fraud", 9), ("telemarketing", 8)),
    "MY": (("telemarketing", 9),),
    "SG": (("fraud", 10), ("delivery", 8)),
    "PH": (("fraud", 9),),
    "US": (("telemarketing", 11), ("fraud", 9)),
    "ES": (("telemarketing", 8),),
}
REPORTERS = 40
DEMO_DOMAIN = "example.com"


@dataclass
class DemoCalls:
    reporters: int = 0
    marks: int = 0
    labelled: Counter[str] = field(default_factory=Counter)
    appeals: int = 0
    numbers: list[str] = field(default_factory=list)


def demo_number(region: str, rng: random.Random) -> str:
    """A valid mobile number of ``region`` (the example number with random subscriber digits)."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        raise ValueError(f"no example number for {region}")
    national = phonenumbers.national_significant_number(example)
    for _ in range(200):
        keep = max(3, len(national) - 6)
        digits = national[:keep] + "".join(str(rng.randrange(10)) for _ in national[keep:])
        candidate = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _reporters(session: Session, rng: random.Random, now: datetime) -> list[User]:
    password = secrets.token_urlsafe(16)  # reporters never sign in
    password_hash = accounts.hash_password(password)
    people: list[User] = []
    for n in range(REPORTERS):
        email = f"spamwatch-{n + 1}@{DEMO_DOMAIN}"
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(
                session,
                email=email,
                password=password,
                display_name=f"Spamwatch {n + 1}",
                locale="zh" if n % 3 == 0 else "en",
                country=COUNTRIES[n % len(COUNTRIES)],
                password_hash=password_hash,
            )
            user.created_at = now - timedelta(days=rng.uniform(90, 900))
        people.append(user)
    session.flush()
    return people


def add_demo_calls(
    session: Session,
    *,
    seed: int = 7,
    settings: CallsSettings | None = None,
    now: datetime | None = None,
) -> DemoCalls:
    """Fill the calls domain of a demo world (see the module docstring); the caller commits."""
    rng = random.Random(seed)
    chosen = settings or get_calls_settings()
    when = now or utcnow()
    out = DemoCalls()
    reporters = _reporters(session, rng, when)
    out.reporters = len(reporters)
    networks = [f"demo-net-{i}" for i in range(25)]

    def mark(user: User, number: str, category: str, hours_ago: float) -> None:
        service.mark_number(
            session,
            user=user,
            number=number,
            category=category,
            network=rng.choice(networks),
            source="portal",
            at=when - timedelta(hours=hours_ago),
            settings=chosen,
        )
        out.marks += 1

    labelled_numbers: list[tuple[str, str]] = []
    for region in COUNTRIES:
        for category, count in LABELLED[region]:
            number = demo_number(region, rng)
            for user in rng.sample(reporters, count):
                # Most agree on the kind; one in six picks another.
                kind = category if rng.random() > 1 / 6 else rng.choice(service.CATEGORIES)
                mark(user, number, kind, rng.uniform(1, 24 * 12))
            labelled_numbers.append((region, number))
            out.numbers.append(number)
        for _ in range(2):  # a lone mark: never enough for a label
            mark(
                rng.choice(reporters),
                demo_number(region, rng),
                "telemarketing",
                rng.uniform(1, 200),
            )

    friends = {
        u.email: u
        for u in session.scalars(
            select(User).where(User.email.in_([f"friend@{DEMO_DOMAIN}", f"pengyou@{DEMO_DOMAIN}"]))
        )
    }
    for email, regions in (
        (f"pengyou@{DEMO_DOMAIN}", ("CN",)),
        (f"friend@{DEMO_DOMAIN}", ("SG", "MY")),
    ):
        friend = friends.get(email)
        if friend is None:
            continue
        for _region, number in [p for p in labelled_numbers if p[0] in regions][:3]:
            mark(friend, number, "fraud", rng.uniform(1, 48))
        mark(friend, demo_number(regions[0], rng), "harassment", 3)

    service.rescore_dirty(session, settings=chosen, limit=100_000)
    for row in session.scalars(select(Number).where(Number.label.is_not(None))):
        out.labelled[row.label or ""] += 1

    # One owner appeal waiting for the team: a CN telemarketing number that is a real shop.
    owner = friends.get(f"pengyou@{DEMO_DOMAIN}") or reporters[0]
    cn_telemarketing = session.scalars(
        select(Number.e164).where(Number.region == "CN", Number.label == "telemarketing")
    ).all()
    target = next((n for _r, n in labelled_numbers if n in set(cn_telemarketing)), None)
    if target is not None:
        sender = LoggingSender()
        service.request_code(session, user=owner, number=target, sender=sender, settings=chosen)
        service.verify_code(
            session, user=owner, number=target, code=sender.sent[-1][1], settings=chosen
        )
        service.file_appeal(
            session,
            user=owner,
            number=target,
            business_name="如意家电维修",
            reason=(
                "这是我们店的回访电话，只打给预约过维修的顾客。"
                "We only call customers who booked a repair."
            ),
            settings=chosen,
        )
        out.appeals = 1
    session.flush()
    return out
