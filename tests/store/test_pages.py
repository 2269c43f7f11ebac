"""The store's pages through TestClient, in English and Chinese: products with local prices,
the sale page from countdown to result, the forms a friend uses, and the team's console."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from babel.messages.extract import extract_from_dir, extract_from_file
from conftest import PASSWORD, Response, UserFactory
from fastapi.testclient import TestClient

from canyu.accounts.models import Role, User
from canyu.i18n import translations
from canyu.store import pages as store_pages
from canyu.store.ledger import SqlLedger
from canyu.web.templating import TEMPLATE_DIR
from store.conftest import ADDRESS

from .conftest import Clock, SaleFactory

HTML = {"Accept": "text/html"}
ZH = {"Accept": "text/html", "Accept-Language": "zh-CN,zh;q=0.9"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(response: Response) -> str:
    found = _CSRF.search(response.text)
    assert found, "the page has no form"
    return found.group(1)


def sign_in(client: TestClient, user: User) -> None:
    token = csrf(client.get("/signin", headers=HTML))
    response = client.post(
        "/signin",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_products_and_sales_show_local_prices_in_both_languages(
    store_client: TestClient, make_sale: SaleFactory
) -> None:
    sale = make_sale(SqlLedger(), stock=3, starts_in=timedelta(minutes=20))
    english = store_client.get("/store", headers=HTML)
    assert english.status_code == 200
    assert "Flash sales" in english.text
    assert "CN¥1,999.00" in english.text  # Babel: the yuan for an English reader
    chinese = store_client.get("/store", headers=ZH)
    assert "限时抢购" in chinese.text
    assert "¥1,999.00" in chinese.text
    assert "参与一号" in chinese.text  # the product's Chinese name
    product = store_client.get("/store/products/canyu-one", headers=ZH)
    assert product.status_code == 200
    assert "中国" in product.text
    page = store_client.get(f"/store/sales/{sale.id}", headers=HTML)
    assert sale.commitment in page.text, "the commitment is public before the sale"
    assert "The queue opens in" in page.text
    assert "Sign in to join the queue." in page.text


def test_a_friend_joins_buys_and_pays_with_the_forms(
    store_client: TestClient, make_sale: SaleFactory, make_user: UserFactory, clock: Clock
) -> None:
    sale = make_sale(SqlLedger(), stock=1)
    friend, other = make_user(locale="zh"), make_user()
    clock.advance(minutes=1)
    sign_in(store_client, friend)
    page = store_client.get(f"/store/sales/{sale.id}", headers=ZH)
    assert "距离开始" in page.text
    joined = store_client.post(
        f"/store/sales/{sale.id}/join", data={"csrf_token": csrf(page)}, follow_redirects=False
    )
    assert joined.status_code == 303
    page = store_client.get(f"/store/sales/{sale.id}", headers=ZH)
    assert "开始时将通过抽签" in page.text

    clock.advance(minutes=5)
    page = store_client.get(f"/store/sales/{sale.id}", headers=ZH)
    assert "你的排队号码" in page.text
    assert "#1" in page.text
    assert sale.seed.hex() in page.text, "the seed is revealed after the draw"
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None
    form = {"csrf_token": csrf(page), "idempotency_key": key.group(1), "quantity": "1"}
    bought = store_client.post(f"/store/sales/{sale.id}/buy", data=form, follow_redirects=False)
    assert bought.status_code == 303
    again = store_client.post(f"/store/sales/{sale.id}/buy", data=form, follow_redirects=False)
    assert again.status_code == 303, "a resubmitted form is the same purchase"
    page = store_client.get(f"/store/sales/{sale.id}", headers=ZH)
    assert "已预留" in page.text
    assert "1 秒" not in page.text
    assert "秒售出 1 台" in page.text  # sold out: "N units sold in X s" from the ledger
    number = re.search(r'action="/store/orders/([0-9a-f]+)/pay"', page.text)
    assert number is not None
    paid = store_client.post(
        f"/store/orders/{number.group(1)}/pay",
        data={"csrf_token": csrf(page), "payment_token": "fake_ok", **ADDRESS},
        follow_redirects=False,
    )
    assert paid.status_code == 303
    history = store_client.get("/store/orders", headers=ZH)
    assert "已付款" in history.text
    assert "¥1,999.00" in history.text

    # Someone else, late: a clear refusal on the page, in their language.
    store_client.cookies.clear()
    sign_in(store_client, other)
    page = store_client.get(f"/store/sales/{sale.id}", headers=HTML)
    store_client.post(f"/store/sales/{sale.id}/join", data={"csrf_token": csrf(page)})
    page = store_client.get(f"/store/sales/{sale.id}", headers=HTML)
    assert "Buy now" not in page.text
    refused = store_client.post(
        f"/store/sales/{sale.id}/buy",
        data={"csrf_token": csrf(page), "idempotency_key": "k" * 20},
        headers=HTML,
    )
    assert refused.status_code == 409
    assert "Sold out" in refused.text


def test_the_console_sets_up_a_sale_and_watches_it(
    store_client: TestClient,
    make_sale: SaleFactory,
    make_user: UserFactory,
    clock: Clock,
) -> None:
    team = make_user(Role.TEAM)
    friend = make_user()
    sign_in(store_client, friend)
    assert store_client.get("/console/store", headers=HTML).status_code == 403
    store_client.cookies.clear()
    sign_in(store_client, team)
    console = store_client.get("/console/store", headers=HTML)
    assert "New flash sale" in console.text
    listing = re.search(r'<option value="(\d+)"', console.text)
    assert listing is not None
    start = (clock() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "csrf_token": csrf(console),
        "listing_id": listing.group(1),
        "title": "canyu One · launch",
        "starts_at": start,
        "stock": "50",
        "fcode_stock": "5",
    }
    created = store_client.post("/console/store/sales", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    live = store_client.get(created.headers["location"], headers=HTML)
    assert "Sell-out curve" in live.text
    assert "<svg" in live.text
    bad = store_client.post("/console/store/sales", data={**form, "stock": "many"}, headers=HTML)
    assert bad.status_code == 422

    # The curve after a few reservations.
    sale = make_sale(SqlLedger(), stock=2, starts_in=timedelta(minutes=1))
    clock.advance(minutes=2)
    store_client.cookies.clear()
    sign_in(store_client, friend)
    page = store_client.get(f"/store/sales/{sale.id}", headers=HTML)
    store_client.post(f"/store/sales/{sale.id}/join", data={"csrf_token": csrf(page)})
    page = store_client.get(f"/store/sales/{sale.id}", headers=HTML)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None
    store_client.post(
        f"/store/sales/{sale.id}/buy",
        data={"csrf_token": csrf(page), "idempotency_key": key.group(1)},
    )
    store_client.cookies.clear()
    sign_in(store_client, team)
    live = store_client.get(f"/console/store/sales/{sale.id}", headers=HTML)
    assert 'class="line"' in live.text
    stats = store_client.get(f"/api/v1/sales/{sale.id}/stats").json()
    assert stats["reserved_units"] == 1
    assert stats["curve"][-1][1] == 1


def test_every_store_string_has_a_chinese_translation() -> None:
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}}
    wanted: set[str] = set()
    for _name, _line, message, _comments, _context in extract_from_dir(
        str(TEMPLATE_DIR / "store"),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map=options,
        keywords=keywords,
    ):
        wanted.add(message[0] if isinstance(message, tuple) else message)
    for _line, message, _comments, _context in extract_from_file(
        "python", str(Path(store_pages.__file__)), keywords=keywords
    ):
        wanted.add(message[0] if isinstance(message, tuple) else message)
    assert len(wanted) > 100
    catalogue = translations("zh")
    missing = sorted(m for m in wanted if catalogue.gettext(m) == m)
    assert not missing, f"untranslated: {missing}"
