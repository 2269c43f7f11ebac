"""kill -9 of the server and the worker in the middle of a sale (real processes, real Redis):
after restarting, the ledger reconciles exactly with the orders, nobody holds two units, every
acknowledged order exists and no retry made a second one."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from canyu import migrate
from canyu.accounts import service as accounts
from canyu.accounts.models import Role, User
from canyu.db import Database, utcnow
from canyu.store import service
from canyu.store.ledger import SaleTerms
from canyu.store.ledger_redis import RedisLedger
from canyu.store.models import Order, Sale
from canyu.store.passes import SalePasses
from canyu.store.worker import pending

SECRET = "crash-test-secret"
STOCK = 40
BUYERS = 100
START_DELAY = timedelta(seconds=2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Processes:
    """`canyu serve` and `canyu store worker` as real processes, killable with SIGKILL."""

    def __init__(self, env: dict[str, str], port: int, logs: Path) -> None:
        self.env, self.port, self.logs = env, port, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        canyu = [sys.executable, "-m", "canyu.cli"]
        for name, args in (
            ("serve", ["serve", "--port", str(self.port), "--no-upgrade"]),
            ("worker", ["store", "worker", "--name", "crash-worker"]),
        ):
            log = (self.logs / f"{name}-{self.starts}.log").open("wb")
            self.running[name] = subprocess.Popen(
                [*canyu, *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        pytest.fail(f"the server did not come up; see {self.logs}")

    def kill(self, *names: str) -> None:
        for name in names or list(self.running):
            process = self.running.pop(name, None)
            if process is not None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path, redis_url: str) -> Iterator[tuple[Processes, Database, str]]:
    database_url = f"sqlite:///{tmp_path / 'crash.db'}"
    migrate.upgrade(database_url)
    prefix = f"canyu:crash-{uuid.uuid4().hex[:8]}:"
    env = {
        **os.environ,
        "CANYU_DATABASE_URL": database_url,
        "CANYU_REDIS_URL": redis_url,
        "CANYU_SECRET_KEY": SECRET,
        "CANYU_LOG_LEVEL": "WARNING",
        "CANYU_STORE_REDIS_PREFIX": prefix,
        "CANYU_STORE_CLAIM_IDLE_MS": "1000",
        # The crowd queues rather than being shed: this test is about what a crash loses.
        "CANYU_ADMISSION_WAIT_SECONDS": "60",
    }
    database = Database(database_url)
    procs = Processes(env, _free_port(), tmp_path)
    yield procs, database, prefix
    procs.kill()
    database.dispose()


@dataclass
class Attempt:
    buyer: int
    key: str
    status: int | None = None  # None: no answer (the server died)
    number: str | None = None


def test_kill_9_mid_sale_loses_nothing_and_duplicates_nothing(
    processes: tuple[Processes, Database, str], redis_url: str
) -> None:
    procs, database, prefix = processes
    ledger = RedisLedger(redis_url, prefix=prefix)
    with database.session() as s:
        team = accounts.create_user(
            s, email="team@example.com", password="x" * 12, display_name="Team", role=Role.TEAM
        )
        s.execute(
            insert(User),
            [
                {"email": f"b{n}@example.com", "password_hash": "!", "display_name": f"B{n}"}
                for n in range(BUYERS)
            ],
        )
        buyers = list(s.scalars(select(User.id).where(User.password_hash == "!")))
        product = service.create_product(s, actor=team, slug="one", name="canyu One")
        sku = service.add_sku(s, actor=team, product=product, code="ONE", label="One")
        listing = service.set_listing(
            s, actor=team, sku=sku, country="CN", price=Decimal("1999"), stock=STOCK
        )
        sale = service.create_sale(
            s,
            actor=team,
            ledger=ledger,
            listing_id=listing.id,
            starts_at=utcnow() + START_DELAY,
            stock=STOCK,
        )
        terms = SaleTerms.of(sale)
    ledger.join_many(terms, [(b, utcnow()) for b in buyers])
    passes = SalePasses(SECRET)
    procs.start()
    time.sleep(max(0.0, (terms.starts_at - utcnow()).total_seconds()))

    url = f"http://127.0.0.1:{procs.port}/api/v1/sales/{sale.id}/purchases"
    local = threading.local()

    def send(attempt: Attempt) -> Attempt:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=15)
        headers = {
            "X-Sale-Pass": passes.issue(sale_id=sale.id, buyer_id=attempt.buyer),
            "Idempotency-Key": attempt.key,
        }
        try:
            response = local.client.post(url, headers=headers)
        except httpx.TransportError:
            return attempt
        attempt.status = response.status_code
        if response.status_code == 201:
            attempt.number = response.json()["number"]
        return attempt

    rng = random.Random(5)
    # Each buyer tries once, some retry with the same key, some try a second unit.
    first_round = [Attempt(b, uuid.uuid4().hex) for b in rng.sample(buyers, len(buyers))]
    extra = [Attempt(a.buyer, a.key) for a in rng.sample(first_round, 30)]
    extra += [Attempt(a.buyer, uuid.uuid4().hex) for a in rng.sample(first_round, 30)]
    attempts = first_round + extra
    rng.shuffle(attempts)

    done: list[Attempt] = []
    unwritten_at_crash = 0

    def collect(attempt: Attempt) -> None:
        nonlocal unwritten_at_crash
        done.append(attempt)
        acks = sum(1 for a in done if a.status == 201)
        # The worker dies first, so acknowledged orders wait unwritten in Redis; then the
        # server dies with requests in flight.
        if acks >= STOCK // 4 and "worker" in procs.running:
            procs.kill("worker")
        if acks >= STOCK // 2 and "serve" in procs.running:
            procs.kill("serve")
            unwritten_at_crash = pending(ledger)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for attempt in pool.map(send, attempts):
            collect(attempt)
    assert not procs.running
    assert unwritten_at_crash > 0, "acknowledged orders were still unwritten at the crash"
    unanswered = [a for a in done if a.status is None]
    assert unanswered, "the kill happened while requests were in flight"

    procs.start()
    # Unanswered requests are retried with their key, as a client would.
    retries = [Attempt(a.buyer, a.key) for a in unanswered]
    with ThreadPoolExecutor(max_workers=8) as pool:
        done += list(pool.map(send, retries))
    deadline = time.monotonic() + 30
    while pending(ledger) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pending(ledger) == 0, "the worker wrote every enqueued order"
    procs.kill()

    acknowledged = [a for a in done if a.status == 201]
    assert all(a.status in (201, 409, None) for a in done), Counter(a.status for a in done)
    with database.session() as s:
        orders = list(s.scalars(select(Order).where(Order.sale_id == sale.id)))
        snapshot = ledger.snapshot(s, SaleTerms.of(s.get_one(Sale, sale.id)))
    numbers = {o.number for o in orders}
    assert {a.number for a in acknowledged} <= numbers, "every acknowledged order exists"
    per_key: dict[tuple[int, str], set[str]] = {}
    for a in acknowledged:
        per_key.setdefault((a.buyer, a.key), set()).add(a.number or "")
    assert all(len(found) == 1 for found in per_key.values()), "a retry never made a second order"
    units_by_buyer = Counter({o.buyer_id: 0 for o in orders})
    for o in orders:
        units_by_buyer[o.buyer_id] += o.quantity
    assert max(units_by_buyer.values()) == 1, "nobody holds more than the limit"
    assert ledger.held(sale.id) == dict(units_by_buyer), "Redis and the database agree per buyer"
    sold = STOCK - snapshot.public_left
    assert sold == sum(o.quantity for o in orders), "units sold = orders + live reservations"
    assert sold == STOCK, "the sale sold out despite the crash"
    ledger.forget(sale.id)
    ledger.close()
