"""A friend queues and buys in a real browser (headless Debian Chromium), English page."""

from __future__ import annotations

import pytest
from browser import ContextFactory, screenshot, sign_in
from conftest import UserFactory
from fastapi import FastAPI
from playwright.sync_api import expect

from canyu.store.ledger import SqlLedger

from .conftest import Clock, SaleFactory


@pytest.mark.browser
def test_a_friend_queues_and_buys(
    store_app: FastAPI,
    new_context: ContextFactory,
    make_sale: SaleFactory,
    make_user: UserFactory,
    clock: Clock,
) -> None:
    sale = make_sale(SqlLedger(), stock=3, buyer_limit=1)
    friend = make_user()
    clock.advance(minutes=1)  # the pre-queue is open
    page = new_context().new_page()
    sign_in(page, friend)

    page.goto(f"/store/sales/{sale.id}")
    expect(page.locator("h1")).to_contain_text(sale.title)
    expect(page.locator("[data-commitment]")).to_have_text(sale.commitment)
    page.click("[data-join]")
    expect(page.locator("#queue")).to_contain_text("In the draw")

    clock.advance(minutes=5)  # the sale starts: the page notices by itself
    expect(page.locator("[data-my-position]")).to_have_text("#1", timeout=10_000)
    expect(page.locator("[data-seed]")).to_have_text(sale.seed.hex())
    page.click("[data-buy]")
    expect(page.locator("#checkout")).to_contain_text("Reserved")
    page.click("[data-pay]")
    expect(page.locator("[data-paid]")).to_have_text("Paid")
    expect(page.locator("[data-units-left]")).to_have_text("2")
    expect(page.locator("[data-buy]")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "store-friend-bought")
