"""An opened market is where canyu acts: rollouts target it, the store lists products there, and
spam and greeting packs are built for it. Anywhere else is refused with the reason, until the
team records the opening; China, the home market, is always open."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import MarketOpener, UserFactory
from releases.fixtures import Shop

from canyu.accounts.models import Role
from canyu.calls import service as calls
from canyu.calls.settings import CallsSettings
from canyu.db import Database
from canyu.errors import InvalidInput
from canyu.greetings import service as greetings
from canyu.markets import service as markets
from canyu.store import service as store


def test_a_rollout_targets_only_opened_markets(shop: Shop, open_markets: MarketOpener) -> None:
    shop.product()
    build = shop.build("2.0")
    with pytest.raises(InvalidInput, match="India \\(IN\\) is not an opened market"):
        shop.rollout(build, countries=("IN",))
    open_markets("IN")
    assert shop.rollout(build, countries=("IN", "CN")).countries == ["CN", "IN"]


def test_the_store_lists_products_only_in_opened_markets(
    database: Database, make_user: UserFactory, open_markets: MarketOpener
) -> None:
    team = make_user(Role.TEAM)
    with database.session() as s:
        product = store.create_product(s, actor=team, slug="phone", name="canyu 1S")
        sku = store.add_sku(s, actor=team, product=product, code="1S-64", label="64 GB")
        store.set_listing(s, actor=team, sku=sku, country="CN", price="1999", stock=10)
        with pytest.raises(InvalidInput, match="not an opened market"):
            store.set_listing(s, actor=team, sku=sku, country="US", price="299", stock=10)
        s.commit()
    open_markets("US")
    with database.session() as s:
        sku = s.merge(sku)
        listing = store.set_listing(s, actor=team, sku=sku, country="US", price="299", stock=10)
        assert listing.country == "US"


def test_packs_are_built_for_opened_markets_only(
    database: Database, open_markets: MarketOpener, tmp_path: Path
) -> None:
    settings = CallsSettings(pack_dir=tmp_path)
    with database.session() as s:
        with pytest.raises(InvalidInput, match="not an opened market"):
            calls.build_pack(s, region="IN", settings=settings, publisher=None)
        with pytest.raises(InvalidInput, match="not an opened market"):
            greetings.build_pack(s, country="IN", language="en", publisher=None)
        # The daily jobs build what is open, and pass over the rest.
        built = greetings.build_packs(s, publisher=None, today=date(2027, 1, 1))
        assert {b.country for b in built} == {"CN"}
    open_markets("IN")
    with database.session() as s:
        # Packs are per calling zone: India is +91.
        assert calls.build_pack(s, region="IN", settings=settings, publisher=None).region == "91"
        built = greetings.build_packs(s, publisher=None, today=date(2027, 1, 1))
        assert {b.country for b in built} == {"CN", "IN"}
        assert markets.open_iso2(s) == {"CN", "IN"}
