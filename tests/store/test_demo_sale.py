"""The demo's sale: a catalogue in every demo country and an open pre-queue."""

from __future__ import annotations

from conftest import UserFactory

from canyu.accounts.models import Role
from canyu.db import Database, utcnow
from canyu.demo.store import DEMO_LISTINGS, add_demo_sale
from canyu.store.models import Listing


def test_the_demo_sale_is_open_for_queueing(database: Database, make_user: UserFactory) -> None:
    team = make_user(Role.TEAM)
    now = utcnow()
    with database.session() as s:
        sale = add_demo_sale(s, team=team, now=now)
        assert sale.queue_opens_at <= now < sale.starts_at
        assert s.query(Listing).count() == 2 * len(DEMO_LISTINGS)
        assert sale.listing.country == "CN"
        assert sale.listing.stock == 50_000 - sale.stock
