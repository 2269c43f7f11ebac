"""`canyu bench hotspots`: near-me latency over HTTP beside a bare ASGI floor, pack size and
build time, and the share of a day's delta, with N hotspots synthesised around real cities.

**Synthesis** follows the shape of NYC's open data (../shared/data/wifi/): each synthetic
hotspot copies a random NYC hotspot's offset from NYC's centre (metres, scaled by the city's
size, jittered 150 m), so a city has NYC's dense core and sparse edges; its SSID follows NYC's
SSID distribution (chain networks, renamed per city), except that a share (``--unique-ssids``,
default 30 %) are one-off venue names ("Cafe Lotus 5G"), which NYC's city-run data lacks but
a directory with owners has. Cities are weighted by population. Without the NYC file a fixed
built-in shape stands in.

**Near**: the server (``uvicorn canyu.asgi:app``, one worker) and the floor (the check-in
bench's bare ASGI app, same uvicorn) are measured in turns with the same GET requests, radius
1 km, limit 20, at points drawn near random hotspots (so weighted to where hotspots are).

**Packs**: every region's pack is built (``pack_build_s`` is the total); then a typical day
changes the data: 0.5 % of hotspots change success class (friends' confirmations), 0.1 % are
added, 0.05 % start failing (drop out); ``delta_share`` is the day's delta bytes over the full
packs' bytes.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

NYC = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "wifi"
NYC_FILE = "NYC_Wi-Fi_Hotspot_Locations.csv"
CITIES: tuple[tuple[str, float, float, float], ...] = (
    # name, lat, lon, population (millions): where synthetic hotspots go
    ("Tokyo", 35.6762, 139.6503, 37.4),
    ("Delhi", 28.7041, 77.1025, 31.0),
    ("Shanghai", 31.2304, 121.4737, 27.1),
    ("Sao Paulo", -23.5505, -46.6333, 22.0),
    ("Mexico City", 19.4326, -99.1332, 21.8),
    ("Cairo", 30.0444, 31.2357, 20.9),
    ("Mumbai", 19.0760, 72.8777, 20.4),
    ("Beijing", 39.9042, 116.4074, 20.4),
    ("Dhaka", 23.8103, 90.4125, 21.0),
    ("Osaka", 34.6937, 135.5023, 19.2),
    ("New York", 40.7128, -74.0060, 18.8),
    ("Karachi", 24.8607, 67.0011, 16.1),
    ("Buenos Aires", -34.6037, -58.3816, 15.0),
    ("Istanbul", 41.0082, 28.9784, 15.2),
    ("Kolkata", 22.5726, 88.3639, 14.8),
    ("Manila", 14.5995, 120.9842, 13.9),
    ("Lagos", 6.5244, 3.3792, 13.9),
    ("Jakarta", -6.2088, 106.8456, 10.6),
    ("Guangzhou", 23.1291, 113.2644, 13.3),
    ("Shenzhen", 22.5431, 114.0579, 12.4),
    ("Moscow", 55.7558, 37.6173, 12.5),
    ("Paris", 48.8566, 2.3522, 11.0),
    ("London", 51.5074, -0.1278, 9.3),
    ("Bangkok", 13.7563, 100.5018, 10.5),
    ("Seoul", 37.5665, 126.9780, 9.9),
    ("Madrid", 40.4168, -3.7038, 6.6),
    ("Singapore", 1.3521, 103.8198, 5.9),
    ("Kuala Lumpur", 3.1390, 101.6869, 8.0),
    ("Berlin", 52.5200, 13.4050, 3.6),
    ("Sydney", -33.8688, 151.2093, 5.3),
)
WORDS = (
    "Cafe", "Lotus", "Corner", "Bakery", "Tea", "Noodle", "Book", "Hotel", "Mall", "Bistro",
    "Garden", "Station", "Library", "Studio", "Market", "Plaza", "Harbour", "Sun", "Moon", "Blue",
)  # fmt: skip


def nyc_shape(
    folder: Path | None = None,
) -> tuple[list[tuple[float, float]], list[tuple[str, int]]]:
    """NYC's hotspots as (north, east) metres from their centre, and SSIDs with counts."""
    path = (folder or NYC) / NYC_FILE
    if not path.exists():
        rng = random.Random(7)
        offsets = [(rng.gauss(0, 6000), rng.gauss(0, 5000)) for _ in range(3000)]
        return offsets, [("City Free WiFi", 1800), ("GuestWiFi", 600), ("Transit WiFi", 300)]
    with path.open(encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Latitude"] and r["SSID"]]
    lats = [float(r["Latitude"]) for r in rows]
    lons = [float(r["Longitude"]) for r in rows]
    lat0, lon0 = statistics.fmean(lats), statistics.fmean(lons)
    k = math.cos(math.radians(lat0))
    offsets = [
        ((a - lat0) * 111_320.0, (b - lon0) * 111_320.0 * k)
        for a, b in zip(lats, lons, strict=True)
    ]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["SSID"]] = counts.get(r["SSID"], 0) + 1
    return offsets, sorted(counts.items(), key=lambda kv: -kv[1])


def synthesise(
    n: int, *, seed: int = 1, unique_share: float = 0.3, folder: Path | None = None
) -> list[dict[str, Any]]:
    """N GeoJSON features around real cities, shaped like NYC's hotspots."""
    rng = random.Random(seed)
    offsets, ssids = nyc_shape(folder)
    names = [s for s, _ in ssids]
    weights = [c for _, c in ssids]
    city_weights = [c[3] for c in CITIES]
    features: list[dict[str, Any]] = []
    for i in range(n):
        name, lat0, lon0, pop = rng.choices(CITIES, weights=city_weights)[0]
        north, east = rng.choice(offsets)
        scale = 0.5 + pop / 25.0
        north = north * scale + rng.gauss(0, 150)
        east = east * scale + rng.gauss(0, 150)
        lat = lat0 + north / 111_320.0
        lon = lon0 + east / (111_320.0 * math.cos(math.radians(lat0)))
        if rng.random() < unique_share:
            ssid = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.randrange(1, 999)}"
            if rng.random() < 0.3:
                ssid += " 5G"
        else:
            ssid = f"{rng.choices(names, weights=weights)[0][:20]} {name[:10]}"
        features.append(
            {
                "type": "Feature",
                "id": f"synth/{i}",
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {
                    "internet_access": "wlan",
                    "internet_access:fee": "yes" if rng.random() < 0.03 else "no",
                    "internet_access:ssid": ssid[:32],
                    "name": ssid,
                    "captive_portal": "yes" if rng.random() < 0.2 else "no",
                },
            }
        )
    return features


# --- a small GET load generator (its own process) ---------------------------------------------


async def _client(
    host: str, port: int, paths: list[str], deadline: float, budget: list[int], out: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    i = random.randrange(len(paths))
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            out.append(time.perf_counter() - started)
            if head[9:12] != b"200":
                errors += 1
    finally:
        writer.close()
    return errors


async def _run_load(url: str, paths: list[str], requests: int, duration: float, conc: int) -> Any:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    budget = [requests]
    started = time.perf_counter()
    errors = await asyncio.gather(
        *(_client(host, port, paths, started + duration, budget, latencies) for _ in range(conc))
    )
    seconds = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": sum(errors),
        "seconds": round(seconds, 3),
        "rps": round(n / seconds, 1) if seconds else 0.0,
        "p50_ms": round(latencies[n // 2] * 1000, 3) if n else 0.0,
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 3) if n else 0.0,
    }


def _load(url: str, paths: Path, requests: int, duration: float, conc: int) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "canyu.lab.hotspots_bench",
        url,
        str(paths),
        str(requests),
        str(duration),
        str(conc),
    ]
    done = subprocess.run(command, capture_output=True, check=True, timeout=duration + 120)  # noqa: S603
    result: dict[str, float] = json.loads(done.stdout)
    return result


# --- the bench ---------------------------------------------------------------------------------


def _day_of_changes(database: Any, rng: random.Random, now: Any) -> dict[str, int]:
    from sqlalchemy import func, select, update

    from canyu.hotspots.models import Hotspot

    with database.session() as session:
        top = int(session.scalar(select(func.max(Hotspot.id))) or 0)
        count = int(session.scalar(select(func.count(Hotspot.id))) or 0)
        changed = rng.sample(range(1, top + 1), max(1, count // 200))
        failing = rng.sample(range(1, top + 1), max(1, count // 2000))
        for chunk in range(0, len(changed), 1000):
            ids = changed[chunk : chunk + 1000]
            session.execute(
                update(Hotspot)
                .where(Hotspot.id.in_(ids))
                .values(success_class=(Hotspot.success_class + 1) % 4, updated_at=now)
            )
        session.execute(
            update(Hotspot).where(Hotspot.id.in_(failing)).values(failing=True, updated_at=now)
        )
    return {"changed": len(changed), "failing": len(failing)}


def _build_all(database: Any, pack_dir: Path, now: Any) -> tuple[float, dict[str, int], int]:
    """Build every region's pack: (seconds, {region: size}, hotspots in packs)."""
    from canyu.hotspots import service

    started = time.perf_counter()
    sizes: dict[str, int] = {}
    count = 0
    deltas: dict[str, int] = {}
    with database.session() as session:
        for region, _n in service.regions(session):
            built = service.build_pack(
                session, region=region, pack_dir=pack_dir, publisher=None, now=now
            )
            sizes[region] = built.size
            count += built.count
            deltas[region] = min(built.deltas.values(), default=0)
    _build_all.deltas = deltas  # type: ignore[attr-defined]
    return time.perf_counter() - started, sizes, count


def hotspots(
    count: Annotated[
        int, typer.Option("--hotspots", help="Hotspots to synthesise.", min=100, max=5_000_000)
    ] = 1_000_000,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: a fresh SQLite file.")
    ] = None,
    duration: Annotated[float, typer.Option(help="Seconds per measured run.")] = 8.0,
    rounds: Annotated[int, typer.Option(help="Turns of floor then near.", min=1)] = 2,
    concurrency: Annotated[
        int, typer.Option(help="Connections (one request in flight on each).", min=1, max=64)
    ] = 4,
    unique_ssids: Annotated[
        float, typer.Option(help="Share of one-off venue SSIDs.", min=0, max=1)
    ] = 0.3,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Near-me p50/p99 over HTTP beside a bare ASGI floor; pack bytes per hotspot, build time,
    and a typical day's delta share."""
    from datetime import timedelta

    from rich.console import Console

    from canyu import migrate
    from canyu.db import Database, utcnow
    from canyu.hotspots import importers, service
    from canyu.lab.checkin import measured_server
    from canyu.progress import progress_bar

    console = Console(stderr=True)
    work = Path(tempfile.mkdtemp(prefix="canyu-hotspots-bench-"))
    url = database_url or f"sqlite:///{work / 'bench.db'}"
    migrate.upgrade(url)
    database = Database(url)
    rng = random.Random(2)
    with console.status(f"synthesising {count:,} hotspots"):
        features = synthesise(count, unique_share=unique_ssids)
        geojson = work / "hotspots.geojson"
        geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        del features
    started = time.perf_counter()
    rows = importers.read_file(geojson)
    with progress_bar(console) as bar, database.session() as session:
        task = bar.add_task("importing", total=len(rows))
        report = service.import_rows(
            session,
            rows=rows,
            source="bench",
            licence="synthetic",
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    import_s = time.perf_counter() - started
    points = [(r.lat, r.lon) for r in rows if isinstance(r, importers.Candidate)]
    del rows
    # A spread of success classes, as if friends had confirmed a third of them.
    from sqlalchemy import update

    from canyu.hotspots.models import Hotspot

    with database.session() as session:
        session.execute(
            update(Hotspot)
            .where(Hotspot.id % 3 == 0)
            .values(success_class=1 + Hotspot.id % 7 % 3, confirmations=1)
        )
    now = utcnow()
    pack_dir = work / "packs"
    with console.status("building packs"):
        build_s, sizes, in_packs = _build_all(database, pack_dir, now)
    total_bytes = sum(sizes.values())
    day = now + timedelta(days=1)
    changes = _day_of_changes(database, rng, day)
    with database.session() as session:
        added = service.import_rows(
            session,
            rows=[
                importers.Candidate(
                    f"day/{i}", lat + 0.001, lon, f"New Place {i}", "", "open", True
                )
                for i, (lat, lon) in enumerate(rng.sample(points, max(1, len(points) // 1000)))
            ],
            source="bench-day",
            licence="synthetic",
        )
    with console.status("building a day later"):
        _s, sizes_day, _n = _build_all(database, pack_dir, day)
    deltas = _build_all.deltas  # type: ignore[attr-defined]
    delta_share = sum(deltas.values()) / max(1, sum(sizes_day.values()))
    database.dispose()

    targets = [rng.choice(points) for _ in range(5000)]
    paths = work / "paths.txt"
    paths.write_text(
        "\n".join(
            f"/api/v1/hotspots/near?lat={lat + rng.gauss(0, 0.003):.5f}"
            f"&lon={lon + rng.gauss(0, 0.003):.5f}&radius_m=1000&limit=20"
            for lat, lon in targets
        )
    )
    env = {
        "CANYU_DATABASE_URL": url,
        "CANYU_SECRET_KEY": "bench",
        "CANYU_LOG_LEVEL": "WARNING",
        "CANYU_JOBS_ENABLED": "false",
        "CANYU_SIMILARITY_METHOD": "bm25",
    }
    runs: dict[str, list[dict[str, float]]] = {"floor": [], "near": []}
    console.print("serving the floor and the near query, measured in turns ...")
    with (
        measured_server("canyu.lab.checkin:floor_app", env) as floor_server,
        measured_server("canyu.asgi:app", env) as near_server,
    ):
        servers = {"floor": floor_server, "near": near_server}
        for server in servers.values():
            _load(server.url, paths, 2000, 10, concurrency)  # warm up
        for _ in range(rounds):
            for name, server in servers.items():
                runs[name].append(_load(server.url, paths, 10**9, duration, concurrency))
    near_p50 = statistics.median(r["p50_ms"] for r in runs["near"])
    near_p99 = max(r["p99_ms"] for r in runs["near"])
    ratios = [n["rps"] / f["rps"] for n, f in zip(runs["near"], runs["floor"], strict=True)]
    result = {
        "hotspots": report.imported,
        "database": url.split(":", 1)[0],
        "near_p50_ms": round(near_p50, 2),
        "near_p99_ms": round(near_p99, 2),
        "near_rps": statistics.median(r["rps"] for r in runs["near"]),
        "floor_rps": statistics.median(r["rps"] for r in runs["floor"]),
        "ratio": round(statistics.median(ratios), 4),
        "errors": sum(r["errors"] for rs in runs.values() for r in rs),
        "pack_bytes_per_hotspot": round(total_bytes / max(1, in_packs), 2),
        "pack_build_s": round(build_s, 2),
        "packs": len(sizes),
        "delta_share": round(delta_share, 4),
        "day": {**changes, "added": added.imported},
        "import_s": round(import_s, 2),
        "unique_ssid_share": unique_ssids,
        "concurrency": concurrency,
    }
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    url_arg, paths_arg, requests_arg, duration_arg, conc_arg = sys.argv[1:6]
    all_paths = Path(paths_arg).read_text().splitlines()
    print(
        json.dumps(
            asyncio.run(
                _run_load(url_arg, all_paths, int(requests_arg), float(duration_arg), int(conc_arg))
            )
        )
    )
