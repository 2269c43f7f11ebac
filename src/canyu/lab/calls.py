"""Figures for ``canyu bench pack`` and ``canyu bench calls-replay``.

The pack figures are pure (numpy, the pack format, the device client's offline lookup). The replay
starts a real server (uvicorn subprocess on 127.0.0.1, its own temporary database, TUF keys and
pack directory unless a database URL is given), sends marks through ``POST /api/v1/calls/marks``
from client threads, lets the server's own scheduled pack job publish, and reads the times back.
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from canyu.calls import numbers
from canyu.calls import pack as packs
from canyu.lab import calls_synth as synth
from canyu.lab.servers import Uvicorn

Progress = Callable[[str, int, int], None]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.array(values), q))


def pack_figures(count: int, *, seed: int = 1, clustered: float = 0.6) -> dict[str, Any]:
    from canyu.client.calls import CallsClient

    keys, codes = synth.labelled_numbers(count, seed=seed, clustered=clustered)
    started = time.perf_counter()
    pack = synth.pack_of(keys, codes, version=1, created=1_700_000_000)
    data = pack.encode()
    build_seconds = time.perf_counter() - started

    day_keys, day_codes = synth.a_day_later(keys, codes, seed=seed + 1)
    later = synth.pack_of(day_keys, day_codes, version=2, created=1_700_086_400)
    later_data = later.encode()
    started = time.perf_counter()
    delta = packs.make_delta(pack, later)
    delta_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="canyu-pack-bench-") as tmp:
        phone = CallsClient("http://127.0.0.1:9", "unused", data_dir=Path(tmp), default_region="CN")
        phone._install("86", data)
        started = time.perf_counter()
        _applied, encoded = packs.apply_delta(packs.decode(data), delta)
        apply_seconds = time.perf_counter() - started
        assert encoded == later_data
        rng = np.random.default_rng(seed + 2)
        hits = rng.choice(keys, size=1000)
        misses = rng.integers(
            int(synth.BASE_KEY) + 13 * 10**9, int(synth.BASE_KEY) + 2 * 10**10, 1000
        )
        probes = [f"+86{str(int(k))[1:]}" for k in np.concatenate([hits, misses])]
        random.Random(seed).shuffle(probes)
        timings = []
        found = 0
        for number in probes:
            t = time.perf_counter()
            _spam, category = phone.is_spam(number)
            timings.append((time.perf_counter() - t) * 1e6)
            found += category is not None
        reader = phone.current_pack("86")
        assert reader is not None
        raw = []
        for key in np.concatenate([hits, misses])[:1000]:
            t = time.perf_counter()
            reader.lookup(int(key))
            raw.append((time.perf_counter() - t) * 1e6)

    uniform_keys, uniform_codes = synth.labelled_numbers(count, seed=seed, clustered=0.0)
    uniform = synth.pack_of(uniform_keys, uniform_codes).encode()
    touched = packs.touched(pack, later).size
    return {
        "numbers": count,
        "bytes": len(data),
        "bits_per_number": len(data) * 8 / count,
        "bits_per_number_uniform": len(uniform) * 8 / count,
        "build_seconds": build_seconds,
        "delta_bytes": len(delta),
        "delta_share": len(delta) / len(later_data),
        "delta_numbers_touched": int(touched),
        "delta_build_seconds": delta_seconds,
        "delta_apply_seconds": apply_seconds,
        "lookup_us": statistics.fmean(timings),
        "lookup_p95_us": _percentile(timings, 95),
        "pack_lookup_us": statistics.fmean(raw),
        "lookup_hits": found,
        "lookup_probes": len(probes),
    }


# --- replay through the HTTP API --------------------------------------------------------------


@dataclass(frozen=True)
class ReplayConfig:
    marks: int = 1_000_000
    friends: int = 20_000
    concurrency: int = 8
    workers: int = 1
    pack_interval_minutes: float | None = None
    max_minutes: float = 30.0
    database_url: str | None = None
    ratelimit_storage_url: str = "memory://"
    seed: int = 11


def _workload(config: ReplayConfig) -> tuple[list[tuple[int, str, str]], int]:
    """Marks as (friend, number, category): spam numbers with heavy-tailed popularity, each
    marked by distinct friends mostly with one category, plus 10% noise on random numbers."""
    rng = random.Random(config.seed)
    categories = ("fraud", "harassment", "telemarketing", "delivery", "other")
    spam_count = max(10, config.marks // 40)
    spam = [
        f"+86{rng.choice((130, 150, 170, 186))}{rng.randrange(10**8):08d}"
        for _ in range(spam_count)
    ]
    weights = [1.0 / (i + 1) ** 0.7 for i in range(spam_count)]
    kind = [rng.choice(categories[:3]) for _ in range(spam_count)]
    chosen = rng.choices(range(spam_count), weights=weights, k=int(config.marks * 0.9))
    out = [
        (
            rng.randrange(config.friends),
            spam[i],
            kind[i] if rng.random() < 0.85 else rng.choice(categories),
        )
        for i in chosen
    ]
    out += [
        (rng.randrange(config.friends), f"+86139{rng.randrange(10**8):08d}", rng.choice(categories))
        for _ in range(config.marks - len(out))
    ]
    rng.shuffle(out)
    return out, spam_count


def _make_friends(database: Any, count: int, seed: int) -> list[str]:
    """Friends with realistic account ages and an API token each; returns the raw tokens."""
    from sqlalchemy import insert

    from canyu.accounts import service as accounts
    from canyu.accounts.models import ApiToken, User
    from canyu.db import utcnow

    rng = random.Random(seed)
    password_hash = accounts.hash_password(secrets.token_urlsafe(16))
    run = secrets.token_hex(4)
    now = utcnow()
    tokens = [f"cy_{secrets.token_urlsafe(32)}" for _ in range(count)]
    with database.session() as session:
        user_rows = [
            {
                "email": f"replay-{run}-{i}@example.com",
                "password_hash": password_hash,
                "display_name": f"Replay {i}",
                "locale": "en",
                "country": "CN",
                "role": "friend",
                "created_at": now
                - timedelta(
                    days=rng.uniform(60, 1500) if rng.random() < 0.8 else rng.uniform(0, 60)
                ),
            }
            for i in range(count)
        ]
        ids: list[int] = []
        for start in range(0, count, 2000):
            result = session.execute(
                insert(User).returning(User.id), user_rows[start : start + 2000]
            )
            ids.extend(result.scalars())
        session.execute(
            insert(ApiToken),
            [
                {
                    "user_id": uid,
                    "name": "replay",
                    "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "created_at": now,
                }
                for uid, token in zip(ids, tokens, strict=True)
            ],
        )
    _ = accounts  # the hashing scheme is accounts.service's: SHA-256 of the raw token
    return tokens


def replay(config: ReplayConfig, progress: Progress | None = None) -> dict[str, Any]:
    import httpx
    from sqlalchemy import select

    from canyu import migrate
    from canyu.calls.models import LabelEvent, Number, PackRecord
    from canyu.db import Database
    from canyu.releases.tuf_repo import init_keys

    report = progress or (lambda _stage, _done, _total: None)
    tmp = Path(tempfile.mkdtemp(prefix="canyu-replay-"))
    url = config.database_url or f"sqlite:///{tmp / 'replay.db'}"
    migrate.upgrade(url)
    database = Database(url)
    init_keys(tmp / "keys" / "online", root_keys_dir=tmp / "keys" / "root")
    report("friends", 0, config.friends)
    tokens = _make_friends(database, config.friends, config.seed)
    report("friends", config.friends, config.friends)
    workload, spam_count = _workload(config)
    networks = [
        f"10.{(i * 7919) % 250}.{(i * 104729) % 250}.{i % 200 + 1}" for i in range(config.friends)
    ]

    env = dict(os.environ)
    env.update(
        {
            "CANYU_DATABASE_URL": url,
            "CANYU_LOG_LEVEL": "WARNING",
            # A throughput benchmark: requests queue for room rather than being shed at once.
            "CANYU_ADMISSION_WAIT_SECONDS": "60",
            "CANYU_SECRET_KEY": secrets.token_urlsafe(32),
            "CANYU_CALLS_MARK_RATE": "100000/minute",
            "CANYU_CALLS_PACK_DIR": str(tmp / "packs"),
            "CANYU_RELEASE_TUF_DIR": str(tmp / "tuf"),
            "CANYU_RELEASE_KEYS_DIR": str(tmp / "keys" / "online"),
            "CANYU_RELEASE_ROOT_KEYS_DIR": str(tmp / "keys" / "root"),
            "CANYU_JOBS_ENABLED": "true",
            "CANYU_RATELIMIT_STORAGE_URL": config.ratelimit_storage_url,
        }
    )
    if config.pack_interval_minutes:
        env["CANYU_CALLS_PACK_INTERVAL_MINUTES"] = str(config.pack_interval_minutes)
    from canyu.calls.settings import CallsSettings

    interval = config.pack_interval_minutes or CallsSettings().pack_interval_minutes
    server = Uvicorn(
        "canyu.asgi:app",
        env,
        workers=config.workers,
        options=("--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"),
        cwd=tmp,
    )
    statuses: Counter[int] = Counter()
    sent = 0
    lock = threading.Lock()
    with server:
        base = server.url
        stop_at = time.monotonic() + config.max_minutes * 60
        cursor = iter(range(len(workload)))

        def client() -> None:
            nonlocal sent
            with httpx.Client(base_url=base, timeout=30) as http:
                while time.monotonic() < stop_at:
                    with lock:
                        index = next(cursor, None)
                    if index is None:
                        return
                    friend, number, category = workload[index]
                    response = http.post(
                        "/api/v1/calls/marks",
                        json={"number": number, "category": category},
                        headers={
                            "Authorization": f"Bearer {tokens[friend]}",
                            "X-Forwarded-For": networks[friend],
                        },
                    )
                    with lock:
                        statuses[response.status_code] += 1
                        sent += 1
                        if sent % 500 == 0:
                            report("marks", sent, len(workload))

        started = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(config.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        send_seconds = time.monotonic() - started
        report("marks", sent, len(workload))

        # Wait for the scheduled job to publish everything labelled so far.
        wait_until = time.monotonic() + interval * 60 + 180
        with database.session() as session:
            last_label = session.scalar(
                select(LabelEvent.at).order_by(LabelEvent.at.desc()).limit(1)
            )
        while time.monotonic() < wait_until and last_label is not None:
            with database.session() as session:
                published = session.scalar(
                    select(PackRecord.published_at)
                    .order_by(PackRecord.published_at.desc())
                    .limit(1)
                )
            if published is not None and published >= last_label:
                break
            report(
                "waiting for the pack job",
                int(time.monotonic() - started - send_seconds),
                int(interval * 60 + 180),
            )
            time.sleep(5)

    delays: list[float] = []
    unpublished = 0
    with database.session() as session:
        firsts = session.execute(
            select(LabelEvent.region, LabelEvent.number_id, LabelEvent.at)
            .where(LabelEvent.category.is_not(None))
            .order_by(LabelEvent.at)
        ).all()
        packs_published = session.execute(
            select(PackRecord.region, PackRecord.built_at, PackRecord.published_at).where(
                PackRecord.published.is_(True)
            )
        ).all()
        labelled = session.scalar(select(Number.id).where(Number.label.is_not(None)).limit(1))
        _ = labelled
        seen: set[int] = set()
        by_zone: dict[str, list[tuple[Any, Any]]] = {}  # packs are per calling zone
        for zone, built, published_at in packs_published:
            by_zone.setdefault(zone, []).append((built, published_at))
        for region, number_id, at in firsts:
            if number_id in seen:
                continue
            seen.add(number_id)
            zone = numbers.zone_of_region(region)
            candidates = [p for b, p in by_zone.get(zone, []) if b >= at and p is not None]
            if candidates:
                delays.append((min(candidates) - at).total_seconds())
            else:
                unpublished += 1
        pack_count = len(packs_published)
    database.dispose()
    shutil.rmtree(tmp, ignore_errors=True)  # the database, keys and packs of this run
    accepted = statuses.get(201, 0)
    throughput = accepted / send_seconds if send_seconds else 0.0
    out: dict[str, Any] = {
        "marks_requested": config.marks,
        "marks_sent": sent,
        "marks_accepted": accepted,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "send_seconds": send_seconds,
        "throughput_marks_per_s": throughput,
        "extrapolated_seconds_for_requested": config.marks / throughput if throughput else None,
        "extrapolated": sent < config.marks,
        "friends": config.friends,
        "spam_numbers": spam_count,
        "concurrency": config.concurrency,
        "workers": config.workers,
        "backend": url.split(":", 1)[0],
        "ratelimit_storage": config.ratelimit_storage_url.split(":", 1)[0],
        "pack_interval_minutes": interval,
        "packs_published": pack_count,
        "numbers_labelled": len(seen),
        "numbers_not_yet_published": unpublished,
        "tip_to_published_p50_s": _percentile(delays, 50),
        "tip_to_published_p95_s": _percentile(delays, 95),
        "tip_to_published_max_s": max(delays) if delays else float("nan"),
    }
    return out
