"""Checkout: a delivery address checked and kept with the order, the sale's country enforced
(queue, F-code purchase, address), and no card token filled in for the buyer."""

from __future__ import annotations

import re
import uuid

from conftest import UserFactory, assert_error
from fastapi.testclient import TestClient
from sqlalchemy import update

from canyu.accounts.models import User
from canyu.db import Database
from canyu.store.ledger import SqlLedger
from store.conftest import ADDRESS
from store.test_pages import HTML, csrf, sign_in

from .conftest import AuthHeaders, Clock, SaleFactory


def reserved(client: TestClient, sale_id: int, headers: dict[str, str], clock: Clock) -> str:
    sale_pass = client.post(f"/api/v1/sales/{sale_id}/queue", headers=headers).json()["sale_pass"]
    clock.advance(minutes=6)
    made = client.post(
        f"/api/v1/sales/{sale_id}/purchases",
        headers={"X-Sale-Pass": sale_pass, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert made.status_code == 201, made.text
    number: str = made.json()["number"]
    return number


def test_paying_asks_for_an_address_in_the_sales_country_and_keeps_it(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
) -> None:
    sale = make_sale(SqlLedger(), stock=5)
    buyer = make_user()
    headers = auth(buyer)
    clock.advance(minutes=1)
    number = reserved(store_client, sale.id, headers, clock)
    pay = f"/api/v1/orders/{number}/pay"
    no_address = store_client.post(pay, json={"payment_token": "fake_ok"}, headers=headers)
    assert_error(no_address, 422, "invalid_input")
    for change, status, field in (
        ({"postcode": "2001"}, 422, "address.postcode"),
        ({"phone": "+1 212 555 0100"}, 422, "address.phone"),
        ({"name": "   "}, 422, "address.name"),
        ({"line": "x" * 201}, 422, "body.address.line"),  # the schema's bound
        ({"country": "US", "postcode": "10001"}, 403, "address.country"),
    ):
        answer = store_client.post(
            pay,
            json={"payment_token": "fake_ok", "address": {**ADDRESS, **change}},
            headers=headers,
        )
        assert answer.status_code == status, (change, answer.text)
        details = answer.json()["error"]["details"]
        assert field in (
            [d["field"] for d in details] if isinstance(details, list) else [details["field"]]
        )
    # Nothing was charged or written by the refusals.
    assert store_client.get(f"/api/v1/orders/{number}", headers=headers).json()["status"] == (
        "reserved"
    )
    paid = store_client.post(
        pay,
        json={"payment_token": "fake_ok", "address": {**ADDRESS, "phone": "138 0013 8000"}},
        headers=headers,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["address"] == {**ADDRESS, "phone": "+8613800138000"}
    shown = store_client.get(f"/api/v1/orders/{number}", headers=headers).json()
    assert shown["address"]["city"] == "Shanghai"
    other = make_user()
    assert store_client.get(f"/api/v1/orders/{number}", headers=auth(other)).status_code == 404


def test_a_buyer_outside_the_sales_country_is_refused_with_the_reason(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    auth: AuthHeaders,
    clock: Clock,
    database: Database,
) -> None:
    sale = make_sale(SqlLedger(), stock=5)
    abroad = make_user()
    with database.session() as s:
        s.execute(update(User).where(User.id == abroad.id).values(country="US"))
    clock.advance(minutes=1)
    refused = store_client.post(f"/api/v1/sales/{sale.id}/queue", headers=auth(abroad))
    error = assert_error(refused, 403, "forbidden")
    assert error["message"] == "This sale is for buyers in CN; your account is in US."
    assert error["details"] == {"sale_country": "CN", "buyer_country": "US"}


def test_the_checkout_page_asks_for_the_address_and_fills_in_no_card(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    clock: Clock,
    database: Database,
) -> None:
    sale = make_sale(SqlLedger(), stock=5)
    buyer = make_user()
    sign_in(store_client, buyer)
    page = f"/store/sales/{sale.id}"
    clock.advance(minutes=1)
    store_client.post(
        f"{page}/join", data={"csrf_token": csrf(store_client.get(page, headers=HTML))}
    )
    clock.advance(minutes=6)
    form = store_client.get(page, headers=HTML)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
    assert key
    store_client.post(
        f"{page}/buy", data={"csrf_token": csrf(form), "idempotency_key": key[1], "quantity": "1"}
    )
    checkout = store_client.get(page, headers=HTML)
    token_input = re.search(r'<input id="token-1"[^>]*>', checkout.text)
    assert token_input
    assert "value=" not in token_input[0], "no card token is filled in"
    assert 'name="postcode"' in checkout.text
    number = re.search(r'action="/store/orders/([0-9a-f]+)/pay"', checkout.text)
    assert number
    bad = store_client.post(
        f"/store/orders/{number[1]}/pay",
        data={"csrf_token": csrf(checkout), "payment_token": "fake_ok", **ADDRESS, "postcode": "1"},
    )
    assert bad.status_code == 422
    assert "Check the delivery address: Postcode." in bad.text
    paid = store_client.post(
        f"/store/orders/{number[1]}/pay",
        data={"csrf_token": csrf(checkout), "payment_token": "fake_ok", **ADDRESS},
        headers=HTML,
        follow_redirects=True,
    )
    assert "Delivery to: Li Wei, 88 Century Avenue, Apt 1203, Shanghai 200120" in paid.text
    orders = store_client.get("/store/orders", headers=HTML).text
    assert "Delivery to: Li Wei, Shanghai 200120" in orders
