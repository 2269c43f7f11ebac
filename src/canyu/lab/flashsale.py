"""`canyu bench flashsale` and `canyu bench flashsale-fairness`: figures, not pass/fail.

The flash-sale bench builds a real sale in a temporary database, starts `canyu serve` (and, with
Redis, `canyu store worker`) as separate processes on 127.0.0.1, and lets `wrk` (Debian's
package, a C load generator with a Lua script) send the crowd's purchases over HTTP. Everything
is bounded: a fixed list of requests, a time limit, loopback only.

The crowd, decided once and written down in docs/store.md:

- every buyer is a real account row (inserted in bulk, with a password hash that cannot sign
  in) and joined the pre-queue before the start through the ledger's own join script;
- buyers authenticate with sale passes (HMAC-signed "sale.buyer" tokens, the same ones the
  join endpoint hands out), issued in bulk by the bench instead of a million password sign-ins;
- at the start the draw orders the pre-queue; the admitted front of the queue (one position per
  unit) sends its purchases, in random order, while the rest wait on the queue page. On top, a
  share of purchases comes from buyers not admitted (refused: not your turn) and a share are
  retries with the same Idempotency-Key (answered with the same order).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console

from canyu.lab.debian import ensure_program
from canyu.progress import progress_bar, staged

console = Console(stderr=True)
SECRET = "canyu-flashsale-bench"  # noqa: S105 - signs the bench's own throwaway passes
CHUNK = 20_000
STRAGGLER_S = 10.0
# Not an argon2 hash, so these bulk-made buyer accounts can never sign in.
NO_PASSWORD = "!"  # noqa: S105

WRK_SCRIPT = r"""
-- One line per purchase: "<sale pass> <idempotency key>". Each thread takes every n-th line,
-- and stops itself once every one of its purchases has an answer.
local threads, counter = {}, 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local nthreads = tonumber(args[2])
  requests, i = {}, 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      local pass, key = line:match("^(%S+) (%S+)$")
      requests[#requests + 1] = wrk.format("POST", args[3],
        {["X-Sale-Pass"] = pass, ["Idempotency-Key"] = key, ["Content-Length"] = "0"})
    end
    i = i + 1
  end
  filler = wrk.format("GET", "/static/canyu.css")
  lines = #requests
  -- wrk calls request() once on thread 0 before running, to check it: not a real request.
  sent = id == 0 and -1 or 0
  answered, created, replayed, refused, failed = 0, 0, 0, 0, 0
  acks = io.open(args[4] .. "." .. id, "w")
  done_path = args[4] .. ".done." .. id
end
function request()
  sent = sent + 1
  if sent >= 1 and sent <= #requests then return requests[sent] end
  return filler
end
function response(status, headers, body)
  if status == 200 then return end
  answered = answered + 1
  if status == 201 then
    if headers["idempotent-replayed"] or headers["Idempotent-Replayed"] then
      replayed = replayed + 1
    else
      created = created + 1
    end
    acks:write(body:match('"number":"(%x+)"'), "\n")
  elseif status == 409 then
    refused = refused + 1
  else
    failed = failed + 1
  end
  if answered == #requests then
    -- wrk's main thread sleeps for -d regardless: a file tells the bench to interrupt it now.
    acks:close()
    io.open(done_path, "w"):close()
  end
end
function done(summary, latency, reqs)
  local total = {created = 0, replayed = 0, refused = 0, failed = 0, answered = 0, lines = 0}
  for _, t in ipairs(threads) do
    for name, _ in pairs(total) do total[name] = total[name] + t:get(name) end
  end
  io.write(string.format(
    '{"duration_us": %d, "created": %d, "replayed": %d, "refused": %d, "failed": %d, ' ..
    '"answered": %d, "lines": %d, "p50_ms": %.2f, "p99_ms": %.2f, "socket_errors": %d}\n',
    summary.duration, total.created, total.replayed, total.refused, total.failed,
    total.answered, total.lines, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class FlashsaleResult:
    backend: str
    units: int
    buyers: int
    sellout_s: float | None
    http_rps: float
    core_rps: float
    oversold: int
    duplicates: int
    lost: int
    draw_s: float
    written_s: float | None
    requests: int
    http_requests_per_s: float
    replayed: int
    refused: int
    failed: int
    p50_ms: float
    p99_ms: float
    server_workers: int
    setup_s: float
    notes: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _processes(
    commands: dict[str, list[str]], env: dict[str, str], logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start the server (and worker); stop them whatever happens."""
    running: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            log = (logs / f"{name}.log").open("wb")
            running.append(
                subprocess.Popen(  # noqa: S603 - our own commands, no shell
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        yield running
    finally:
        for process in running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _session_cpu_seconds(session_ids: set[int]) -> float:
    """CPU time used so far by every process in these sessions (Linux /proc)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) in session_ids:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _wait_idle(processes: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    """Until the servers have finished warming up (each loads the similarity model in the
    background after it starts answering): below 10% of a core for a second."""
    sessions = {p.pid for p in processes}
    deadline = time.monotonic() + timeout
    before = _session_cpu_seconds(sessions)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _session_cpu_seconds(sessions)
        if now - before < 0.1:
            return
        before = now


def _wait_healthy(port: int, logs: Path, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).is_success:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not come up; see {logs}")


def _core_redis(redis_url: str, units: int, processes: int, batch: int) -> float:
    """The Lua reservation path alone: pipelined EVALSHA from several processes."""
    from canyu.db import utcnow
    from canyu.store.ledger import SaleTerms
    from canyu.store.ledger_redis import RedisLedger

    prefix = f"canyu:bench-core-{uuid.uuid4().hex[:8]}:"
    ledger = RedisLedger(redis_url, prefix=prefix)
    now = utcnow()
    terms = SaleTerms(
        sale_id=1,
        queue_opens_at=now - timedelta(minutes=10),
        starts_at=now - timedelta(seconds=1),
        public_stock=units,
        fcode_stock=0,
        buyer_limit=1,
        hold_seconds=900,
        unit_price=Decimal("1999"),
        currency="CNY",
    )
    context = get_context("fork")
    ready = context.Barrier(processes + 1)
    results: Any = context.Queue()
    try:
        ledger.load_terms(terms)
        # After the start every arrival queues in order: buyer n is at position n.
        for start in range(1, units + 1, CHUNK):
            stop = min(start + CHUNK, units + 1)
            ledger.join_many(terms, [(b, now) for b in range(start, stop)])
        workers = [
            context.Process(
                target=_core_worker,
                args=(redis_url, prefix, terms, range(1 + p, units + 1, processes), batch),
                kwargs={"ready": ready, "results": results},
            )
            for p in range(processes)
        ]
        for worker in workers:
            worker.start()
        ready.wait(timeout=120)
        started = time.perf_counter()
        oks = sum(results.get(timeout=600) for _ in workers)
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.join(timeout=10)
        left = int(cast(str, ledger.client.hget(ledger.keys(1).ledger, "public_left")))
    finally:
        ledger.forget(1)
        ledger.client.delete(ledger.events)
        ledger.close()
    if oks != units or left != 0:
        raise RuntimeError(f"core bench: {oks} reservations for {units} units, {left} left")
    return units / elapsed


def _core_worker(
    redis_url: str,
    prefix: str,
    terms: Any,
    buyers: range,
    batch: int,
    *,
    ready: Any,
    results: Any,
) -> None:
    from canyu.db import utcnow
    from canyu.store.ledger import PurchaseRequest
    from canyu.store.ledger_redis import RedisLedger

    ledger = RedisLedger(redis_url, prefix=prefix)
    requests = [
        PurchaseRequest(
            sale_id=terms.sale_id,
            buyer_id=b,
            quantity=1,
            idempotency_key=f"core-key-{b}",
            request_hash="core",
        )
        for b in buyers
    ]
    ready.wait(timeout=120)
    oks = 0
    for start in range(0, len(requests), batch):
        now = utcnow()
        outcomes = ledger.reserve_many(terms, [(r, now) for r in requests[start : start + batch]])
        oks += outcomes.count("ok")
    ledger.close()
    results.put(oks)


def flashsale(
    units: Annotated[int, typer.Option(min=1, max=1_000_000, help="Units on sale.")] = 100_000,
    buyers: Annotated[
        int, typer.Option(min=1, max=5_000_000, help="The crowd in the pre-queue.")
    ] = 1_000_000,
    backend: Annotated[str, typer.Option(help="redis or sqlite.")] = "redis",
    redis_url: Annotated[
        str, typer.Option(help="Redis for the ledger (keys under a throwaway prefix).")
    ] = "redis://127.0.0.1:6379/0",
    server_workers: Annotated[int, typer.Option(min=1, max=16, help="uvicorn workers.")] = 2,
    connections: Annotated[int, typer.Option(min=1, max=1024, help="wrk connections.")] = 64,
    noise: Annotated[
        float, typer.Option(min=0, max=1, help="Extra purchases from buyers not admitted.")
    ] = 0.1,
    retries: Annotated[
        float, typer.Option(min=0, max=1, help="Share of purchases retried with their key.")
    ] = 0.05,
    core_processes: Annotated[int, typer.Option(min=1, max=8)] = 2,
    limit_s: Annotated[int, typer.Option(min=10, max=1800, help="wrk stops by then.")] = 300,
    seed: Annotated[int, typer.Option(help="The crowd's random choices.")] = 1,
    asgi_app: Annotated[
        str, typer.Option("--app", help="The ASGI app uvicorn serves, as module:attribute.")
    ] = "canyu.asgi:app",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """A flash sale under a crowd, over HTTP from wrk: sell-out time, purchases per second,
    the reservation path alone, oversold units and duplicate orders."""
    if backend not in ("redis", "sqlite"):
        raise typer.BadParameter("--backend is redis or sqlite")
    if units > buyers:
        raise typer.BadParameter("--units cannot exceed --buyers")
    if not ensure_program("wrk", "wrk", console):
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="canyu-flashsale-") as tmp:
        result = _run(
            workdir=Path(tmp),
            units=units,
            buyers=buyers,
            backend=backend,
            redis_url=redis_url,
            server_workers=server_workers,
            connections=connections,
            noise=noise,
            retry_share=retries,
            core_processes=core_processes,
            limit_s=limit_s,
            rng=random.Random(seed),
            asgi_app=asgi_app,
        )
    if as_json:
        print(json.dumps(asdict(result)))
    _report(result)


def _run(
    *,
    workdir: Path,
    units: int,
    buyers: int,
    backend: str,
    redis_url: str,
    server_workers: int,
    connections: int,
    noise: float,
    retry_share: float,
    core_processes: int,
    limit_s: int,
    rng: random.Random,
    asgi_app: str,
) -> FlashsaleResult:
    from canyu import migrate
    from canyu.db import Database
    from canyu.store.ledger import Ledger, SqlLedger
    from canyu.store.ledger_redis import RedisLedger

    setup_started = time.perf_counter()
    notes = [f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"]
    database_url = f"sqlite:///{workdir / 'flashsale.db'}"
    migrate.upgrade(database_url)
    database = Database(database_url)
    prefix = f"canyu:bench-{uuid.uuid4().hex[:8]}:"
    use_redis = backend == "redis"
    ledger: Ledger = RedisLedger(redis_url, prefix=prefix) if use_redis else SqlLedger()
    port = _free_port()
    env = {
        **os.environ,
        "CANYU_DATABASE_URL": database_url,
        "CANYU_REDIS_URL": redis_url if use_redis else "",
        "CANYU_SECRET_KEY": SECRET,
        "CANYU_LOG_LEVEL": "WARNING",
        # A throughput benchmark: requests queue for room rather than being shed at once.
        "CANYU_ADMISSION_WAIT_SECONDS": "60",
        "CANYU_STORE_REDIS_PREFIX": prefix,
    }
    canyu = [sys.executable, "-m", "canyu.cli"]
    # What `canyu serve --workers N` runs (the schema is already migrated here).
    uvicorn = [sys.executable, "-m", "uvicorn", asgi_app, "--host", "127.0.0.1"]
    commands = {
        "serve": [
            *uvicorn,
            "--port",
            str(port),
            "--workers",
            str(server_workers),
            "--log-level",
            "warning",
        ]
    }
    if use_redis:
        commands["worker"] = [*canyu, "store", "worker", "--name", "bench-worker"]
    try:
        # The servers start while the crowd is put in place.
        with _processes(commands, env, workdir) as running:
            sale_id, starts_at, passes = _crowd(database, ledger, units=units, buyers=buyers)
            _wait_healthy(port, workdir)
            _wait_idle(running)
            setup_s = time.perf_counter() - setup_started
            result = _sale(
                workdir=workdir,
                database=database,
                ledger=ledger,
                sale_id=sale_id,
                starts_at=starts_at,
                passes=passes,
                port=port,
                units=units,
                buyers=buyers,
                backend=backend,
                server_workers=server_workers,
                connections=connections,
                noise=noise,
                retry_share=retry_share,
                limit_s=limit_s,
                rng=rng,
                setup_s=setup_s,
                notes=notes,
            )
        # Alone on the machine: the servers and the worker have stopped.
        console.print("measuring the reservation path alone ...")
        result.core_rps = (
            _core_redis(redis_url, units, core_processes, batch=1_000)
            if use_redis
            else _core_sql(database, units)
        )
        return result
    finally:
        if isinstance(ledger, RedisLedger):
            for key in ledger.client.scan_iter(match=f"{prefix}*", count=1_000):
                ledger.client.delete(key)
            ledger.close()
        database.dispose()


def _crowd(
    database: Any, ledger: Any, *, units: int, buyers: int
) -> tuple[int, Any, dict[int, str]]:
    """Accounts, a catalogue, the sale, every buyer in its pre-queue, and their sale passes."""
    from sqlalchemy import insert, select

    from canyu.accounts import service as accounts
    from canyu.accounts.models import Role, User
    from canyu.db import utcnow
    from canyu.store import service
    from canyu.store.ledger import SaleTerms, SqlLedger
    from canyu.store.passes import SalePasses

    with progress_bar(console) as progress:
        with database.session() as s:
            team = accounts.create_user(
                s,
                email="bench-team@example.com",
                password=secrets.token_urlsafe(16),
                display_name="Bench team",
                role=Role.TEAM,
            )
            task = progress.add_task("buyer accounts", total=buyers)
            for start in range(0, buyers, CHUNK):
                stop = min(start + CHUNK, buyers)
                s.execute(
                    insert(User),
                    [
                        {
                            "email": f"b{n}@bench.invalid",
                            "password_hash": NO_PASSWORD,
                            "display_name": f"B{n}",
                        }
                        for n in range(start, stop)
                    ],
                )
                progress.update(task, completed=stop)
            buyer_ids = list(s.scalars(select(User.id).where(User.password_hash == NO_PASSWORD)))
            product = service.create_product(s, actor=team, slug="canyu-one", name="canyu One")
            sku = service.add_sku(s, actor=team, product=product, code="ONE-8-256", label="8+256")
            listing = service.set_listing(
                s, actor=team, sku=sku, country="CN", price=Decimal("1999"), stock=units
            )
            # Enough lead for the rest of the set-up on this machine, measured generously.
            lead = timedelta(seconds=60 + buyers * 70e-6)
            sale = service.create_sale(
                s,
                actor=team,
                ledger=ledger,
                listing_id=listing.id,
                starts_at=utcnow() + lead,
                stock=units,
            )
            terms = SaleTerms.of(sale)
        joined_at = terms.queue_opens_at + timedelta(seconds=1)  # registered early, as planned
        task = progress.add_task("joining the pre-queue", total=buyers)
        for start in range(0, buyers, CHUNK):
            chunk = buyer_ids[start : start + CHUNK]
            if isinstance(ledger, SqlLedger):
                with database.session() as s:
                    for buyer in chunk:
                        ledger.join(s, terms, buyer_id=buyer, now=joined_at)
            else:
                ledger.join_many(terms, [(b, joined_at) for b in chunk])
            progress.advance(task, len(chunk))
        signer = SalePasses(SECRET)
        task = progress.add_task("issuing sale passes", total=buyers)
        passes = {}
        for start in range(0, buyers, CHUNK):
            for buyer in buyer_ids[start : start + CHUNK]:
                passes[buyer] = signer.issue(sale_id=terms.sale_id, buyer_id=buyer)
            progress.advance(task, min(CHUNK, buyers - start))
    return terms.sale_id, terms.starts_at, passes


def _sale(
    *,
    workdir: Path,
    database: Any,
    ledger: Any,
    sale_id: int,
    starts_at: Any,
    passes: dict[int, str],
    port: int,
    units: int,
    buyers: int,
    backend: str,
    server_workers: int,
    connections: int,
    noise: float,
    retry_share: float,
    limit_s: int,
    rng: random.Random,
    setup_s: float,
    notes: list[str],
) -> FlashsaleResult:
    from sqlalchemy import select

    from canyu.db import utcnow
    from canyu.store import service
    from canyu.store.ledger import DrawPending, SaleTerms
    from canyu.store.ledger_redis import RedisLedger
    from canyu.store.models import Order, Sale
    from canyu.store.worker import pending

    time.sleep(max(0.0, (starts_at - utcnow()).total_seconds()))
    # The clock starts when purchases open: the start, or later if the set-up overran it.
    opened = utcnow()
    origin = max(starts_at, opened)
    draw_started = time.perf_counter()
    while True:
        try:
            with database.session() as s:
                service.draw_now(s, ledger=ledger, sale=s.get_one(Sale, sale_id), now=utcnow())
                record = service.draw_record(s, sale=s.get_one(Sale, sale_id))
        except DrawPending:  # the worker is making it
            time.sleep(0.05)
            continue
        if record is not None:
            break
        time.sleep(0.05)
    draw_s = time.perf_counter() - draw_started

    admitted, waiting = record.order[:units], record.order[units:]
    moments: list[tuple[float, int, str]] = []
    for buyer in admitted:
        moments.append((rng.random(), buyer, uuid.uuid4().hex))
    for buyer in rng.sample(waiting, min(len(waiting), round(units * noise))):
        moments.append((rng.random(), buyer, uuid.uuid4().hex))
    for at, buyer, key in rng.sample(moments, round(len(moments) * retry_share)):
        moments.append((at + rng.random() * (1 - at), buyer, key))
    moments.sort()
    requests_file = workdir / "requests.txt"
    requests_file.write_text("".join(f"{passes[b]} {key}\n" for _at, b, key in moments))
    script = workdir / "flashsale.lua"
    script.write_text(WRK_SCRIPT)
    threads = 2
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{limit_s}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
        str(threads),
        f"/api/v1/sales/{sale_id}/purchases",
        str(workdir / "acks"),
    ]
    with database.session() as s:
        terms = SaleTerms.of(s.get_one(Sale, sale_id))
    with progress_bar(console) as progress:
        task = progress.add_task("units sold over HTTP", total=units)
        load_started = time.perf_counter()
        wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
        last_change, last_left, last_look = time.monotonic(), units, 0.0
        load_s = None
        while wrk.poll() is None:
            if len(list(workdir.glob("acks.done.*"))) == threads:
                load_s = time.perf_counter() - load_started
                wrk.send_signal(signal.SIGINT)  # every purchase has its answer: report now
                wrk.wait()
                break
            if time.monotonic() - last_look > 0.25:
                last_look = time.monotonic()
                with database.session() as s:
                    left = ledger.snapshot(s, terms).public_left
                progress.update(task, completed=units - left)
                if left != last_left:
                    last_change, last_left = time.monotonic(), left
                elif left == 0 and time.monotonic() - last_change > STRAGGLER_S:
                    notes.append("wrk was interrupted after the sell-out (an answer never came)")
                    wrk.send_signal(signal.SIGINT)
                    wrk.wait()
            time.sleep(0.02)
        with database.session() as s:
            progress.update(task, completed=units - ledger.snapshot(s, terms).public_left)
        out = wrk.stdout.read() if wrk.stdout else ""
    summary = json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))
    if summary["answered"] < summary["lines"]:
        notes.append(f"{summary['lines'] - summary['answered']} purchase requests got no answer")
    written_s = None
    if isinstance(ledger, RedisLedger):
        deadline = time.monotonic() + 300
        while pending(ledger) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not pending(ledger):
            written_s = (utcnow() - origin).total_seconds()
    with database.session() as s:
        snapshot = ledger.snapshot(s, terms)
        rows = s.execute(
            select(Order.buyer_id, Order.quantity, Order.idempotency_key, Order.number).where(
                Order.sale_id == sale_id
            )
        ).all()
    if written_s is None and not isinstance(ledger, RedisLedger):
        written_s = (
            (snapshot.sold_out_at - origin).total_seconds() if snapshot.sold_out_at else None
        )
    numbers = {row.number for row in rows}
    acked = {
        line.strip()
        for path in workdir.glob("acks.*")
        for line in path.read_text().splitlines()
        if line.strip()
    }
    held: dict[int, int] = {}
    for row in rows:
        held[row.buyer_id] = held.get(row.buyer_id, 0) + row.quantity
    taken = units - snapshot.public_left
    ordered = sum(held.values())
    duplicates = len(rows) - len({(row.buyer_id, row.idempotency_key) for row in rows})
    duplicates += sum(max(0, n - 1) for n in held.values())
    if taken != ordered:
        notes.append(f"ledger says {taken} units taken, orders hold {ordered}")
    # Until the last answer (wrk's own duration runs to the interrupt).
    duration = load_s or summary["duration_us"] / 1e6
    result = FlashsaleResult(
        backend=backend,
        units=units,
        buyers=buyers,
        sellout_s=(snapshot.sold_out_at - origin).total_seconds() if snapshot.sold_out_at else None,
        http_rps=summary["created"] / duration,
        core_rps=0.0,
        oversold=max(0, taken - units, ordered - units),
        duplicates=duplicates,
        lost=len(acked - numbers),
        draw_s=draw_s,
        written_s=written_s,
        requests=summary["answered"],
        http_requests_per_s=summary["answered"] / duration,
        replayed=summary["replayed"],
        refused=summary["refused"],
        failed=summary["failed"] + summary["socket_errors"],
        p50_ms=summary["p50_ms"],
        p99_ms=summary["p99_ms"],
        server_workers=server_workers,
        setup_s=setup_s,
        notes=notes,
    )
    if opened > starts_at + timedelta(seconds=1):
        notes.append(
            f"purchases opened {(opened - starts_at).total_seconds():.1f} s after the start;"
            " times count from then"
        )
    return result


def _core_sql(database: Any, units: int) -> float:
    """The embedded ledger alone: one conditional-update transaction per reservation."""
    from sqlalchemy import select

    from canyu.accounts.models import User
    from canyu.db import utcnow
    from canyu.store import service
    from canyu.store.ledger import SqlLedger
    from canyu.store.models import Listing

    ledger = SqlLedger()
    now = utcnow()
    with database.session() as s:
        team = s.scalar(select(User).where(User.email == "bench-team@example.com"))
        listing = s.scalar(select(Listing))
        assert team is not None
        assert listing is not None
        listing.stock += units
        sale = service.create_sale(
            s,
            actor=team,
            ledger=ledger,
            listing_id=listing.id,
            starts_at=now,
            stock=units,
            now=now - timedelta(minutes=1),
        )
        buyers = list(
            s.scalars(select(User.id).where(User.password_hash == NO_PASSWORD).limit(units))
        )
        for buyer in buyers:
            service.join_queue(
                s, ledger=ledger, sale_id=sale.id, user=s.get_one(User, buyer), now=now
            )
    started = time.perf_counter()
    for buyer in buyers:
        with database.session() as s:
            service.reserve(
                s,
                ledger=ledger,
                sale_id=sale.id,
                buyer_id=buyer,
                quantity=1,
                idempotency_key=f"core-key-{buyer}",
                now=now,
            )
    return len(buyers) / (time.perf_counter() - started)


def fairness(
    entrants: Annotated[int, typer.Option(min=100, max=2_000_000, help="The crowd.")] = 100_000,
    units: Annotated[int, typer.Option(min=10, help="Units on sale.")] = 10_000,
    heavy_share: Annotated[
        float, typer.Option(min=0.01, max=0.9, help="Share of clients sending more requests.")
    ] = 0.2,
    heavy_factor: Annotated[int, typer.Option(min=2, max=100, help="How many more.")] = 10,
    redis_url: Annotated[str, typer.Option(help="Redis for the ledger.")] = (
        "redis://127.0.0.1:6379/0"
    ),
    seed: Annotated[int, typer.Option(help="The simulation's random choices.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Does arriving early in the pre-queue window, or sending ten times more requests, win
    more units? A simulated crowd against the real Redis ledger, with its test statistics."""
    from canyu.db import utcnow
    from canyu.store.fairness import Crowd, simulate
    from canyu.store.ledger_redis import RedisLedger

    if units >= entrants:
        raise typer.BadParameter("--units must be fewer than --entrants")
    ledger = RedisLedger(redis_url, prefix=f"canyu:bench-fair-{uuid.uuid4().hex[:8]}:")
    crowd = Crowd(
        entrants=entrants, units=units, heavy_fraction=heavy_share, heavy_factor=heavy_factor
    )
    try:
        with staged(console) as report:
            result = simulate(
                ledger,
                crowd,
                sale_id=1,
                rng=random.Random(seed),
                starts_at=utcnow() + timedelta(hours=1),
                progress=report,
            )
    finally:
        ledger.forget(1)
        ledger.client.delete(ledger.events)
        ledger.close()
    if as_json:
        print(json.dumps({**asdict(result), "fair": result.fair}))
    console.print(
        f"{result.entrants:,} entrants, {result.units:,} units, {result.requests:,} requests\n"
        f"arrival time vs winning: KS D = {result.ks_statistic:.4f}, p = {result.ks_pvalue:.3f}"
        f" ({'no dependence detected' if result.ks_pvalue > 0.05 else 'DEPENDENCE'})\n"
        f"clients sending {heavy_factor}x the requests: {result.heavy_share_of_crowd:.1%} of the"
        f" crowd, {result.heavy_share_of_wins:.1%} of the wins (one-sided binomial p ="
        f" {result.heavy_pvalue:.3f})"
    )


def _report(result: FlashsaleResult) -> None:
    from rich.table import Table

    table = Table(
        title=f"flash sale ({result.backend}): {result.units:,} units, {result.buyers:,} buyers"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    rows = [
        (
            "time to sell out",
            f"{result.sellout_s:.2f} s" if result.sellout_s else "not sold out",
            "< 30 s",
        ),
        ("purchases/s over HTTP", f"{result.http_rps:,.0f}", ">= 5,000"),
        ("reservation path alone", f"{result.core_rps:,.0f}/s", ">= 30,000/s"),
        ("oversold units", str(result.oversold), "0"),
        ("duplicate orders", str(result.duplicates), "0"),
        ("acknowledged but missing", str(result.lost), "0"),
        ("draw at the start", f"{result.draw_s:.2f} s", ""),
        (
            "all orders in the database",
            f"{result.written_s:.2f} s" if result.written_s else "-",
            "",
        ),
        ("HTTP requests/s (all answers)", f"{result.http_requests_per_s:,.0f}", ""),
        ("latency p50 / p99", f"{result.p50_ms:.1f} / {result.p99_ms:.1f} ms", ""),
        (
            "refused / replayed / failed",
            f"{result.refused:,} / {result.replayed:,} / {result.failed:,}",
            "",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}")
