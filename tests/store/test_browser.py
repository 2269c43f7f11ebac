"""A friend queues and buys in a real browser (headless Debian Chromium), English page."""

from __future__ import annotations

import pytest
from browser import ContextFactory, screenshot, sign_in
from conftest import UserFactory
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from canyu.store.ledger import SqlLedger

from .conftest import ADDRESS, Clock, SaleFactory


def fill_checkout(page: Page) -> None:
    """The delivery address and the test provider's card: nothing is filled in beforehand."""
    token = page.locator("#checkout input[name=payment_token]").first
    expect(token).to_have_value("")
    for field in ("name", "phone", "line", "city", "postcode"):
        page.locator(f"#checkout input[name={field}]").first.fill(ADDRESS[field])
    token.fill("fake_ok")


def no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 1, f"{page.url} scrolls {wide} px sideways"


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_store_pages_at_desktop_and_phone_widths(
    store_app: FastAPI,
    new_context: ContextFactory,
    make_sale: SaleFactory,
    make_user: UserFactory,
    clock: Clock,
    locale: str,
) -> None:
    """Photos, checkout with an address, and the order: no page wider than the screen, order
    numbers on one line, at 1280 and 390 px."""
    page = new_context(locale).new_page()
    tag = locale[:2]
    sign_in(page, make_user(locale=tag))
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 860})
        sale = make_sale(SqlLedger(), stock=3, buyer_limit=1)
        clock.advance(minutes=1)
        page.goto("/store")
        photo = page.locator("img.st-photo").first
        expect(photo).to_be_visible()
        assert page.evaluate(
            "(img) => img.complete && img.naturalWidth > 0", photo.element_handle()
        )
        no_sideways_scroll(page)
        screenshot(page, f"store-index-{tag}-{width}")
        page.goto("/store/products/canyu-one")
        no_sideways_scroll(page)
        page.goto(f"/store/sales/{sale.id}")
        page.click("[data-join]")
        clock.advance(minutes=5)
        page.locator("[data-buy]").click(timeout=15_000)
        expect(page.locator("#checkout [data-pay]")).to_be_visible()
        no_sideways_scroll(page)
        number = page.locator("#checkout .st-order-no").first
        line = float(
            page.evaluate(
                "(e) => parseFloat(getComputedStyle(e).lineHeight) || 20", number.element_handle()
            )
        )
        box = number.bounding_box()
        assert box is not None
        assert box["height"] < 1.8 * line, "the order number wraps"
        screenshot(page, f"store-checkout-{tag}-{width}")
        fill_checkout(page)
        page.locator("#checkout input[name=postcode]").first.fill("12")
        page.click("[data-pay]")
        expect(page.locator(".alert.error")).to_contain_text(
            "Postcode" if tag == "en" else "邮政编码"
        )
        fill_checkout(page)
        page.click("[data-pay]")
        expect(page.locator("[data-delivery]").first).to_contain_text(ADDRESS["name"])
        no_sideways_scroll(page)
        page.goto("/store/orders")
        expect(page.locator("[data-delivery]").first).to_be_visible()
        no_sideways_scroll(page)
        screenshot(page, f"store-orders-{tag}-{width}")


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
    fill_checkout(page)
    page.click("[data-pay]")
    expect(page.locator("[data-paid]")).to_have_text("Paid")
    expect(page.locator("[data-units-left]")).to_have_text("2")
    expect(page.locator("[data-buy]")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "store-friend-bought")
