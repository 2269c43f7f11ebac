"""The city map as SVG, drawn from the data itself (no internet tiles, no database): the H3
resolution-8 cells that hold hotspots make the base layer, shaded by how many they hold, so
the city's shape appears from where its hotspots are; hotspots are dots coloured by success
class, each a link to its page."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from h3.api import basic_int as h3

from canyu.hotspots.pack import SuccessClass

WIDTH = 1000.0
MAX_DOTS = 4000
COLOURS = {
    SuccessClass.UNKNOWN: "#7b8794",
    SuccessClass.GOOD: "#1a7f37",
    SuccessClass.FAIR: "#b7791f",
    SuccessClass.POOR: "#c53030",
}


@dataclass(frozen=True)
class Dot:
    id: int
    lat: float
    lon: float
    label: str
    success: SuccessClass


def draw(dots: Sequence[Dot], *, title: str) -> str:
    if not dots:
        return ""
    lat0 = sum(d.lat for d in dots) / len(dots)
    scale = math.cos(math.radians(lat0))
    cells = Counter(h3.latlng_to_cell(d.lat, d.lon, 8) for d in dots)
    rings = {c: h3.cell_to_boundary(c) for c in cells}
    lats = [p[0] for ring in rings.values() for p in ring]
    lons = [p[1] for ring in rings.values() for p in ring]
    min_lon, max_lon, min_lat, max_lat = min(lons), max(lons), min(lats), max(lats)
    span_x = max((max_lon - min_lon) * scale, 1e-6)
    span_y = max(max_lat - min_lat, 1e-6)
    k = WIDTH / span_x
    height = max(200.0, min(2000.0, span_y * k))
    k = min(k, height / span_y)

    def xy(lat: float, lon: float) -> str:
        return f"{(lon - min_lon) * scale * k:.1f},{(max_lat - lat) * k:.1f}"

    top = max(cells.values())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {height:.0f}" '
        f'class="hs-map" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#f4f1ea"/>',
        '<g class="hs-cells" stroke="#d8d2c4" stroke-width="0.6">',
    ]
    for cell, ring in rings.items():
        shade = 0.15 + 0.55 * math.log1p(cells[cell]) / math.log1p(top)
        points = " ".join(xy(a, b) for a, b in ring)
        parts.append(f'<polygon points="{points}" fill="#9fb3c8" fill-opacity="{shade:.2f}"/>')
    parts.append('</g><g class="hs-dots">')
    step = max(1, math.ceil(len(dots) / MAX_DOTS))
    radius = 3.5 if len(dots) < 500 else 2.2
    for d in dots[::step]:
        x, y = xy(d.lat, d.lon).split(",")
        parts.append(
            f'<a href="/hotspots/{d.id}"><circle cx="{x}" cy="{y}" r="{radius}" '
            f'fill="{COLOURS[d.success]}"><title>{escape(d.label)}</title></circle></a>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
