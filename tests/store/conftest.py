"""Store fixtures: a catalogue, a movable clock, sales set up around it, quick buyers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.accounts.models import Role, User
from canyu.db import Database, utcnow
from canyu.store import service
from canyu.store.ledger import Ledger
from canyu.store.models import Listing, Sale
from canyu.store.runtime import store_runtime

AuthHeaders = Callable[[User], dict[str, str]]


class Clock:
    """The store's clock in a test: starts at a real time, moves only when told."""

    def __init__(self) -> None:
        self.current = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class Catalogue:
    team: User
    listing: Listing


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalogue(database: Database, make_user: UserFactory) -> Catalogue:
    team = make_user(Role.TEAM)
    with database.session() as s:
        product = service.create_product(
            s, actor=team, slug="canyu-one", name="canyu One", name_zh="参与一号"
        )
        sku = service.add_sku(s, actor=team, product=product, code="ONE-8-256", label="8+256 GB")
        listing = service.set_listing(
            s, actor=team, sku=sku, country="CN", price=Decimal("1999.00"), stock=100_000
        )
    return Catalogue(team=team, listing=listing)


SaleFactory = Callable[..., Sale]


@pytest.fixture
def make_sale(database: Database, catalogue: Catalogue, clock: Clock) -> SaleFactory:
    """A sale starting `starts_in` after the clock's now (pre-queue of 10 minutes before)."""

    def make(ledger: Ledger, *, starts_in: timedelta = timedelta(minutes=5), **terms: Any) -> Sale:
        with database.session() as s:
            return service.create_sale(
                s,
                actor=catalogue.team,
                ledger=ledger,
                listing_id=catalogue.listing.id,
                starts_at=clock() + starts_in,
                stock=terms.pop("stock", 10),
                now=clock(),
                **terms,
            )

    return make


@pytest.fixture
def store_app(app: FastAPI, clock: Clock) -> FastAPI:
    store_runtime(app).now = clock
    return app


@pytest.fixture
def store_client(store_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(store_app) as test_client:
        yield test_client


# A delivery address in the fixtures' sale country (CN), as checkout asks for one.
ADDRESS = {
    "name": "Li Wei",
    "phone": "+86 138 0013 8000",
    "line": "88 Century Avenue, Apt 1203",
    "city": "Shanghai",
    "postcode": "200120",
    "country": "CN",
}
