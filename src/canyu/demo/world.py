"""A believable demo world: friends in several countries and three weeks of bilingual feedback.

Everything is written through the services (accounts and community), so every rule holds and
the status histories, merge records and notifications exist exactly as if people had clicked.
The world is generated from templates with a seeded ``random.Random``: the same seed gives the
same people, posts, duplicates, votes and decisions; only the timestamps move with "now".

What is in it:

- friends in eight countries (CN, IN, ID, MY, SG, PH, US, ES) with fitting names and locales;
- an admin, two team members and two demo friends who can sign in (see ``DEMO_LOGINS``);
- bug reports and ideas about a phone, about 60% in English and 40% in Chinese, spread over the
  past three weeks, on several device models and weekly builds;
- true duplicates: the same problem reported again in other words, sometimes in the other
  language; the older ones are merged by the team, the recent ones wait in the triage queue;
- Zipf-like votes (a few posts collect many, most a handful), comments in both languages, and
  team decisions in every status with reasons friends can read.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.community import service as community
from canyu.community.models import Comment, Kind, Merge, Post, Status, Vote
from canyu.db import utcnow
from canyu.errors import Conflict
from canyu.mail import take_outbox

Progress = Callable[[str, int, int], None]

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed on purpose, demo data only
DEMO_DOMAIN = "example.com"
WINDOW_DAYS = 21


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    display_name: str


@dataclass(frozen=True)
class DemoSummary:
    friends: int
    countries: int
    posts: int
    posts_by_language: dict[str, int]
    votes: int
    comments: int
    statuses: dict[str, int]
    duplicates_merged: int
    logins: list[DemoLogin]


@dataclass(frozen=True)
class _Account:
    email: str
    display_name: str
    locale: str
    country: str
    role: Role = Role.FRIEND


_ADMIN = _Account(f"admin@{DEMO_DOMAIN}", "Demo Admin", "en", "SG", Role.ADMIN)
_TEAM_ZH = _Account(f"team.wei@{DEMO_DOMAIN}", "张伟 · canyu", "zh", "CN", Role.TEAM)
_TEAM_EN = _Account(f"team.ananya@{DEMO_DOMAIN}", "Ananya Rao · canyu", "en", "IN", Role.TEAM)
_FRIEND_EN = _Account(f"friend@{DEMO_DOMAIN}", "Alex Tan", "en", "SG")
_FRIEND_ZH = _Account(f"pengyou@{DEMO_DOMAIN}", "阿杰", "zh", "CN")
_DEMO_ACCOUNTS = (_ADMIN, _TEAM_ZH, _TEAM_EN, _FRIEND_EN, _FRIEND_ZH)

DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin(a.email, DEMO_PASSWORD, a.role.value, a.display_name) for a in _DEMO_ACCOUNTS
]

# --- people ----------------------------------------------------------------------------------

# The world's text (names, what friends write, what the team answers) is data, kept beside
# this module in data/*.json; lists become tuples so that nothing changes it by accident.
_DATA_DIR = Path(__file__).parent / "data"


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _load(name: str) -> Any:
    return _frozen(json.loads((_DATA_DIR / name).read_text(encoding="utf-8")))


_FRIENDS = _load("friends.json")
_TEXT = _load("feedback.json")
_CN_SURNAMES = _FRIENDS["cn_surnames"]
_CN_GIVEN = _FRIENDS["cn_given"]
_CN_NICKNAMES = _FRIENDS["cn_nicknames"]
_ROMAN_CN_SURNAMES = _FRIENDS["roman_cn_surnames"]
_ROMAN_CN_GIVEN = _FRIENDS["roman_cn_given"]
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = _FRIENDS["names"]
# (country, how many, kind of name, locale); 220 friends, about 39% with a Chinese locale.
_POPULATION = _FRIENDS["population"]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", ascii_text.lower()).strip(".")


def _friend_accounts(rng: random.Random) -> list[_Account]:
    taken: Counter[str] = Counter(a.email.split("@")[0] for a in _DEMO_ACCOUNTS)
    people: list[_Account] = []
    for country, count, style, locale in _POPULATION:
        for _ in range(count):
            if style == "cn":
                (sur, sur_py), (given, given_py) = rng.choice(_CN_SURNAMES), rng.choice(_CN_GIVEN)
                name, handle = sur + given, f"{given_py}.{sur_py}"
            elif style == "cn_nick":
                name, handle = rng.choice(_CN_NICKNAMES)
            elif style == "roman_cn":
                name = f"{rng.choice(_ROMAN_CN_SURNAMES)} {rng.choice(_ROMAN_CN_GIVEN)}"
                handle = _slug(name)
            else:
                firsts, lasts = _NAMES[style]
                name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
                handle = _slug(name)
            taken[handle] += 1
            if (n := taken[handle]) > 1:
                handle = f"{handle}{n}"
                if style == "cn_nick":
                    name = f"{name}{n}"
            people.append(_Account(f"{handle}@{DEMO_DOMAIN}", name, locale, country))
    return people


# --- what friends write about ------------------------------------------------------------------

# A phrase in several wordings: (English variants, Chinese variants).
_Words = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class _BugTopic:
    area: str
    area_zh: str
    subject: _Words
    symptoms: tuple[_Words, ...]
    triggers: tuple[_Words, ...]
    phone_only: bool = False


@dataclass(frozen=True)
class _IdeaTopic:
    en: tuple[str, ...]
    zh: tuple[str, ...]
    why_en: str
    why_zh: str
    device: str | None = None  # "phone", "pad" or None (any)


_SINCE_BUILD: _Words = _TEXT["since_build"]
_AFTER_RESTART: _Words = _TEXT["after_restart"]
_SAVER: _Words = _TEXT["saver"]

_BUGS: tuple[_BugTopic, ...] = tuple(_BugTopic(**topic) for topic in _TEXT["bugs"])

_IDEAS: tuple[_IdeaTopic, ...] = tuple(_IdeaTopic(**topic) for topic in _TEXT["ideas"])

_EN_TITLE_FRAMES = _TEXT["en_title_frames"]
_ZH_TITLE_FRAMES = _TEXT["zh_title_frames"]
_EN_BODY_FRAMES = _TEXT["en_body_frames"]
_ZH_BODY_FRAMES = _TEXT["zh_body_frames"]
_EN_FREQ = _TEXT["en_freq"]
_ZH_FREQ = _TEXT["zh_freq"]
_EN_TRIED = _TEXT["en_tried"]
_ZH_TRIED = _TEXT["zh_tried"]
_EN_ASK = _TEXT["en_ask"]
_ZH_ASK = _TEXT["zh_ask"]

_EN_IDEA_TITLES = _TEXT["en_idea_titles"]
_ZH_IDEA_TITLES = _TEXT["zh_idea_titles"]
_EN_IDEA_BODIES = _TEXT["en_idea_bodies"]
_ZH_IDEA_BODIES = _TEXT["zh_idea_bodies"]
_EN_IDEA_EXTRA = _TEXT["en_idea_extra"]
_ZH_IDEA_EXTRA = _TEXT["zh_idea_extra"]

_EN_BUG_COMMENTS = _TEXT["en_bug_comments"]
_ZH_BUG_COMMENTS = _TEXT["zh_bug_comments"]
_EN_IDEA_COMMENTS = _TEXT["en_idea_comments"]
_ZH_IDEA_COMMENTS = _TEXT["zh_idea_comments"]
_EN_DUPE_COMMENTS = _TEXT["en_dupe_comments"]
_ZH_DUPE_COMMENTS = _TEXT["zh_dupe_comments"]
_EN_TEAM_COMMENTS = _TEXT["en_team_comments"]
_ZH_TEAM_COMMENTS = _TEXT["zh_team_comments"]

# Team decisions, in the post's language: (English, Chinese) per status and kind.
_REASONS: dict[tuple[Status, Kind], tuple[tuple[str, ...], tuple[str, ...]]] = {
    (Status(status), Kind(kind)): wordings
    for key, wordings in _TEXT["reasons"].items()
    for status, _, kind in (key.partition(":"),)
}
_REOPEN = _TEXT["reopen"]

_DEVICES = ("canyu 1", "canyu 1S", "canyu Note", "canyu Pad")
_DEVICE_WEIGHTS = (25, 35, 30, 10)
# Weekly builds and how many days ago each was released; the next one is being prepared.
_BUILDS = (("4.11.8", 24.0), ("4.11.11", 17.0), ("4.11.15", 10.0), ("4.11.18", 3.0))
_BUILD_NAMES = tuple(name for name, _ in _BUILDS)
_NEXT_BUILD = "4.11.22"


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class _Problem:
    kind: Kind
    bug: _BugTopic | None = None
    symptom: int = 0
    trigger: int = 0
    idea: _IdeaTopic | None = None
    build: str = ""  # the build the problem was first seen on

    @property
    def area(self) -> tuple[str, str]:
        if self.bug is not None:
            return self.bug.area, self.bug.area_zh
        return "product", "产品"


@dataclass
class _Plan:
    problem: _Problem
    group: int
    original: bool
    language: str
    created_at: datetime
    device: str | None
    build: str | None
    author: int = -1
    title: str = ""
    body: str = ""
    wording: tuple[int, ...] = ()
    popularity: int = 0  # how many friends will vote for it
    voters: list[int] = field(default_factory=list)
    path: list[Status] = field(default_factory=list)
    reopen: bool = False
    merge: bool = False
    post_id: int = 0


def _pick(rng: random.Random, n: int, avoid: int | None = None) -> int:
    if avoid is not None and n > 1:
        return rng.choice([i for i in range(n) if i != avoid])
    return rng.randrange(n)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _build_at(rng: random.Random, now: datetime, when: datetime) -> str:
    days_ago = (now - when).total_seconds() / 86400
    released = [name for name, ago in _BUILDS if ago >= days_ago] or [_BUILDS[0][0]]
    if len(released) > 1 and rng.random() < 0.2:  # not everyone has updated yet
        return released[-2]
    return released[-1]


def _fix_build(build: str | None) -> str:
    """Fixes ship in this week's build, unless the problem was reported on it."""
    return _NEXT_BUILD if build == _BUILD_NAMES[-1] else _BUILD_NAMES[-1]


def _device_for(rng: random.Random, problem: _Problem) -> str:
    phone_only = (problem.bug is not None and problem.bug.phone_only) or (
        problem.idea is not None and problem.idea.device == "phone"
    )
    if problem.idea is not None and problem.idea.device == "pad":
        return "canyu Pad"
    while True:
        device = rng.choices(_DEVICES, weights=_DEVICE_WEIGHTS)[0]
        if not (phone_only and device == "canyu Pad"):
            return device


def _write(rng: random.Random, plan: _Plan, avoid: tuple[int, ...] | None) -> None:
    """Title and body for a plan; ``avoid`` is the wording of an earlier report to differ from."""
    zh = plan.language == "zh"
    lang = 1 if zh else 0
    device = plan.device or "canyu 1S"
    build = plan.build or plan.problem.build
    problem = plan.problem
    if problem.bug is not None:
        bug = problem.bug
        subjects = bug.subject[lang]
        symptoms = bug.symptoms[problem.symptom][lang]
        triggers = bug.triggers[problem.trigger][lang]
        frames = _ZH_TITLE_FRAMES if zh else _EN_TITLE_FRAMES
        bodies = _ZH_BODY_FRAMES if zh else _EN_BODY_FRAMES
        old = avoid if avoid and len(avoid) == 5 else (None,) * 5
        choice = (
            _pick(rng, len(frames), old[0]),
            _pick(rng, len(subjects), old[1]),
            _pick(rng, len(symptoms), old[2]),
            _pick(rng, len(triggers), old[3]),
            _pick(rng, len(bodies), old[4]),
        )
        s = subjects[choice[1]]
        words = {
            "S": _cap(s),
            "s": s,
            "v": symptoms[choice[2]],
            "t": triggers[choice[3]].format(build=problem.build),
            "d": device,
            "b": build,
        }
        freq = rng.choice(_ZH_FREQ if zh else _EN_FREQ)
        plan.title = frames[choice[0]].format(**words)
        plan.body = bodies[choice[4]].format(
            **words,
            F=_cap(freq),
            f=freq,
            tried=rng.choice(_ZH_TRIED if zh else _EN_TRIED),
            ask=rng.choice(_ZH_ASK if zh else _EN_ASK),
        )
        plan.wording = choice
        return
    assert problem.idea is not None
    idea = problem.idea
    phrases = idea.zh if zh else idea.en
    idea_titles = _ZH_IDEA_TITLES if zh else _EN_IDEA_TITLES
    idea_bodies = _ZH_IDEA_BODIES if zh else _EN_IDEA_BODIES
    before = avoid if avoid and len(avoid) == 3 else (None,) * 3
    picked = (
        _pick(rng, len(idea_titles), before[0]),
        _pick(rng, len(phrases), before[1]),
        _pick(rng, len(idea_bodies), before[2]),
    )
    x = phrases[picked[1]]
    other = phrases[(picked[1] + 1) % len(phrases)]
    plan.title = idea_titles[picked[0]].format(x=x)
    plan.body = (
        idea_bodies[picked[2]]
        .format(
            x=other,
            X=_cap(other),
            why=idea.why_zh if zh else idea.why_en,
            extra=rng.choice(_ZH_IDEA_EXTRA if zh else _EN_IDEA_EXTRA),
        )
        .strip()
    )
    plan.wording = picked


def _problems(rng: random.Random, bugs: int) -> list[_Problem]:
    combos = [
        (topic, s, t)
        for topic in _BUGS
        for s in range(len(topic.symptoms))
        for t in range(len(topic.triggers))
    ]
    chosen = rng.sample(combos, min(bugs, len(combos)))
    problems = [_Problem(Kind.BUG, bug=b, symptom=s, trigger=t) for b, s, t in chosen]
    problems += [_Problem(Kind.IDEA, idea=idea) for idea in _IDEAS]
    rng.shuffle(problems)
    return problems


def _plan_posts(rng: random.Random, now: datetime) -> list[_Plan]:
    problems = _problems(rng, bugs=400)
    plans: list[_Plan] = []
    earliest = now - timedelta(days=WINDOW_DAYS)
    for group, problem in enumerate(problems):
        # Activity grows towards the present: more recent posts than old ones.
        days_ago = max(WINDOW_DAYS * rng.random() ** 1.3, 0.03)
        when = now - timedelta(days=days_ago, minutes=rng.randrange(60))
        when = max(when, earliest + timedelta(minutes=5))
        language = "zh" if rng.random() < 0.4 else "en"
        build = _build_at(rng, now, when)
        problem.build = build
        device = _device_for(rng, problem)
        plan = _Plan(
            problem=problem,
            group=group,
            original=True,
            language=language,
            created_at=when,
            device=device if problem.kind == Kind.BUG or rng.random() < 0.4 else None,
            build=build if problem.kind == Kind.BUG else None,
        )
        _write(rng, plan, None)
        plans.append(plan)
    # True duplicates: the same problem again, in other words, sometimes in the other language.
    # Popular ideas are asked for again more often than narrow bugs.
    originals = list(plans)
    for plan in originals:
        chance = 0.45 if plan.problem.kind == Kind.IDEA else 0.12
        if rng.random() >= chance:
            continue
        extra = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        last = plan.created_at
        for _ in range(extra):
            gap = timedelta(hours=rng.expovariate(1 / 60) + 1)
            when = min(last + gap, now - timedelta(minutes=20 + rng.randrange(600)))
            if when <= last:
                when = last + timedelta(minutes=10)
            last = when
            cross = rng.random() < 0.35
            language = plan.language if not cross else ("en" if plan.language == "zh" else "zh")
            build = _build_at(rng, now, when)
            if plan.build and _BUILD_NAMES.index(build) < _BUILD_NAMES.index(plan.build):
                build = plan.build
            dupe = _Plan(
                problem=plan.problem,
                group=plan.group,
                original=False,
                language=language,
                created_at=min(when, now - timedelta(minutes=2)),
                device=_device_for(rng, plan.problem) if plan.device else None,
                build=build if plan.build else None,
            )
            _write(rng, dupe, plan.wording if language == plan.language else None)
            plans.append(dupe)
    plans.sort(key=lambda p: p.created_at)
    return plans


def _plan_popularity(rng: random.Random, plans: list[_Plan], friends: int, now: datetime) -> None:
    """Zipf-like: the k-th most popular problem gets about C / k**0.8 voters, C = 60% of friends."""
    originals = [p for p in plans if p.original]
    ranks = list(range(1, len(originals) + 1))
    rng.shuffle(ranks)
    ceiling = int(friends * 0.6)
    first_of: dict[int, _Plan] = {}
    for plan, rank in zip(originals, ranks, strict=True):
        age_days = (now - plan.created_at).total_seconds() / 86400
        youth = min(1.0, 0.35 + age_days / 5)  # brand-new posts have had less time
        plan.popularity = min(ceiling, int(ceiling / rank**0.8 * youth) + rng.randrange(3))
        first_of[plan.group] = plan
    for plan in plans:
        if not plan.original:
            share = rng.uniform(0.05, 0.4)
            plan.popularity = max(1, round(first_of[plan.group].popularity * share))


def _plan_voters(rng: random.Random, plans: list[_Plan], locales: list[str]) -> None:
    """Pick the voters: mostly friends who read the post's language, never its author."""
    by_locale: dict[str, list[int]] = {"en": [], "zh": []}
    for index, locale in enumerate(locales):
        by_locale[locale].append(index)
    everyone = list(range(len(locales)))

    def choose(plan: _Plan, count: int, exclude: set[int]) -> set[int]:
        banned = exclude | {plan.author}
        same = [i for i in by_locale[plan.language] if i not in banned]
        n_same = min(len(same), round(count * 0.75))
        picked = set(rng.sample(same, n_same))
        rest = [i for i in everyone if i not in banned and i not in picked]
        picked.update(rng.sample(rest, min(len(rest), count - n_same)))
        return picked

    first_of = {p.group: p for p in plans if p.original}
    for plan in first_of.values():
        plan.voters = sorted(choose(plan, plan.popularity, set()))
    for plan in plans:
        if plan.original:
            continue
        # Some friends vote for both reports before anyone merges them.
        overlap = [v for v in first_of[plan.group].voters if v != plan.author]
        both = set(rng.sample(overlap, min(len(overlap), plan.popularity // 2)))
        plan.voters = sorted(both | choose(plan, plan.popularity - len(both), both))


def _plan_decisions(rng: random.Random, plans: list[_Plan], now: datetime) -> None:
    originals = sorted((p for p in plans if p.original), key=lambda p: -p.popularity)
    n = len(originals)
    for rank, plan in enumerate(originals):
        chance = 0.9 if rank < n * 0.1 else 0.45 if rank < n * 0.4 else 0.2
        if now - plan.created_at < timedelta(days=2):
            chance *= 0.3
        if rng.random() >= chance:
            continue
        declined = 8 if rank < n * 0.1 else 25
        outcomes = ("accepted", "planned", "shipped", "declined")
        if plan.problem.kind == Kind.BUG:
            outcome = rng.choices(outcomes, weights=(30, 20, 30, declined))[0]
        else:
            outcome = rng.choices(outcomes, weights=(25, 30, 15, declined))[0]
        if outcome == "shipped" and plan.problem.build == _BUILD_NAMES[-1]:
            outcome = "planned"  # reported on this week's build: the fix can only be planned
        if outcome == "accepted":
            plan.path = [Status.ACCEPTED]
        elif outcome == "planned":
            plan.path = rng.choice([[Status.PLANNED], [Status.ACCEPTED, Status.PLANNED]])
        elif outcome == "shipped":
            plan.path = [Status.ACCEPTED, Status.SHIPPED]
            if rng.random() < 0.5:
                plan.path.insert(1, Status.PLANNED)
        else:
            plan.path = [Status.DECLINED]
            if rng.random() < 0.2:  # accepted first, then found not to be worth it
                plan.path.insert(0, Status.ACCEPTED)
    # Make sure every status shows up, and that a regression reopened a couple of shipped fixes.
    for status in (Status.ACCEPTED, Status.PLANNED, Status.SHIPPED, Status.DECLINED):
        if not any(p.path and p.path[-1] == status for p in originals):
            plain = [p for p in originals if not p.path]
            chosen = plain[0] if plain else originals[-1]
            chosen.path = {
                Status.ACCEPTED: [Status.ACCEPTED],
                Status.PLANNED: [Status.ACCEPTED, Status.PLANNED],
                Status.SHIPPED: [Status.ACCEPTED, Status.SHIPPED],
                Status.DECLINED: [Status.DECLINED],
            }[status]
    shipped_bugs = [p for p in originals if p.path[-1:] == [Status.SHIPPED] and p.problem.bug]
    for plan in rng.sample(shipped_bugs, min(2, len(shipped_bugs))):
        plan.reopen = True
    # The team merged the older duplicates; the recent ones still wait in the triage queue.
    dupes = [p for p in plans if not p.original]
    for plan in dupes:
        old = now - plan.created_at > timedelta(days=3)
        plan.merge = rng.random() < (0.85 if old else 0.2)
    originals_by_group = {p.group: p for p in originals}
    cross = [p for p in dupes if p.language != originals_by_group[p.group].language]
    cross.sort(key=lambda p: p.created_at)
    if len(cross) >= 4:  # at least two cross-language merges and two waiting in the queue
        for plan in cross[:2]:
            plan.merge = True
        for plan in cross[-2:]:
            plan.merge = False
    if dupes and not any(p.merge for p in dupes):
        dupes[0].merge = True


def _assign_authors(
    rng: random.Random, plans: list[_Plan], locales: list[str], demo_en: int, demo_zh: int
) -> None:
    """Authors speak the post's language; a few friends write a lot, most write little."""
    pools: dict[str, tuple[list[int], list[float]]] = {}
    for language in ("en", "zh"):
        members = [
            i for i, loc in enumerate(locales) if loc == language and i not in (demo_en, demo_zh)
        ]
        rng.shuffle(members)
        pools[language] = (members, [1 / (k + 1) ** 0.7 for k in range(len(members))])
    for plan in plans:
        members, weights = pools[plan.language]
        plan.author = rng.choices(members, weights=weights)[0]
    # The demo friends wrote a few posts the team acted on, so their inbox tells a story.
    for demo, language in ((demo_en, "en"), (demo_zh, "zh")):
        decided = [p for p in plans if p.original and p.language == language and p.path]
        for plan in rng.sample(decided, min(3, len(decided))):
            plan.author = demo
        merged = [p for p in plans if p.merge and p.language == language]
        if merged:
            rng.choice(merged).author = demo


# --- doing it through the services -------------------------------------------------------------


class _Ticker:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def __call__(self, stage: str, done: int, total: int, every: int = 25) -> None:
        if self.progress is not None and (done % every == 0 or done == total):
            self.progress(stage, done, total)


def _spread(rng: random.Random, start: datetime, now: datetime, mean_hours: float) -> datetime:
    """A moment after ``start``: most activity soon after a post appears, a long tail later."""
    when = start + timedelta(hours=rng.expovariate(1 / mean_hours), minutes=1)
    when = min(when, now - timedelta(seconds=30 + rng.randrange(600)))
    return max(when, start + timedelta(seconds=10))


def fill_demo_world(
    session: Session, *, seed: int = 7, progress: Progress | None = None
) -> DemoSummary:
    """Fill an empty database with a demo world; raises Conflict if there are accounts already.

    The caller commits. Notification emails queued by the services are dropped: the demo's
    addresses are made up (``@example.com``), and nobody should be mailed hundreds of notices.
    """
    if session.scalar(select(func.count()).select_from(User)):
        raise Conflict(
            "The database already has accounts; the demo world only fills an empty database."
        )
    rng = random.Random(seed)
    now = utcnow()
    tick = _Ticker(progress)
    password_hash = accounts.hash_password(DEMO_PASSWORD)

    # People.
    staff = {
        a.email: accounts.create_user(
            session,
            email=a.email,
            password=DEMO_PASSWORD,
            display_name=a.display_name,
            locale=a.locale,
            country=a.country,
            role=a.role,
            password_hash=password_hash,
        )
        for a in _DEMO_ACCOUNTS
    }
    admin, team_zh, team_en = staff[_ADMIN.email], staff[_TEAM_ZH.email], staff[_TEAM_EN.email]
    friend_accounts = [_FRIEND_EN, _FRIEND_ZH, *_friend_accounts(rng)]
    friends: list[User] = []
    for done, account in enumerate(friend_accounts, start=1):
        if account in (_FRIEND_EN, _FRIEND_ZH):
            friends.append(staff[account.email])
        else:
            friends.append(
                accounts.create_user(
                    session,
                    email=account.email,
                    password=DEMO_PASSWORD,
                    display_name=account.display_name,
                    locale=account.locale,
                    country=account.country,
                    password_hash=password_hash,
                )
            )
        tick("friends", done, len(friend_accounts))
    locales = [f.locale for f in friends]

    # The plan: who writes what when, who votes, what the team decides.
    plans = _plan_posts(rng, now)
    _plan_popularity(rng, plans, len(friends), now)
    _plan_decisions(rng, plans, now)
    _assign_authors(rng, plans, locales, demo_en=0, demo_zh=1)
    _plan_voters(rng, plans, locales)

    # Posts, oldest first so ids follow time. Holding them keeps them in the session's (weak)
    # identity map, so the services' lookups by id do not go back to the database.
    posts: list[Post] = []
    for done, plan in enumerate(plans, start=1):
        post = community.create_post(
            session,
            author=friends[plan.author],
            kind=plan.problem.kind.value,
            title=plan.title,
            body=plan.body,
            device_model=plan.device,
            software_build=plan.build,
            language=plan.language,
            created_at=plan.created_at,
        )
        plan.post_id = post.id
        posts.append(post)
        tick("posts", done, len(plans))

    # Votes.
    total_votes = sum(len(p.voters) for p in plans)
    done = 0
    for plan in plans:
        for voter in plan.voters:
            community.vote(
                session,
                user=friends[voter],
                post_id=plan.post_id,
                created_at=_spread(rng, plan.created_at, now, mean_hours=40),
            )
            done += 1
            tick("votes", done, total_votes, every=100)

    # Comments, in the commenter's language; the team answers some, friends point at duplicates.
    _comment(rng, session, plans, friends, team_en, team_zh, now, tick)

    # Merges: the later report goes into the first one.
    first_of = {p.group: p for p in plans if p.original}
    merges = [p for p in plans if p.merge]
    for done, plan in enumerate(merges, start=1):
        actor = rng.choice((admin, team_zh if plan.language == "zh" else team_en))
        community.merge(
            session, actor=actor, source_id=plan.post_id, target_id=first_of[plan.group].post_id
        )
        tick("merges", done, len(merges), every=10)

    # Decisions, with reasons friends can read in their own language.
    decided = [p for p in plans if p.path]
    for done, plan in enumerate(decided, start=1):
        actor = rng.choice((admin, team_zh if plan.language == "zh" else team_en))
        zh = plan.language == "zh"
        area_en, area_zh = plan.problem.area
        facts = {
            "b": plan.build or plan.problem.build,
            "fix": _fix_build(plan.build or plan.problem.build),
            "next": _NEXT_BUILD,
            "area": area_zh if zh else area_en,
        }
        for status in plan.path:
            options = _REASONS[(status, plan.problem.kind)][1 if zh else 0]
            community.change_status(
                session,
                actor=actor,
                post_id=plan.post_id,
                status=status.value,
                reason=rng.choice(options).format(**facts),
            )
        if plan.reopen:
            community.change_status(
                session,
                actor=actor,
                post_id=plan.post_id,
                status=Status.ACCEPTED.value,
                reason=_REOPEN[1 if zh else 0].format(**facts),
            )
        tick("statuses", done, len(decided), every=10)

    session.flush()
    take_outbox(session)
    return _summary(session)


def _comment(
    rng: random.Random,
    session: Session,
    plans: Sequence[_Plan],
    friends: list[User],
    team_en: User,
    team_zh: User,
    now: datetime,
    tick: _Ticker,
) -> None:
    first_of = {p.group: p for p in plans if p.original}
    planned: list[tuple[datetime, _Plan, User, str]] = []
    by_locale: dict[str, list[int]] = {"en": [], "zh": []}
    for index, friend in enumerate(friends):
        by_locale[friend.locale].append(index)
    for plan in plans:
        count = int(math.sqrt(len(plan.voters)) * rng.uniform(0.2, 0.9)) + (rng.random() < 0.3)
        is_bug = plan.problem.kind == Kind.BUG
        for _ in range(count):
            same = rng.random() < 0.85
            language = plan.language if same else ("en" if plan.language == "zh" else "zh")
            who = friends[rng.choice(by_locale[language])]
            zh = language == "zh"
            pool: tuple[str, ...]
            if is_bug:
                pool = _ZH_BUG_COMMENTS if zh else _EN_BUG_COMMENTS
            else:
                pool = _ZH_IDEA_COMMENTS if zh else _EN_IDEA_COMMENTS
            text = rng.choice(pool).format(
                d=rng.choices(_DEVICES, weights=_DEVICE_WEIGHTS)[0],
                b=plan.build or _BUILDS[-1][0],
            )
            planned.append((_spread(rng, plan.created_at, now, 30), plan, who, text))
        if not plan.original and rng.random() < 0.6:
            zh = plan.language == "zh"
            who = friends[rng.choice(by_locale[plan.language])]
            text = rng.choice(_ZH_DUPE_COMMENTS if zh else _EN_DUPE_COMMENTS).format(
                o=first_of[plan.group].post_id
            )
            planned.append((_spread(rng, plan.created_at, now, 20), plan, who, text))
        if plan.original and (plan.path or rng.random() < 0.1) and rng.random() < 0.6:
            zh = plan.language == "zh"
            area_en, area_zh = plan.problem.area
            text = rng.choice(_ZH_TEAM_COMMENTS if zh else _EN_TEAM_COMMENTS).format(
                area=area_zh if zh else area_en
            )
            team = team_zh if zh else team_en
            planned.append((_spread(rng, plan.created_at, now, 24), plan, team, text))
    planned.sort(key=lambda item: item[0])
    for done, (when, plan, who, text) in enumerate(planned, start=1):
        community.add_comment(session, author=who, post_id=plan.post_id, body=text, created_at=when)
        tick("comments", done, len(planned), every=50)


def _summary(session: Session) -> DemoSummary:
    friend_filter = User.role == Role.FRIEND.value
    friends = session.scalar(select(func.count()).select_from(User).where(friend_filter)) or 0
    countries = session.scalar(select(func.count(func.distinct(User.country))).where(friend_filter))
    languages = {
        language: int(count)
        for language, count in session.execute(
            select(Post.language, func.count()).group_by(Post.language)
        )
    }
    statuses = {
        status: int(count)
        for status, count in session.execute(
            select(Post.status, func.count()).group_by(Post.status)
        )
    }
    merged = session.scalar(
        select(func.count()).select_from(Merge).where(Merge.undone_at.is_(None))
    )
    return DemoSummary(
        friends=int(friends),
        countries=int(countries or 0),
        posts=sum(languages.values()),
        posts_by_language={k: int(v) for k, v in sorted(languages.items())},
        votes=int(session.scalar(select(func.count()).select_from(Vote)) or 0),
        comments=int(session.scalar(select(func.count()).select_from(Comment)) or 0),
        statuses={s.value: int(statuses.get(s.value, 0)) for s in Status},
        duplicates_merged=int(merged or 0),
        logins=list(DEMO_LOGINS),
    )
