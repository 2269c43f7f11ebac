"""A flood must not stall the server (issue 22): requests beyond what the pool serves are
answered 503 + Retry-After at once, /healthz never waits on the pool, and `canyu bench flood`
measures it against a served app."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from canyu.cli import app as cli_app
from canyu.db import Database
from canyu.fastpath import Admission


@contextmanager
def pool_exhausted(database: Database) -> Iterator[None]:
    """Every connection the pool will give out, held by someone else."""
    held: list[Any] = []
    pool = database.engine.pool
    try:
        while True:
            try:
                held.append(pool.connect())
            except Exception:
                break
            if len(held) > 100:
                break
        yield
    finally:
        for connection in held:
            connection.close()


def test_healthz_and_requests_do_not_wait_on_an_exhausted_pool(
    app: FastAPI, database: Database
) -> None:
    with TestClient(app) as client, pool_exhausted(database):
        started = time.perf_counter()
        health = client.get("/healthz")
        assert health.status_code == 200, health.text
        assert time.perf_counter() - started < 1.5
        started = time.perf_counter()
        busy = client.get("/api/v1/feedback/1")
        assert busy.status_code == 503
        assert busy.headers["retry-after"]
        assert busy.json()["error"]["code"] == "unavailable"
        assert time.perf_counter() - started < 5.0  # the pool's short timeout (2 s), not 30 s


def test_requests_beyond_the_limit_are_answered_503_at_once() -> None:
    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admission = Admission(slow, limit=2, wait=0.1)

    async def burst() -> list[tuple[int, float]]:
        transport = httpx.ASGITransport(app=admission)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def one() -> tuple[int, float]:
                started = time.perf_counter()
                response = await client.get("/api/v1/feedback/1")
                return response.status_code, time.perf_counter() - started

            tasks = [asyncio.create_task(one()) for _ in range(10)]
            await asyncio.sleep(0.5)
            release.set()
            return await asyncio.gather(*tasks)

    answers = asyncio.run(burst())
    statuses = sorted(s for s, _ in answers)
    assert statuses == [200, 200] + [503] * 8
    assert all(seconds < 0.4 for status, seconds in answers if status == 503)
    assert admission.shed == 8


def test_bench_flood_answers_everyone_at_once() -> None:
    run = CliRunner().invoke(cli_app, ["bench", "flood", "--concurrency", "150", "--json"])
    assert run.exit_code == 0, run.output
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(result) >= {"ok", "shed", "errors", "stalled", "p99_ms", "recovery_s"}
    assert result["ok"] + result["shed"] + result["errors"] == 150
    assert result["ok"] > 0
    assert result["errors"] == 0
    assert result["recovery_s"] < 1.0
