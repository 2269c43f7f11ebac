"""``canyu bench greetings``: build every country's greeting packs in each of its languages for a
year, the way the job does (``service.build_packs``: database, calendars, encoding, signing into a
TUF repository; ``seconds``), and alone (``build_seconds``: calendars and encoding, 20 greetings
in every pack); bytes per pack; and the phone's lookup of today's greetings from its pack
(``lookup_ms``: file read, decode and lookup; ``lookup_warm_ms``: the pack already in memory).

The greetings are synthetic (made here, varied so that they do not compress better than real
ones): 20 per pack, spread over the country's festivals, about 60 characters each.
"""

from __future__ import annotations

import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)

GOALS = {"seconds": 30.0, "bytes_per_pack_20_greetings": 8 * 1024, "lookup_ms": 1.0}
_ZH = "新春 快乐 万事 如意 阖家 幸福 身体 健康 心想 事成 吉祥 平安 团圆 美满 岁岁 年年 福气 满满"
_EN = "wishing you and your family joy peace health luck love warmth laughter light hope a bright"
_WORDS = {"zh": _ZH.split(), "en": (_EN + " happy festive season of good moments friends").split()}


def synthetic_greeting(rng: random.Random, language: str, n: int) -> str:
    words = _WORDS.get(language) or [
        "".join(rng.choice("aeioubdklmnrst") for _ in range(rng.randint(3, 8))) for _ in range(40)
    ]
    joiner = "" if language == "zh" else " "
    size = 14 if language == "zh" else 11
    text = joiner.join(rng.choice(words) for _ in range(size))
    return f"{{name}}，{text}！" if language == "zh" else f"{text.capitalize()}, {{name}}! ({n})"


def build_all(
    year: int, per_pack: int, seed: int, progress: Any = None
) -> tuple[list[tuple[str, str, bytes]], float]:
    """Every country's packs in each of its languages covering ``year``: (country, language,
    bytes) and the seconds it took (festival calendars included, from a cold cache)."""
    from canyu.greetings import calendar, service

    calendar._festivals.cache_clear()
    calendar.chinese_lunar.cache_clear()
    rng = random.Random(seed)
    start = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - start).days
    countries = list(calendar.countries())
    texts = {}
    for language in {lang for c in countries for lang in calendar.languages(c)}:
        texts[language] = [synthetic_greeting(rng, language, n) for n in range(per_pack)]
    packs: list[tuple[str, str, bytes]] = []
    started = time.perf_counter()
    for done, country in enumerate(countries, 1):
        keys = [f.key for f in calendar.festivals(country, year)]
        for language in calendar.languages(country):
            greetings: dict[str, list[tuple[str, str]]] = {}
            for n, text in enumerate(texts[language]):
                greetings.setdefault(keys[n % len(keys)], []).append((text, f"Friend {n}"))
            pack = service.make_pack(
                country, language, start=start, days=days, greetings=greetings, created=1
            )
            packs.append((country, language, pack.encode()))
        if progress is not None:
            progress(done, len(countries))
    return packs, time.perf_counter() - started


def service_path(year: int, per_pack: int, seed: int, work: Path, publish: bool) -> dict[str, Any]:
    """The real job: ``service.build_packs`` for every country and language over a SQLite
    database holding ``per_pack`` approved greetings for CN/zh and for US/en (written and
    approved through the service's rules), signed into a fresh TUF repository."""
    from canyu import migrate
    from canyu.accounts import service as accounts
    from canyu.accounts.models import Role
    from canyu.db import Database
    from canyu.greetings import calendar, service
    from canyu.markets import service as markets
    from canyu.markets.geo import world
    from canyu.releases.publishing import TargetPublisher
    from canyu.releases.settings import ReleaseSettings
    from canyu.releases.tuf_repo import init_keys

    url = f"sqlite:///{work / 'bench.db'}"
    migrate.upgrade(url)
    database = Database(url)
    rng = random.Random(seed)
    publisher = None
    if publish:
        init_keys(work / "keys", root_keys_dir=work / "root")
        publisher = TargetPublisher(
            service.TUF_PRODUCT,
            ReleaseSettings(
                tuf_dir=work / "tuf", keys_dir=work / "keys", root_keys_dir=work / "root"
            ),
        )
    password = secrets.token_urlsafe(12)
    with database.session() as session:
        team = accounts.create_user(
            session,
            email="team@bench.example",
            password=password,
            display_name="Team",
            role=Role.TEAM,
        )
        author = accounts.create_user(
            session,
            email="friend@bench.example",
            password=password,
            display_name="Friend",
        )
        for country, language in (("CN", "zh"), ("US", "en")):
            keys = [f.key for f in calendar.festivals(country, year)]
            slots = len(keys) * service.PER_FESTIVAL
            for n in range(min(per_pack, slots)):
                greeting = service.write_greeting(
                    session,
                    author=author,
                    festival=keys[n % len(keys)],
                    language=language,
                    text=synthetic_greeting(rng, language, n),
                )
                service.decide(session, actor=team, greeting_id=greeting.id, approve=True)
        # Packs are built for opened markets: here every country canyu knows is one.
        for country in calendar.countries():
            if world().resolve(country) is not None and country != "CN":
                markets.open_market(session, country_code=country, opened_on=date(year, 1, 1))
    calendar._festivals.cache_clear()
    calendar.chinese_lunar.cache_clear()
    started = time.perf_counter()
    with database.session() as session:
        built = service.build_packs(session, publisher=publisher, today=date(year, 1, 1))
    seconds = time.perf_counter() - started
    database.dispose()
    by_pack = {(b.country, b.language): b for b in built}
    return {
        "seconds": round(seconds, 2),
        "packs": len(built),
        "published": publish,
        "cn_zh": {
            "greetings": by_pack[("CN", "zh")].greetings,
            "bytes": by_pack[("CN", "zh")].size,
        },
        "us_en": {
            "greetings": by_pack[("US", "en")].greetings,
            "bytes": by_pack[("US", "en")].size,
        },
    }


def worst_case_bytes(per_pack: int, seed: int) -> int:
    """A pack of ``per_pack`` greetings at the length limit, of random Chinese characters (which
    hardly compress): the largest a pack of that many greetings gets."""
    from canyu.greetings import pack as pack_mod
    from canyu.greetings import service

    rng = random.Random(seed)
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    pack = pack_mod.GreetingPack("CN", "zh", 1, 0, date(2027, 1, 1), 366)
    for n in range(per_pack):
        pack.festivals.append(
            pack_mod.PackFestival(date(2027, 1, 1) + timedelta(days=n), f"k{n}", "节日")
        )
        text = "".join(rng.choice(han) for _ in range(service.MAX_TEXT))
        pack.greetings.append(pack_mod.PackGreeting(n, text, f"Friend {n}"))
    return len(pack.encode())


def lookup_ms(packs: list[tuple[str, str, bytes]], year: int, work: Path) -> dict[str, float]:
    """The phone's answer for a day: from the pack in memory, and cold (file read + decode)."""
    from canyu.greetings.pack import decode

    data = next(p[2] for p in packs if p[:2] == ("CN", "zh"))
    path = work / "pack.cyg"
    path.write_bytes(data)
    pack = decode(data)
    days = [date(year, 1, 1) + timedelta(days=d) for d in range(365)]
    started = time.perf_counter()
    for day in days:
        pack.due(day)
    warm = (time.perf_counter() - started) / len(days) * 1000
    timings = []
    for n in range(400):
        t0 = time.perf_counter()
        decode(path.read_bytes()).due(days[n % len(days)])
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    cold = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    return {
        "lookup_ms": round(cold, 4),
        "lookup_p99_ms": round(p99, 4),
        "lookup_warm_ms": round(warm, 4),
    }


def greetings(
    year: Annotated[int, typer.Option(help="The year the packs cover.")] = 2027,
    per_pack: Annotated[int, typer.Option(help="Greetings per pack.", min=0, max=500)] = 20,
    publish: Annotated[bool, typer.Option(help="Also sign every pack into TUF.")] = True,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic greetings.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Every country's and language's greeting packs for a year: seconds, bytes, phone lookup."""
    from canyu.progress import staged

    with staged(err) as report, tempfile.TemporaryDirectory(prefix="canyu-greetings-") as tmp:
        work = Path(tmp)
        packs, seconds = build_all(year, per_pack, seed, lambda d, t: report("build", d, t))
        lookups = lookup_ms(packs, year, work)
        report("service.build_packs", 0, 1)
        job = service_path(year, per_pack, seed, work, publish)
        report("service.build_packs", 1, 1)
    sizes = [len(p[2]) for p in packs]
    result: dict[str, Any] = {
        "year": year,
        "countries": len({p[0] for p in packs}),
        "packs": len(packs),
        "greetings_per_pack": per_pack,
        "seconds": job["seconds"],
        "build_seconds": round(seconds, 2),
        "job": job,
        "bytes_per_pack_mean": round(statistics.fmean(sizes), 1),
        "bytes_per_pack_max": max(sizes),
        "bytes_per_pack_20_greetings": max(sizes) if per_pack == 20 else None,
        "bytes_worst_case": worst_case_bytes(per_pack, seed),
        **lookups,
        "goals": GOALS,
    }
    result["goals_met"] = {
        "seconds": job["seconds"] < GOALS["seconds"],
        "bytes_per_pack_20_greetings": per_pack != 20
        or max(max(sizes), result["bytes_worst_case"]) <= 8 * 1024,
        "lookup_ms": lookups["lookup_ms"] < GOALS["lookup_ms"],
    }
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    for key, value in result.items():
        err.print(f"{key}: {value}")
