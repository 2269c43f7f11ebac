"""Builds ``canyu/markets/world.json``, the map's geometry and country names, from two npm
packages (run once by a developer; nothing is fetched at run time):

    npm pack world-atlas@2.0.2 i18n-iso-countries@7.14.0  # ISC, MIT; Natural Earth: public domain
    tar xzf world-atlas-2.0.2.tgz && mv package world-atlas
    tar xzf i18n-iso-countries-7.14.0.tgz && mv package i18n-iso-countries
    python -m canyu.lab.markets_geo world-atlas i18n-iso-countries src/canyu/markets/world.json

The TopoJSON (Natural Earth 1:110m, already simplified) is decoded, projected equirectangularly
onto a 1000 x 440 box (latitudes 84 N to 60 S; Antarctica dropped) and written as one SVG path
per ISO 3166-1 alpha-3 code, with English and Chinese names for every ISO code (mapped or not).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WIDTH = 1000.0
NORTH, SOUTH = 84.0, -60.0
HEIGHT = WIDTH * (NORTH - SOUTH) / 360.0


def _project(lon: float, lat: float) -> tuple[float, float]:
    lat = max(SOUTH, min(NORTH, lat))
    return (lon + 180.0) / 360.0 * WIDTH, (NORTH - lat) / (NORTH - SOUTH) * HEIGHT


def _arcs(topology: dict[str, object]) -> list[list[tuple[float, float]]]:
    transform = topology["transform"]
    assert isinstance(transform, dict)
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    decoded = []
    raw_arcs = topology["arcs"]
    assert isinstance(raw_arcs, list)
    for arc in raw_arcs:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def _ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for index in indexes:
        points = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        ring.extend(points[1:] if ring else points)
    return ring


def _path(rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for ring in rings:
        # A ring crossing the antimeridian (Russia, Fiji) is cut there into pieces, each closed
        # along the map's edge, rather than drawn as a line across the whole map.
        pieces: list[list[tuple[float, float]]] = [[]]
        previous: float | None = None
        for lon, lat in ring:
            if previous is not None and abs(lon - previous) > 180:
                pieces.append([])
            pieces[-1].append(_project(lon, lat))
            previous = lon
        for piece in pieces:
            coords: list[str] = []
            last = ""
            for x, y in piece:
                point = f"{x:.1f} {y:.1f}"
                if point != last:
                    coords.append(point)
                    last = point
            if len(coords) >= 3:
                parts.append("M" + "L".join(coords) + "Z")
    return "".join(parts)


def build(atlas: Path, names: Path) -> dict[str, object]:
    topology = json.loads((atlas / "countries-110m.json").read_text(encoding="utf-8"))
    codes = json.loads((names / "codes.json").read_text(encoding="utf-8"))
    english = json.loads((names / "langs" / "en.json").read_text(encoding="utf-8"))["countries"]
    chinese = json.loads((names / "langs" / "zh.json").read_text(encoding="utf-8"))["countries"]
    by_numeric = {numeric: alpha3 for _a2, alpha3, numeric, _ in codes}
    alpha2_of = {alpha3: alpha2 for alpha2, alpha3, _n, _ in codes}

    def first(value: str | list[str]) -> str:
        return value[0] if isinstance(value, list) else value

    countries: dict[str, dict[str, str]] = {}
    for alpha3, alpha2 in alpha2_of.items():
        countries[alpha3] = {
            "a2": alpha2,
            "en": first(english[alpha2]),
            "zh": first(chinese[alpha2]),
        }
    countries["XKX"] = {"a2": "XK", "en": "Kosovo", "zh": "科索沃"}
    arcs = _arcs(topology)
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        alpha3 = by_numeric.get(str(geometry.get("id", "")))
        if alpha3 is None:
            alpha3 = {"Kosovo": "XKX", "N. Cyprus": "CYP", "Somaliland": "SOM"}.get(name)
        if alpha3 is None or alpha3 == "ATA":
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [_ring(ring, arcs) for polygon in polygons for ring in polygon]
        path = _path(rings)
        entry = countries.setdefault(alpha3, {"a2": "", "en": name, "zh": name})
        entry["d"] = entry.get("d", "") + path
    return {
        "width": WIDTH,
        "height": round(HEIGHT, 1),
        "source": "Natural Earth 1:110m via world-atlas 2.0.2; names via i18n-iso-countries 7.14.0",
        "countries": dict(sorted(countries.items())),
    }


def main() -> None:
    atlas, names, out = (Path(arg) for arg in sys.argv[1:4])
    out.write_text(
        json.dumps(build(atlas, names), ensure_ascii=False, separators=(",", ":")),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
