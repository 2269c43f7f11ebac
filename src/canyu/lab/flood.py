"""`canyu bench flood`: a burst of concurrent requests against a served app, on SQLite or
PostgreSQL. Every request must be answered at once, normally or with 503/429 (the app admits
only what its connection pool serves: canyu.fastpath.Admission), and the server must be healthy
the moment the burst ends.

A fresh database gets one post; uvicorn serves ``canyu.asgi:app`` in its own process; then
``concurrency`` connections each send one ``GET /api/v1/feedback/<id>`` at the same moment (bare
asyncio streams, so the client costs little), while ``/healthz`` is asked every 100 ms. It prints
``ok`` (200s), ``shed`` (503 or 429), ``errors`` (anything else, or no answer), ``stalled``
(answers slower than 2 s), ``p99_ms``, ``healthz_max_ms`` and ``recovery_s``: from the burst's
last answer until a plain request is answered 200 again.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

STALLED_SECONDS = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed(database_url: str) -> int:
    """Migrate the database and write one post; its id."""
    from canyu import migrate
    from canyu.accounts import service as accounts
    from canyu.community import service as community
    from canyu.db import Database

    migrate.upgrade(database_url)
    database = Database(database_url)
    try:
        with database.session() as session:
            author = accounts.create_user(
                session,
                email=f"flood-{secrets.token_hex(4)}@example.com",
                password=secrets.token_urlsafe(16),
                display_name="Flood",
            )
            post = community.create_post(
                session, author=author, kind="bug", title="Flooded", body="A post to read."
            )
            session.flush()
            return post.id
    finally:
        database.dispose()


async def _get(port: int, path: str) -> tuple[int, float]:
    """One request on its own connection: (status, seconds); status 0 when unanswered."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        line = await asyncio.wait_for(reader.readline(), 60)
        status = int(line.split()[1]) if line.startswith(b"HTTP/") else 0
        await reader.read()
        writer.close()
    except (OSError, ValueError, IndexError, TimeoutError):
        status = 0
    return status, time.perf_counter() - started


async def _burst(port: int, path: str, concurrency: int) -> dict[str, Any]:
    done = asyncio.Event()
    health: list[float] = []

    async def watch_health() -> None:
        while not done.is_set():
            status, seconds = await _get(port, "/healthz")
            health.append(seconds if status == 200 else float("inf"))
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch_health())
    answers = await asyncio.gather(*(_get(port, path) for _ in range(concurrency)))
    ended = time.perf_counter()
    recovered = ended
    while True:  # until a plain request is answered 200 again
        status, _seconds = await _get(port, path)
        recovered = time.perf_counter()
        if status == 200 or recovered - ended > 120:
            break
        await asyncio.sleep(0.01)
    done.set()
    await watcher
    statuses = [s for s, _ in answers]
    latencies = sorted(t for _, t in answers)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return {
        "concurrency": concurrency,
        "ok": statuses.count(200),
        "shed": sum(1 for s in statuses if s in (503, 429)),
        "errors": sum(1 for s in statuses if s not in (200, 503, 429)),
        "stalled": sum(1 for t in latencies if t > STALLED_SECONDS),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "healthz_max_ms": round(max(health, default=0.0) * 1000, 1),
        "recovery_s": round(recovered - ended, 3),
    }


def run(database_url: str | None, concurrency: int, workdir: Path) -> dict[str, Any]:
    url = database_url or f"sqlite:///{workdir / 'flood.db'}"
    post_id = _seed(url)
    port = _free_port()
    env = {
        **os.environ,
        "CANYU_DATABASE_URL": url,
        "CANYU_SECRET_KEY": secrets.token_urlsafe(16),
        "CANYU_LOG_LEVEL": "WARNING",
        "CANYU_MQTT_URL": "",
        "CANYU_RELEASE_TUF_DIR": str(workdir / "tuf"),
        "CANYU_RELEASE_KEYS_DIR": str(workdir / "keys"),
        "CANYU_RELEASE_ROOT_KEYS_DIR": str(workdir / "root"),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "canyu.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--backlog",
        str(max(2048, concurrency * 2)),
    ]
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - our own command, no shell
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while asyncio.run(_get(port, "/healthz"))[0] != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {workdir / 'server.log'}")
            time.sleep(0.3)
        asyncio.run(_get(port, f"/api/v1/feedback/{post_id}"))  # warm up
        result = asyncio.run(_burst(port, f"/api/v1/feedback/{post_id}", concurrency))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    return {"database": backend, **result}


def flood(
    concurrency: Annotated[int, typer.Option(help="Requests sent at the same moment.")] = 1000,
    database_url: Annotated[
        str | None,
        typer.Option(help="A PostgreSQL URL to flood (its data is added to); default SQLite."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """A burst of concurrent reads: each answered at once (200, or 503/429), none stalled."""
    if not 1 <= concurrency <= 10_000:
        raise typer.BadParameter("concurrency is 1 to 10000")
    with tempfile.TemporaryDirectory(prefix="canyu-flood-") as directory:
        result = run(database_url, concurrency, Path(directory))
    goals = {
        "no_stalled": result["stalled"] == 0,
        "no_other_errors": result["errors"] == 0,
        "recovery_under_1s": result["recovery_s"] < 1.0,
    }
    result["goals_met"] = all(goals.values())
    if json_output:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key}: {value}")
