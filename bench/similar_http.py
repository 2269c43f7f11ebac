"""Similar-posts latency through the HTTP API with many posts.

Loads N posts (default 100,000, 60 % English, 40 % Chinese) into a fresh SQLite database (or the
PostgreSQL given by --database-url), starts `canyu serve --workers W` in its own process, waits
for every worker's similar-posts index to warm up (after storing every post's title vector
once, as `canyu db embed-posts` does, timed apart), then sends bounded queries from this process,
a few at a time, and prints p50/p95/p99 latency, throughput and each worker's memory. Last, it
writes a new post straight into the database and measures how long until every one of a burst
of queries (spread over the workers by the kernel) finds it.

    .venv/bin/python bench/similar_http.py [--posts 100000] [--queries 500] [--concurrency 4]
        [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from canyu import migrate
from canyu.accounts.models import User
from canyu.accounts.service import hash_password
from canyu.community import vectors
from canyu.community.models import Post
from canyu.db import Database
from canyu.progress import progress_bar, staged

# Queries per visibility check: with two workers, all of them landing on one is 2**-19 likely.
VISIBILITY_BURST = 20
NEW_POST_TITLE = "Xylophone ringtone clips at full volume"

EN_SUBJECTS = [
    "battery",
    "camera app",
    "Wi-Fi",
    "Bluetooth",
    "fingerprint sensor",
    "lock screen",
    "notification shade",
    "keyboard",
    "gallery",
    "music player",
    "GPS",
    "dual SIM",
    "hotspot",
    "face unlock",
    "dark mode",
    "screen recorder",
    "file manager",
    "NFC payments",
    "alarm clock",
]
EN_PROBLEMS = [
    "drains fast overnight",
    "crashes when opening",
    "keeps disconnecting",
    "is very slow",
    "freezes after the update",
    "does not work in the cold",
    "shows the wrong time",
    "restarts the phone",
    "uses too much memory",
    "stops after a few minutes",
]
ZH_SUBJECTS = [
    "电池",
    "相机",
    "无线网络",
    "蓝牙",
    "指纹",
    "锁屏",
    "通知栏",
    "输入法",
    "相册",
    "音乐播放器",
    "定位",
    "双卡",
    "热点",
    "人脸解锁",
    "深色模式",
    "录屏",
    "文件管理",
    "NFC支付",
    "闹钟",
]
ZH_PROBLEMS = [
    "一夜耗电很快",
    "打开就闪退",
    "经常断开",
    "非常卡",
    "更新后卡死",
    "天冷时不能用",
    "时间显示错误",
    "导致手机重启",
    "占用内存太多",
    "几分钟后就停止",
]
BUILDS = ["4.11.8", "4.11.15", "4.11.22", "4.12.1"]


def make_post(rng: random.Random, index: int) -> tuple[str, str, str]:
    if rng.random() < 0.6:
        subject, problem = rng.choice(EN_SUBJECTS), rng.choice(EN_PROBLEMS)
        title = f"{subject.capitalize()} {problem}"
        body = (
            f"Since build {rng.choice(BUILDS)} the {subject} {problem}. "
            f"It happens {rng.choice(['every day', 'sometimes', 'after charging'])}"
            f" (report {index})."
        )
        return title, body, "en"
    subject, problem = rng.choice(ZH_SUBJECTS), rng.choice(ZH_PROBLEMS)
    title = f"{subject}{problem}"
    when = rng.choice(["每天都会", "偶尔", "充电后", "用流量时"])
    body = f"升级到{rng.choice(BUILDS)}之后{subject}{problem}，{when}出现（反馈{index}）。"
    return title, body, "zh"


def load(database_url: str, posts: int, seed: int) -> int:
    migrate.upgrade(database_url)
    database = Database(database_url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with database.session() as session:
        author = User(
            email="bench@example.com",
            password_hash=hash_password("bench-password"),
            display_name="bench",
            locale="en",
            country="CN",
            role="friend",
        )
        session.add(author)
        session.flush()
        author_id = author.id
    with progress_bar() as progress, database.engine.begin() as connection:
        task = progress.add_task("loading posts", total=posts)
        batch = 5_000
        for start in range(0, posts, batch):
            rows = []
            for i in range(start, min(posts, start + batch)):
                title, body, language = make_post(rng, i)
                created = now - timedelta(minutes=rng.randrange(60 * 24 * 90))
                rows.append(post_row(author_id, title, body, language, created))
            connection.execute(insert(Post), rows)
            progress.update(task, advance=len(rows))
    database.dispose()
    return author_id


def embed_posts(database_url: str) -> float:
    """Seconds to store every post's vector once (the batch job after a bulk load)."""
    database = Database(database_url)
    started = time.perf_counter()
    with database.session() as session, staged() as report:
        vectors.backfill(session, report=report)
    database.dispose()
    return time.perf_counter() - started


def post_row(
    author_id: int, title: str, body: str, language: str, created: datetime
) -> dict[str, object]:
    return {
        "author_id": author_id,
        "kind": "bug",
        "title": title,
        "body": body,
        "language": language,
        "status": "new",
        "vote_count": 0,
        "comment_count": 0,
        "top_score": 0.0,
        "created_at": created,
        "updated_at": created,
    }


def visibility_s(
    base: str, database_url: str, author_id: int, concurrency: int, timeout_s: float = 30.0
) -> float:
    """Seconds from a post's commit until a burst of queries all find it (every worker)."""
    database = Database(database_url)
    with database.engine.begin() as connection:
        connection.execute(
            insert(Post),
            [post_row(author_id, NEW_POST_TITLE, "Heard on every call.", "en", datetime.now(UTC))],
        )
    written = time.perf_counter()
    database.dispose()
    return asyncio.run(_until_found_by_all(base, written, concurrency, timeout_s))


async def _until_found_by_all(
    base: str, written: float, concurrency: int, timeout_s: float
) -> float:
    """A burst of queries, ``concurrency`` at a time (more are shed with 503 by design),
    repeated until each one finds the new post."""
    params: dict[str, str | int] = {"q": NEW_POST_TITLE, "k": 1}
    gate = asyncio.Semaphore(concurrency)

    async def query(client: httpx.AsyncClient) -> httpx.Response:
        async with gate:
            return await client.get("/api/v1/feedback/similar", params=params)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.perf_counter() - written < timeout_s:
            responses = await asyncio.gather(*(query(client) for _ in range(VISIBILITY_BURST)))
            for response in responses:
                response.raise_for_status()
            found = [response.json() for response in responses]
            if all(hits and hits[0]["post"]["title"] == NEW_POST_TITLE for hits in found):
                return time.perf_counter() - written
    return float("inf")


def worker_rss_mb(server_pid: int) -> list[int]:
    """Resident memory of each worker process under the server (the server itself if none)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    pids = [int(pid) for pid in children] or [server_pid]
    sizes = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(round(int(status.split("VmRSS:")[1].split()[0]) / 1024))
    return sorted(sizes, reverse=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_queries(base: str, queries: list[str], concurrency: int) -> list[float]:
    latencies: list[float] = []
    pending = iter(queries)

    async def worker(client: httpx.AsyncClient) -> None:
        for query in pending:
            started = time.perf_counter()
            response = await client.get("/api/v1/feedback/similar", params={"q": query, "k": 5})
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.queries <= 100_000 or not 1 <= args.concurrency <= 64:
        parser.error("queries 1..100000, concurrency 1..64")
    if not 1 <= args.workers <= 8:
        parser.error("workers 1..8")

    workdir = Path(tempfile.mkdtemp(prefix="canyu-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    author_id = load(url, args.posts, args.seed)
    embed_s = embed_posts(url)

    port = free_port()
    env = {
        **os.environ,
        "CANYU_DATABASE_URL": url,
        "CANYU_SECRET_KEY": "bench",
        "CANYU_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        # uvicorn itself rather than `canyu serve`: on a busy 2-core machine a worker can take
        # more than uvicorn's default 5 s to answer its first health check, and is then killed.
        [
            *(sys.executable, "-m", "uvicorn", "canyu.asgi:app", "--port", str(port)),
            *("--workers", str(args.workers), "--timeout-worker-healthcheck", "120"),
            *("--log-level", "warning"),
        ],
        env=env,
        cwd=workdir,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        started = time.perf_counter()
        # A query waits for its worker's index warm-up; a burst reaches every worker.
        with httpx.Client(base_url=base, timeout=3600) as client:
            for _ in range(VISIBILITY_BURST * args.workers):
                client.get("/api/v1/feedback/similar", params={"q": "battery"})
        warmup_s = time.perf_counter() - started
        rng = random.Random(args.seed + 1)
        queries = []
        for _ in range(args.queries):
            title, _body, _lang = make_post(rng, 0)
            queries.append(title[: rng.randint(min(4, len(title)), len(title))])  # as typed
        started = time.perf_counter()
        latencies = asyncio.run(run_queries(base, queries, args.concurrency))
        elapsed = time.perf_counter() - started
        rss_mb = worker_rss_mb(server.pid)
        visible_s = visibility_s(base, url, author_id, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "posts": args.posts,
        "queries": len(latencies),
        "concurrency": args.concurrency,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "rps": round(len(latencies) / elapsed, 1),
        "vectors_stored_once_s": round(embed_s, 1),
        "index_warmup_s": round(warmup_s, 1),
        "workers": args.workers,
        "worker_rss_mb": rss_mb,
        "new_post_visible_in_every_worker_s": round(visible_s, 3),
    }
    print(
        json.dumps(result) if args.json else "\n".join(f"{k:>16}: {v}" for k, v in result.items())
    )


if __name__ == "__main__":
    main()
