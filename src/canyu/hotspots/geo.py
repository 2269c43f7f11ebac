"""H3 cells as the spatial index, on SQLite and PostgreSQL alike (no database here).

Each hotspot stores its H3 cell at resolution 15 as an integer. The children of a coarser cell
are one contiguous range of resolution-15 integers (H3 writes a cell's digits from coarse to
fine, and a cell of resolution r has its digits r+1..15 set to 7), so "the hotspots in these
cells" is a handful of ``cell BETWEEN lo AND hi`` on one B-tree index. A near query covers the
circle with a disk of cells at a resolution picked so the disk is a few rings wide, merges
adjacent ranges, then filters by exact distance.
"""

from __future__ import annotations

import math

from h3.api import basic_int as h3

from canyu.errors import InvalidInput

FINE = 15  # stored cell
REGION = 3  # one pack per resolution-3 cell (about 12,000 km^2: a metropolitan area)
MERGE = 11  # duplicates are looked for among resolution-11 neighbours (edge about 28 m)
MERGE_METRES = 30.0
MAX_RADIUS_M = 50_000
_RES_BITS = 52
_DIGITS = (1 << 45) - 1


def check_position(lat: float, lon: float) -> tuple[float, float]:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InvalidInput("Latitude and longitude must be numbers.")
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput(f"Latitude {lat} is out of range (-90 to 90).")
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput(f"Longitude {lon} is out of range (-180 to 180).")
    return lat, lon


def cell(lat: float, lon: float, resolution: int = FINE) -> int:
    return int(h3.latlng_to_cell(lat, lon, resolution))


def region(lat: float, lon: float) -> str:
    return str(h3.int_to_str(h3.latlng_to_cell(lat, lon, REGION)))


def region_centre(name: str) -> tuple[float, float]:
    lat, lon = h3.cell_to_latlng(h3.str_to_int(name))
    return float(lat), float(lon)


def valid_region(name: str) -> bool:
    try:
        return (
            bool(h3.is_valid_cell(h3.str_to_int(name)))
            and h3.get_resolution(h3.str_to_int(name)) == REGION
        )
    except (ValueError, TypeError):
        return False


def child_range(coarse: int) -> tuple[int, int]:
    """The resolution-15 integers of every descendant of ``coarse``: [lo, hi]."""
    res = h3.get_resolution(coarse)
    free_bits = 3 * (FINE - res)
    base = (coarse & ~(0xF << _RES_BITS)) | (FINE << _RES_BITS)
    lo = base & ~((1 << free_bits) - 1)
    return lo, lo | ((1 << free_bits) - 1)


def _edge_m(resolution: int) -> float:
    # Cells vary in size across the globe; 1.3 x the mean edge bounds those that matter here.
    return float(h3.average_hexagon_edge_length(resolution, "m")) * 1.3


def _plan(radius_m: float) -> tuple[int, int]:
    """(resolution, k): the finest resolution whose k-ring disk around the centre's cell covers
    the circle with k <= 6."""
    for res in range(12, 2, -1):
        e = _edge_m(res)
        k = math.ceil((radius_m + 2 * e) / (1.5 * e))
        if k <= 6:
            return res, k
    return 3, 6


def cell_ranges(lat: float, lon: float, radius_m: float) -> list[tuple[int, int]]:
    """Sorted, merged ranges of resolution-15 cells that cover the circle."""
    res, k = _plan(radius_m)
    # child_range() for a disk of one resolution, inlined: it runs for some 60 cells per query.
    free_bits = 3 * (FINE - res)
    low = (1 << free_bits) - 1
    keep = ~(0xF << _RES_BITS) & ~low
    fine = FINE << _RES_BITS
    merged: list[tuple[int, int]] = []
    for c in sorted(h3.grid_disk(h3.latlng_to_cell(lat, lon, res), k)):
        lo = (c & keep) | fine
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], lo | low)
        else:
            merged.append((lo, lo | low))
    return merged


def neighbours(lat: float, lon: float) -> list[int]:
    """The resolution-11 cells to look in for a duplicate of a hotspot here."""
    return [int(c) for c in h3.grid_disk(h3.latlng_to_cell(lat, lon, MERGE), 1)]


def merge_cell(lat: float, lon: float) -> int:
    return int(h3.latlng_to_cell(lat, lon, MERGE))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(a)))


def boundary(coarse: int) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in h3.cell_to_boundary(coarse)]


def cells_at(lat: float, lon: float, resolution: int) -> int:
    return int(h3.latlng_to_cell(lat, lon, resolution))
