"""Reading open-data files into candidate hotspots (no database). Two shapes:

* **NYC Open Data's export** (dataset yjub-udmw): a CSV with ``OBJECTID``, ``Type`` (Free,
  Limited Free, Partner Site), ``Name``, ``Location``, ``Latitude``, ``Longitude``, ``SSID``,
  ``Location_T``, ``Remarks``, ``Provider``. "Limited Free" is metered time behind a login page.
* **GeoJSON** as OpenStreetMap and many cities publish it: Point features whose properties carry
  ``internet_access=wlan`` (also ``yes``/``wifi``), ``internet_access:fee`` (``no``,
  ``customers`` or ``yes``), ``internet_access:ssid`` and ``name``.

A row that cannot become a hotspot is a counted skip with its reason; a file that is neither
shape is an error before anything is written.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canyu.errors import InvalidInput

MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class Candidate:
    external_id: str
    lat: float
    lon: float
    ssid: str
    name: str
    kind: str  # open | captive
    free: bool


@dataclass(frozen=True)
class Skip:
    reason: str


Row = Candidate | Skip


def _position(lat_raw: Any, lon_raw: Any) -> tuple[float, float] | Skip:
    try:
        lat, lon = float(lat_raw), float(lon_raw)
    except (TypeError, ValueError):
        return Skip("bad coordinates")
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return Skip("bad coordinates")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return Skip("coordinates out of range")
    if lat == 0.0 and lon == 0.0:
        return Skip("coordinates out of range")  # "null island": a missing value, not a cafe
    return lat, lon


def clean_ssid(raw: Any) -> str | Skip:
    if not isinstance(raw, str) or not raw.strip():
        return Skip("no SSID")
    ssid = raw.strip()
    if len(ssid.encode()) > 32:
        return Skip("SSID longer than 32 bytes")
    if any(ord(ch) < 32 for ch in ssid):
        return Skip("SSID with control characters")
    return ssid


def read_nyc(text: str) -> Iterator[Row]:
    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or ())
    if not {"Latitude", "Longitude", "SSID", "Type"} <= fields:
        raise InvalidInput("Not the NYC hotspot export: needs Latitude, Longitude, SSID, Type.")
    for number, row in enumerate(reader, start=2):
        position = _position(row.get("Latitude"), row.get("Longitude"))
        if isinstance(position, Skip):
            yield position
            continue
        ssid = clean_ssid(row.get("SSID"))
        if isinstance(ssid, Skip):
            yield ssid
            continue
        kind_of = (row.get("Type") or "").strip()
        name = (row.get("Name") or "").strip() or (row.get("Location") or "").strip()
        yield Candidate(
            external_id=(row.get("OBJECTID") or "").strip() or f"line-{number}",
            lat=position[0],
            lon=position[1],
            ssid=ssid,
            name=name[:200],
            kind="captive" if kind_of == "Limited Free" else "open",
            free=kind_of != "Partner Site",
        )


WLAN = {"wlan", "yes", "wifi", "wireless"}


def read_geojson(data: Any) -> Iterator[Row]:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidInput("Not a GeoJSON FeatureCollection.")
    features = data.get("features")
    if not isinstance(features, list):
        raise InvalidInput("GeoJSON without a features list.")
    for number, feature in enumerate(features):
        if not isinstance(feature, dict):
            yield Skip("not a feature")
            continue
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        if not isinstance(props, dict) or not isinstance(geometry, dict):
            yield Skip("not a feature")
            continue
        if str(props.get("internet_access", "")).lower() not in WLAN:
            yield Skip("no internet_access=wlan")
            continue
        coords = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            yield Skip("not a point")
            continue
        position = _position(coords[1], coords[0])
        if isinstance(position, Skip):
            yield position
            continue
        ssid = clean_ssid(props.get("internet_access:ssid"))
        if isinstance(ssid, Skip):
            yield ssid
            continue
        fee = str(props.get("internet_access:fee", "no")).lower()
        ident = feature.get("id", props.get("@id", props.get("id")))
        external = str(ident) if ident is not None else f"feature-{number}"
        yield Candidate(
            external_id=external[:100],
            lat=position[0],
            lon=position[1],
            ssid=ssid,
            name=str(props.get("name") or "")[:200],
            kind="captive" if str(props.get("captive_portal", "")).lower() == "yes" else "open",
            free=fee != "yes",
        )


def read_file(path: Path) -> list[Row]:
    """Every row of the file (NYC CSV or GeoJSON, by content): raises InvalidInput for a file
    that is neither, before anything is written."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path.name} is larger than 2 GB.")
        raw = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"Cannot read {path}: {e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} is not UTF-8 text.") from None
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"{path.name} is not valid JSON: {e}") from None
        return list(read_geojson(data))
    try:
        return list(read_nyc(text))
    except csv.Error as e:
        raise InvalidInput(f"{path.name} is not a readable CSV: {e}") from None
