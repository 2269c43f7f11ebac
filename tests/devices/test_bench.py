"""`canyu bench checkin` measures the same thing on a database it loaded earlier as on a fresh
one: the check-in's read path, with no sighting due."""

from __future__ import annotations

from datetime import timedelta

from releases.fixtures import Shop
from sqlalchemy import func, select, update

from canyu.db import Database, utcnow
from canyu.devices import bench
from canyu.devices.cli import progress_bar
from canyu.devices.models import Device


def test_a_reused_bench_database_has_no_sightings_due(shop: Shop, database: Database) -> None:
    product = shop.product()
    with progress_bar() as bar:
        tokens = bench.load_devices(database, product.id, 1000, bar)
    assert len(set(tokens)) == 1000
    with database.session() as s:
        s.execute(update(Device).values(last_seen_at=utcnow() - timedelta(hours=3)))
    with progress_bar() as bar:
        assert bench.load_devices(database, product.id, 1000, bar) == tokens  # loads none again
    with database.session() as s:
        assert s.scalar(select(func.count(Device.id))) == 1000
        oldest = s.scalar(select(func.min(Device.last_seen_at)))
    assert oldest is not None
    assert oldest > utcnow() - timedelta(minutes=1)
