"""`canyu hotspots import` and `canyu device wifi` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from canyu.cli import app
from canyu.db import Database
from canyu.hotspots import pack

runner = CliRunner()


def test_import_prints_counts_and_refuses_bad_files(
    database: Database, database_url: str, nyc_file: Path, tmp_path: Path
) -> None:
    """(``database`` empties the tables afterwards.)"""
    args = ["--source", "nyc-open-data", "--licence", "NYC Open Data terms"]
    url = ["--database-url", database_url]
    first = runner.invoke(app, ["hotspots", "import", str(nyc_file), *args, *url, "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert (report["imported"], report["merged"], report["skipped"]) == (3319, 0, 0)
    assert report["seconds"] < 2.0  # the figure: the NYC file in under 2 s
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": ')
    refused = runner.invoke(app, ["hotspots", "import", str(bad), *args, *url])
    assert refused.exit_code == 2
    assert "not valid JSON" in refused.output
    no_licence = runner.invoke(app, ["hotspots", "import", str(nyc_file), "--source", "x", *url])
    assert no_licence.exit_code != 0


def test_device_wifi_near_and_connect_offline(tmp_path: Path) -> None:
    records = [
        pack.Record(1, 31.2304, 121.4737, "Open Cafe"),
        pack.Record(
            2,
            31.2310,
            121.4740,
            "Lotus; Guest",
            kind=pack.Kind.PASSWORD,
            extras={pack.Extra.PASSWORD: "lotus-tea-2026"},
        ),
        pack.Record(
            3,
            31.2320,
            121.4750,
            "Mall",
            kind=pack.Kind.CAPTIVE,
            extras={pack.Extra.PORTAL_URL: "https://portal.example/"},
        ),
    ]
    from canyu.client.wifi import regions_around

    region = regions_around(31.2304, 121.4737)[0]
    target = tmp_path / "hotspots" / region / "pack.cyw"
    target.parent.mkdir(parents=True)
    target.write_bytes(pack.encode(region, 1, 0, records))
    home = ["--home", str(tmp_path)]
    near = runner.invoke(
        app, ["device", "wifi", "near", "--lat", "31.2304", "--lon", "121.4737", *home, "--json"]
    )
    assert near.exit_code == 0, near.output
    assert [h["id"] for h in json.loads(near.stdout)["hotspots"]] == [1, 2, 3]
    png = tmp_path / "qr.png"
    connect = runner.invoke(app, ["device", "wifi", "connect", "2", "--png", str(png), *home])
    assert connect.exit_code == 0, connect.output
    assert '"wifi_qr": "WIFI:T:WPA;S:Lotus\\\\; Guest;P:lotus-tea-2026;;"' in connect.stdout
    assert png.read_bytes().startswith(b"\x89PNG")
    captive = runner.invoke(app, ["device", "wifi", "connect", "3", *home])
    assert '"portal_url": "https://portal.example/"' in captive.stdout
    # Offline, the report waits for the network.
    later = runner.invoke(app, ["device", "wifi", "connect", "1", "--outcome", "worked", *home])
    assert later.exit_code == 0
    assert "1 waiting for the network" in later.output
    missing = runner.invoke(app, ["device", "wifi", "connect", "99", *home])
    assert missing.exit_code == 2
    bad = runner.invoke(app, ["device", "wifi", "near", "--lat", "95", "--lon", "0", *home])
    assert bad.exit_code != 0
