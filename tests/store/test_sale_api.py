"""A flash sale through the JSON API on the embedded SQL ledger: the queue and its draw,
reservations, idempotency, payment, expiry, and a clear 4xx for every bad request."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from conftest import Response, UserFactory
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canyu.accounts.models import User
from canyu.db import Database
from canyu.store import lottery
from canyu.store.ledger import SqlLedger
from canyu.store.models import Order, Sale
from store.conftest import ADDRESS

from .conftest import AuthHeaders, Clock, SaleFactory


def join(client: TestClient, sale_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(f"/api/v1/sales/{sale_id}/queue", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def buy(
    client: TestClient,
    sale_id: int,
    sale_pass: str,
    *,
    key: str | None = None,
    **body: Any,
) -> Response:
    headers = {"X-Sale-Pass": sale_pass, "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post(f"/api/v1/sales/{sale_id}/purchases", json=body or None, headers=headers)


def error_code(response: Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_a_friend_queues_buys_retries_and_pays(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
    database: Database,
) -> None:
    sale = make_sale(SqlLedger(), stock=5)
    friends = [make_user() for _ in range(3)]
    clock.advance(minutes=1)  # inside the 10-minute pre-queue window
    passes = {}
    for friend in friends:
        body = join(store_client, sale.id, auth(friend))
        assert body["spot"] == {"joined": True, "in_draw": True, "position": None, "ahead": None}
        passes[friend.id] = body["sale_pass"]

    before = store_client.get(f"/api/v1/sales/{sale.id}").json()
    assert before["phase"] == "prequeue"
    assert before["commitment"] == sale.commitment
    assert before["seed"] is None, "the seed stays secret until the draw"
    assert store_client.get(f"/api/v1/sales/{sale.id}/draw").status_code == 404

    early = buy(store_client, sale.id, passes[friends[0].id])
    assert early.status_code == 409
    assert error_code(early) == "not_started"

    clock.advance(minutes=5)  # the sale has started
    key = uuid.uuid4().hex
    first = buy(store_client, sale.id, passes[friends[0].id], key=key)
    assert first.status_code == 201, first.text
    reservation = first.json()
    assert reservation["quantity"] == 1
    assert reservation["replayed"] is False

    retry = buy(store_client, sale.id, passes[friends[0].id], key=key)
    assert retry.status_code == 201
    assert retry.json()["number"] == reservation["number"]
    assert retry.headers["Idempotent-Replayed"] == "true"

    changed = buy(store_client, sale.id, passes[friends[0].id], key=key, quantity=2)
    assert changed.status_code == 422
    assert error_code(changed) == "idempotency_mismatch"

    second_unit = buy(store_client, sale.id, passes[friends[0].id])
    assert second_unit.status_code == 409
    assert error_code(second_unit) == "over_limit"

    headers = auth(friends[0])
    paid = store_client.post(
        f"/api/v1/orders/{reservation['number']}/pay",
        json={"payment_token": "fake_ok", "address": ADDRESS},
        headers=headers,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    again = store_client.post(
        f"/api/v1/orders/{reservation['number']}/pay",
        json={"payment_token": "fake_ok", "address": ADDRESS},
        headers=headers,
    )
    assert again.json()["status"] == "paid"
    history = store_client.get("/api/v1/orders", headers=headers).json()
    assert [o["number"] for o in history] == [reservation["number"]]

    someone_else = store_client.get(
        f"/api/v1/orders/{reservation['number']}", headers=auth(friends[1])
    )
    assert someone_else.status_code == 404

    # The draw is public now and re-runs to the same order.
    published = store_client.get(f"/api/v1/sales/{sale.id}/draw").json()
    record = lottery.DrawRecord(
        sale_id=published["sale_id"],
        commitment=published["commitment"],
        seed_hex=published["seed"],
        entrants=published["entrants"],
        order=published["order"],
    )
    assert lottery.verify(record).ok
    assert sorted(record.order) == sorted(f.id for f in friends)
    mine = store_client.get(f"/api/v1/sales/{sale.id}", headers=auth(friends[2])).json()
    assert mine["you"]["position"] == record.order.index(friends[2].id) + 1
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1


def test_bad_purchases_get_a_clear_4xx(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
    database: Database,
) -> None:
    sale = make_sale(SqlLedger(), starts_in=timedelta(minutes=20), stock=1)
    other = make_sale(SqlLedger(), starts_in=timedelta(minutes=20), stock=1)
    friend, late = make_user(), make_user()

    too_early = store_client.post(f"/api/v1/sales/{sale.id}/queue", headers=auth(friend))
    assert too_early.status_code == 409
    assert error_code(too_early) == "queue_not_open"

    clock.advance(minutes=15)
    sale_pass = join(store_client, sale.id, auth(friend))["sale_pass"]
    clock.advance(minutes=6)
    for quantity in (0, -1):
        response = buy(store_client, sale.id, sale_pass, quantity=quantity)
        assert response.status_code == 422
        assert "at least one" in response.json()["error"]["message"]
    assert buy(store_client, sale.id, sale_pass, quantity="two").status_code == 422
    assert buy(store_client, sale.id, sale_pass, key="short").status_code == 422
    no_key = store_client.post(
        f"/api/v1/sales/{sale.id}/purchases", headers={"X-Sale-Pass": sale_pass}
    )
    assert no_key.status_code == 422
    assert "Idempotency-Key" in no_key.json()["error"]["message"]
    assert buy(store_client, sale.id, "forged.pass").status_code == 401
    wrong_sale = buy(store_client, other.id, sale_pass)
    assert wrong_sale.status_code == 401
    assert buy(store_client, 999_999, sale_pass).status_code == 401

    late_pass = join(store_client, sale.id, auth(late))["sale_pass"]
    assert buy(store_client, sale.id, sale_pass).status_code == 201
    sold_out = buy(store_client, sale.id, late_pass)
    assert sold_out.status_code == 409
    assert error_code(sold_out) == "sold_out"
    status = store_client.get(f"/api/v1/sales/{sale.id}").json()
    assert status["phase"] == "sold_out"
    assert status["sold_out_units"] == 1
    assert status["sellout_seconds"] == 60.0  # from the ledger: start + 6 min - 5 min
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1


def test_late_arrivals_wait_their_turn_and_expired_units_come_back(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
    database: Database,
) -> None:
    sale = make_sale(SqlLedger(), stock=2, hold_minutes=15)
    clock.advance(minutes=6)  # started; nobody was in the pre-queue
    friends = [make_user() for _ in range(4)]
    passes = []
    for n, friend in enumerate(friends, start=1):
        body = join(store_client, sale.id, auth(friend))
        assert body["spot"]["position"] == n, "after the start: first come, first served"
        passes.append(body["sale_pass"])

    third = buy(store_client, sale.id, passes[2])
    assert third.status_code == 409
    assert error_code(third) == "not_your_turn"
    assert third.json()["error"]["details"] == {"position": 3, "admitted": 2}

    numbers = [buy(store_client, sale.id, passes[i]).json()["number"] for i in (0, 1)]
    clock.advance(minutes=10)
    store_client.post(
        f"/api/v1/orders/{numbers[0]}/pay",
        json={"payment_token": "fake_ok", "address": ADDRESS},
        headers=auth(friends[0]),
    )
    clock.advance(minutes=6)  # friend 2's reservation is past its 15 minutes
    expired = store_client.post(
        f"/api/v1/orders/{numbers[1]}/pay",
        json={"payment_token": "fake_ok", "address": ADDRESS},
        headers=auth(friends[1]),
    )
    assert expired.status_code == 409
    assert error_code(expired) == "reservation_expired"

    # The unit comes back and the next in line gets it.
    assert buy(store_client, sale.id, passes[2]).status_code == 201
    with database.session() as s:
        statuses = dict(s.execute(select(Order.buyer_id, Order.status)).all())
        sale_row = s.get_one(Sale, sale.id)
        assert statuses == {
            friends[0].id: "paid",
            friends[1].id: "expired",
            friends[2].id: "reserved",
        }
        assert (sale_row.taken, sale_row.released) == (2, 1)


def test_declined_payment_keeps_the_reservation(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
) -> None:
    sale = make_sale(SqlLedger(), stock=1)
    clock.advance(minutes=6)
    friend: User = make_user()
    number = buy(
        store_client, sale.id, join(store_client, sale.id, auth(friend))["sale_pass"]
    ).json()["number"]
    declined = store_client.post(
        f"/api/v1/orders/{number}/pay",
        json={"payment_token": "fake_decline", "address": ADDRESS},
        headers=auth(friend),
    )
    assert declined.status_code == 402
    order = store_client.get(f"/api/v1/orders/{number}", headers=auth(friend)).json()
    assert order["status"] == "reserved"
