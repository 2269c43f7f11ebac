"""A small, bounded HTTP/1.1 load generator for the check-in benchmark (run as its own process).

Keep-alive connections on 127.0.0.1 only, each sending ``POST /api/v1/devices/checkin`` with
a device token taken round-robin from a file, one request in flight per connection. It stops
after ``--requests`` requests or ``--duration`` seconds, whichever comes first, and prints one
JSON object: requests, errors, seconds, rps, p50_ms, p99_ms. It is written on bare asyncio
streams so that the client, not the server, is rarely the bottleneck.

While it waits for answers it keeps polling instead of sleeping (``--idle spin``, the default).
On 127.0.0.1 the server's ``write()`` runs the client's side of TCP in the same kernel and, when
the client sleeps, wakes it: on a virtual machine an interrupt sent to another vCPU, several
microseconds of the server's time per answer. Over a real network the client's machine pays
that. A client that sleeps whenever the server is the slower side would charge it to a slow
server and not to a fast one, so the floor and the check-in would be measured under unlike
conditions (docs/benchmarks.md). ``--idle sleep`` measures that way all the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPORTED_VERSION = "1.0.0"  # the build every bench device runs (canyu.lab.checkin)
BODY = b'{"version":"%s"}' % REPORTED_VERSION.encode()


class Idle(StrEnum):
    """How the load generator waits for answers (``--idle``)."""

    SPIN = "spin"  # a callback always ready, so the event loop never sleeps in its poll
    SLEEP = "sleep"


def _request(host: str, port: int, path: str, token: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


def _keep_polling(loop: asyncio.AbstractEventLoop, until: asyncio.Future[Any]) -> None:
    """Keep the loop from sleeping in its poll (a callback is always ready) until ``until``."""
    if not until.done():
        loop.call_soon(_keep_polling, loop, until)


async def run(
    url: str,
    tokens: list[str],
    *,
    requests: int,
    duration: float,
    concurrency: int,
    idle: Idle = Idle.SPIN,
) -> dict[str, float]:
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load generator only targets this machine (127.0.0.1)")
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + duration
    payloads = [_request(host, port, path, t) for t in tokens]

    async def connection() -> None:
        nonlocal issued, errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while issued < requests and time.perf_counter() < deadline:
                payload = payloads[issued % len(payloads)]
                issued += 1
                started = time.perf_counter()
                writer.write(payload)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    connections = asyncio.gather(*(connection() for _ in range(concurrency)))
    if idle is Idle.SPIN:
        _keep_polling(asyncio.get_running_loop(), connections)
    await connections
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": seconds,
        "rps": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(ordered) * 1000 if ordered else 0.0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--idle", type=Idle, choices=list(Idle), default=Idle.SPIN, help="How to wait for answers."
    )
    args = parser.parse_args(argv)
    tokens = args.tokens.read_text().split()
    work = run(
        args.url,
        tokens,
        requests=args.requests,
        duration=args.duration,
        concurrency=args.concurrency,
        idle=args.idle,
    )
    try:
        import uvloop

        result = uvloop.run(work)
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        result = asyncio.run(work)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
