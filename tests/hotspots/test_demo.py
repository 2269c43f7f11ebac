"""The demo's hotspots: a city, a claimed café with a password, friends' confirmations."""

from __future__ import annotations

from conftest import UserFactory
from sqlalchemy import func, select

from canyu.accounts.models import Role
from canyu.db import Database
from canyu.demo.hotspots import CAFE_PASSWORD, add_demo_hotspots
from canyu.hotspots import service
from canyu.hotspots.models import Hotspot


def test_demo_hotspots(database: Database, make_user: UserFactory) -> None:
    for _ in range(5):
        make_user()
    make_user(Role.TEAM)
    with database.session() as s:
        demo = add_demo_hotspots(s)
    with database.session() as s:
        cafe = service.get(s, hotspot_id=demo.cafe_id)
        assert cafe.owner_id
        assert cafe.password == CAFE_PASSWORD
        assert cafe.kind == "password"
        assert service.artefact(cafe)["wifi_qr"].endswith(f";P:{CAFE_PASSWORD};;")
        assert cafe.confirmations >= 3
        assert cafe.success_class == 1
        assert demo.confirmations > 50
        assert s.scalar(select(func.count(Hotspot.id))) == demo.imported
        assert (s.scalar(select(func.count()).where(Hotspot.failing.is_(True))) or 0) >= 1
