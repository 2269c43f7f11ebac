"""The Redis ledger (one Lua script per decision) and the worker that writes its orders,
against the real local Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canyu.app import create_app
from canyu.config import Settings
from canyu.db import Database
from canyu.store import service
from canyu.store.ledger import PurchaseRequest, SaleTerms
from canyu.store.ledger_redis import RedisLedger
from canyu.store.models import Order, Sale
from canyu.store.runtime import store_runtime
from canyu.store.worker import OrderWriter, pending
from store.conftest import ADDRESS

from .conftest import AuthHeaders, Clock, SaleFactory
from .test_sale_api import buy, error_code, join


@pytest.fixture
def redis_app(settings: Settings, database: Database, redis_url: str, clock: Clock) -> FastAPI:
    app = create_app(settings.model_copy(update={"redis_url": redis_url}), database)
    store_runtime(app).now = clock
    return app


@pytest.fixture
def redis_client(redis_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(redis_app) as client:
        yield client


@pytest.fixture
def ledger(redis_app: FastAPI) -> RedisLedger:
    ledger = store_runtime(redis_app).ledger
    assert isinstance(ledger, RedisLedger)
    return ledger


@pytest.fixture
def writer(database: Database, ledger: RedisLedger) -> OrderWriter:
    writer = OrderWriter(database, ledger, consumer="test-worker", claim_idle_ms=1_000)
    writer.ensure_group()
    return writer


def units_left(ledger: RedisLedger, database: Database, sale_id: int) -> int:
    with database.session() as s:
        return ledger.snapshot(s, SaleTerms.of(s.get_one(Sale, sale_id))).public_left


def order_count(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(Order)) or 0)


def test_sale_through_redis_and_the_worker(
    redis_client: TestClient,
    ledger: RedisLedger,
    writer: OrderWriter,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
    database: Database,
) -> None:
    sale = make_sale(ledger, stock=3, buyer_limit=2)
    friends = [make_user() for _ in range(4)]
    clock.advance(minutes=1)
    passes = {f.id: join(redis_client, sale.id, auth(f))["sale_pass"] for f in friends}
    assert buy(redis_client, sale.id, passes[friends[0].id]).status_code == 409

    clock.advance(minutes=5)
    writer.housekeeping(now=clock())  # the worker makes the draw on time
    with database.session() as s:
        record = service.draw_record(s, sale=s.get_one(Sale, sale.id))
    assert record is not None
    assert sorted(record.order) == sorted(passes)
    first, second, third, fourth = record.order

    key = uuid.uuid4().hex
    made = buy(redis_client, sale.id, passes[first], key=key, quantity=2)
    assert made.status_code == 201, made.text
    replay = buy(redis_client, sale.id, passes[first], key=key, quantity=2)
    assert replay.json()["number"] == made.json()["number"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert error_code(buy(redis_client, sale.id, passes[first], key=key)) == "idempotency_mismatch"
    assert error_code(buy(redis_client, sale.id, passes[first])) == "over_limit"
    assert error_code(buy(redis_client, sale.id, passes[fourth])) == "not_your_turn"
    assert error_code(buy(redis_client, sale.id, passes[second], quantity=2)) == "sold_out"
    last = buy(redis_client, sale.id, passes[second])
    assert last.status_code == 201
    assert error_code(buy(redis_client, sale.id, passes[third])) == "sold_out"

    assert pending(ledger) == 2
    assert order_count(database) == 0, "orders reach the database through the worker"
    assert writer.drain() == 2
    assert pending(ledger) == 0
    with database.session() as s:
        orders = {o.number: o for o in s.scalars(select(Order))}
        assert set(orders) == {made.json()["number"], last.json()["number"]}
        assert orders[made.json()["number"]].quantity == 2
        sale_row = s.get_one(Sale, sale.id)
        assert sale_row.sold_out_units == 3
        assert sale_row.sold_out_at == clock()

    # The second buyer does not pay: the worker expires the reservation, the unit comes back.
    paid = redis_client.post(
        f"/api/v1/orders/{made.json()['number']}/pay",
        json={"payment_token": "fake_ok", "address": ADDRESS},
        headers=auth(next(f for f in friends if f.id == first)),
    )
    assert paid.status_code == 200
    clock.advance(minutes=16)
    writer.housekeeping(now=clock())
    assert units_left(ledger, database, sale.id) == 1
    writer.recover()  # a restart gives back every expired unit again: nothing changes
    assert units_left(ledger, database, sale.id) == 1
    assert buy(redis_client, sale.id, passes[third]).status_code == 201
    writer.drain()
    with database.session() as s:
        statuses = sorted(s.scalars(select(Order.status)))
    assert statuses == ["expired", "paid", "reserved"]


def test_redelivered_events_write_each_order_once(
    ledger: RedisLedger,
    writer: OrderWriter,
    make_sale: SaleFactory,
    make_user: UserFactory,
    clock: Clock,
    database: Database,
) -> None:
    sale = make_sale(ledger, stock=5, starts_in=timedelta(seconds=1))
    buyers = [make_user() for _ in range(3)]
    clock.advance(seconds=2)
    with database.session() as s:
        terms = SaleTerms.of(s.get_one(Sale, sale.id))
        for buyer in buyers:
            ledger.join(s, terms, buyer_id=buyer.id, now=clock())
    requests = [
        PurchaseRequest(
            sale_id=sale.id,
            buyer_id=b.id,
            quantity=1,
            idempotency_key=uuid.uuid4().hex,
            request_hash="h",
        )
        for b in buyers
    ]
    assert ledger.reserve_many(terms, [(r, clock()) for r in requests]) == ["ok"] * 3

    # A worker reads the events and dies before writing them.
    dead = OrderWriter(database, ledger, consumer="dead", claim_idle_ms=1)
    events = dead._read(">", None)
    assert len(events) == 3
    # Another claims them once idle; writing them twice still gives three orders.
    writer.claim_abandoned()
    writer.write(events)
    assert order_count(database) == 3
    dead.recover()
    assert order_count(database) == 3
    assert pending(ledger) == 0


def test_the_lua_script_never_oversells_under_a_pipelined_crowd(
    ledger: RedisLedger, make_sale: SaleFactory, clock: Clock, database: Database
) -> None:
    sale = make_sale(ledger, stock=50, starts_in=timedelta(seconds=1))
    clock.advance(seconds=2)
    with database.session() as s:
        terms = SaleTerms.of(s.get_one(Sale, sale.id))
    buyers = list(range(1, 201))
    ledger.join_many(terms, [(b, clock()) for b in buyers])
    crowd = [
        PurchaseRequest(
            sale_id=sale.id, buyer_id=b, quantity=1, idempotency_key=f"k-{b}-{n}", request_hash="h"
        )
        for n in range(3)
        for b in buyers
    ]
    outcomes = ledger.reserve_many(terms, [(r, clock()) for r in crowd])
    assert outcomes.count("ok") == 50
    held = ledger.held(sale.id)
    assert sum(held.values()) == 50
    assert max(held.values()) == 1
    assert units_left(ledger, database, sale.id) == 0


def test_the_fast_lane_answers_like_the_route(
    settings: Settings,
    database: Database,
    redis_url: str,
    clock: Clock,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
) -> None:
    app = create_app(settings.model_copy(update={"redis_url": redis_url}), database)
    runtime = store_runtime(app)
    runtime.now = clock
    assert isinstance(runtime.ledger, RedisLedger)
    sale = make_sale(runtime.ledger, stock=1)
    friend, late = make_user(), make_user()
    clock.advance(minutes=1)
    with TestClient(app) as client:
        passes = [join(client, sale.id, auth(friend))["sale_pass"]]
        clock.advance(minutes=5)
        passes.append(join(client, sale.id, auth(late))["sale_pass"])  # after the start: #2
        key = uuid.uuid4().hex
        first = buy(client, sale.id, passes[0], key=key)  # the route: terms not cached yet
        again = buy(client, sale.id, passes[0], key=key)  # the fast lane
        assert first.status_code == again.status_code == 201
        assert again.json()["number"] == first.json()["number"]
        assert again.headers["idempotent-replayed"] == "true"
        refused = buy(client, sale.id, passes[1])
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] in ("sold_out", "not_your_turn")
        bad = buy(client, sale.id, passes[1], quantity=0)
        assert bad.status_code == 422
        assert "at least one" in bad.json()["error"]["message"]
        wrong_type = buy(client, sale.id, passes[1], quantity="one")
        assert wrong_type.status_code == 422
        assert wrong_type.json()["error"]["code"] == "invalid_input"
        assert buy(client, sale.id, "forged").status_code == 401
