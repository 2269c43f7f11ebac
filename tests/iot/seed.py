"""A small world for the IoT pages: an owner with a paired air purifier (with telemetry and a
command) and a phone, and a few more devices in other countries and builds."""

from __future__ import annotations

import json
from dataclasses import dataclass

from canyu.accounts.models import User
from canyu.db import Database, utcnow
from canyu.iot import service
from canyu.releases import service as releases

from .conftest import IOT_PRODUCT, PHONE_PRODUCT


@dataclass(frozen=True)
class Seeded:
    purifier: int
    phone: int


def seed(database: Database, owner: User) -> Seeded:
    with database.session() as s:
        user = s.get(User, owner.id)
        assert user is not None
        made = service.create_pairing_code(s, owner=user)
        purifier = service.pair(
            s, code=made.code, product_key=IOT_PRODUCT, hardware_id="AIR-1", version="1.0.0"
        ).device
        phone = releases.enrol_device(
            s,
            product_key=PHONE_PRODUCT,
            hardware_id="PHONE-1",
            country="CN",
            channel="beta",
            owner=user,
            version="2.0.1",
        ).device
        for n, (country, version) in enumerate((("IN", "1.0.0"), ("ES", "1.1.0"), ("ID", "1.1.0"))):
            releases.enrol_device(
                s,
                product_key=IOT_PRODUCT,
                hardware_id=f"OTHER-{n}",
                country=country,
                channel="stable",
                version=version,
            )
        rows = [
            (purifier.id, "on", "auto", "1.0.0", json.dumps({"pm25": 12.5 + n, "temp": 21.0}), None)
            for n in range(3)
        ]
        service.store_telemetry(s, received_at=utcnow(), rows=rows)
        service.record_sightings(s, {purifier.id: "1.0.0", phone.id: "2.0.1"})
        service.send_command(s, actor=user, device_id=purifier.id, action="mode", value="sleep")
        s.commit()
        return Seeded(purifier.id, phone.id)
