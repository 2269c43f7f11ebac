"""The pack codec and the H3 cell ranges, without a database."""

from __future__ import annotations

import math
import random

import pytest
from h3.api import basic_int as h3

from canyu.hotspots import connect, geo
from canyu.hotspots.pack import (
    Extra,
    Header,
    Kind,
    PackError,
    PackReader,
    Record,
    SuccessClass,
    apply_delta,
    decode,
    distance_m,
    encode,
    make_delta,
)


def records(n: int, seed: int = 1) -> list[Record]:
    rng = random.Random(seed)
    return [
        Record(
            id=i + 1,
            lat=40.7 + rng.gauss(0, 0.05),
            lon=-74.0 + rng.gauss(0, 0.05),
            ssid=rng.choice(["LinkNYC Free Wi-Fi", "GuestWiFi", f"Cafe {i}", "咖啡馆 Wi-Fi"]),
            kind=Kind(rng.randrange(4)),
            free=rng.random() < 0.9,
            success=SuccessClass(rng.randrange(4)),
            extras={Extra.PASSWORD: "secret-pass"} if i % 50 == 0 else {},
        )
        for i in range(n)
    ]


def test_pack_round_trips_within_10_m_with_every_field() -> None:
    items = records(2000)
    data = encode("832a10fffffffff", 3, 1_700_000_000, items)
    header, out = decode(data)
    assert header == Header("832a10fffffffff", 3, 1_700_000_000, 2000)
    by_id = {r.id: r for r in out}
    for r in items:
        got = by_id[r.id]
        assert distance_m(r.lat, r.lon, got.lat, got.lon) <= 10.0
        assert (got.ssid, got.kind, got.free, got.success) == (r.ssid, r.kind, r.free, r.success)
        assert dict(got.extras) == dict(r.extras)
    assert len(data) / len(items) < 24


def test_delta_rebuilds_the_new_pack_byte_for_byte() -> None:
    base = records(1000)
    header, decoded = decode(encode("r", 1, 10, base))
    new = [r for r in decoded if r.id % 97] + [Record(id=5000, lat=40.71, lon=-74.01, ssid="New")]
    new[3] = Record(**{**new[3].__dict__, "success": SuccessClass.POOR})
    new_header = Header("r", 2, 20, len(new))
    delta = make_delta(decoded, new_header, new, base_version=1)
    assert apply_delta(header, decoded, delta) == encode("r", 2, 20, new)
    assert len(delta) < len(encode("r", 2, 20, new)) / 10
    with pytest.raises(PackError):
        apply_delta(Header("r", 7, 10, len(decoded)), decoded, delta)  # another base


@pytest.mark.parametrize(
    "data", [b"", b"CYWF", b"XXXX" + bytes(40), encode("r", 1, 1, records(10))[:-3]]
)
def test_malformed_packs_are_refused(data: bytes) -> None:
    with pytest.raises(PackError):
        decode(data)


def test_reader_finds_the_nearest_first() -> None:
    items = records(500)
    reader = PackReader(encode("r", 1, 1, items))
    found = reader.near(40.7, -74.0, radius_m=2000, limit=5)
    assert [d for d, _ in found] == sorted(d for d, _ in found)
    assert all(d <= 2000 for d, _ in found)
    exact = sorted(distance_m(40.7, -74.0, r.quantised().lat, r.quantised().lon) for r in items)
    assert [round(d, 3) for d, _ in found] == [round(d, 3) for d in exact[:5]]


def test_cell_ranges_cover_the_circle_and_keep_far_points_out() -> None:
    rng = random.Random(3)
    for _ in range(200):
        lat, lon = rng.uniform(-60, 60), rng.uniform(-179, 179)
        radius = rng.choice([50, 300, 1000, 5000])
        ranges = geo.cell_ranges(lat, lon, radius)
        for _ in range(20):
            # A point inside the circle is always in one of the ranges.
            bearing, dist = rng.uniform(0, 360), rng.uniform(0, radius)
            dlat = dist * math.cos(math.radians(bearing)) / 111_320
            dlon = dist * math.sin(math.radians(bearing)) / (111_320 * math.cos(math.radians(lat)))
            c = geo.cell(lat + dlat, lon + dlon)
            assert any(lo <= c <= hi for lo, hi in ranges)
    assert h3.get_resolution(geo.cell(1, 1)) == 15


def test_wifi_qr_escapes_special_characters() -> None:
    assert connect.wifi_qr('Cafe; "A"', "p:a,ss") == 'WIFI:T:WPA;S:Cafe\\; \\"A\\";P:p\\:a\\,ss;;'
    assert connect.wifi_qr("Open") == "WIFI:T:nopass;S:Open;;"
    art = connect.artefact(kind="captive", ssid="X", portal_url="https://portal.example/")
    assert art["type"] == "captive"
    assert art["android_suggestion"]["isAppInteractionRequired"]
    assert connect.artefact(kind="passpoint", ssid="X", passpoint="<xml/>")["type"] == "passpoint"
