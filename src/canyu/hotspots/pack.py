"""Offline hotspot packs: a region's hotspots in a few bytes each, and deltas between versions.
No database, no canyu imports beyond this module: the phone (canyu.client.wifi) uses it as is.

Format (integers little-endian). A **pack**::

    b"CYWF" | format u8 | region: u8 length + ASCII (an H3 cell, hex) | version u32
    | created u64 | count u32 | body length u32 | LZMA(body)

The body is columnar, records sorted by the Morton (Z-order) code of their quantised position
(1e-4 degree steps: within 5.6 m north-south and less east-west, so "to 10 m"), so that
neighbours sit together and the gaps between codes are small numbers::

    SSID table: u32 count, then the SSIDs NUL-separated (UTF-8), most used first
    per column, as byte planes (every first byte, then every second byte, ...) with u8 width:
      Morton gaps (u64), SSID index (u32), type (u8), id gaps zig-zagged (i64)
    extras: u32 count, then per extra: u32 record index, u8 field, u16 length, UTF-8

A record's **type** byte holds its kind (bits 0-1: open, captive, password, passpoint), free
(bit 2) and success class (bits 3-4: unknown, good, fair, poor). Extras carry what only a few
hotspots have: an owner-published password, a captive-portal URL, an RFC 8908 API URL.

Byte planes turn the many leading zeros of small gaps into long runs that LZMA codes in a few
bits, so the position costs about log2(area per hotspot / 1e-8 deg^2) bits, near its entropy,
and common SSIDs (a city's chain networks) cost well under a byte.

A **delta** (``b"CYWD"``) brings ``base_version`` to ``version``: the new header, the ids
removed and the records added or changed (a body of its own). Applying it and re-encoding
gives the new pack byte for byte; the index carries the SHA-256 that proves it.
"""

from __future__ import annotations

import lzma
import math
import struct
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum

import numpy as np
import numpy.typing as npt

MAGIC = b"CYWF"
DELTA_MAGIC = b"CYWD"
FORMAT = 1
STEP = 1e-4  # degrees per position step
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
MAX_BODY = 512 * 1024 * 1024


class PackError(ValueError):
    """A pack or delta that is malformed, truncated or for another base."""


class Kind(IntEnum):
    OPEN = 0
    CAPTIVE = 1
    PASSWORD = 2
    PASSPOINT = 3


class SuccessClass(IntEnum):
    UNKNOWN = 0
    GOOD = 1
    FAIR = 2
    POOR = 3


class Extra(IntEnum):
    PASSWORD = 1
    PORTAL_URL = 2
    PORTAL_API = 3


@dataclass(frozen=True)
class Record:
    id: int
    lat: float
    lon: float
    ssid: str
    kind: Kind = Kind.OPEN
    free: bool = True
    success: SuccessClass = SuccessClass.UNKNOWN
    extras: Mapping[int, str] = field(default_factory=dict)

    def quantised(self) -> Record:
        """The record as a pack stores it (position on the 1e-4 degree grid)."""
        qlat, qlon = quantise(self.lat, self.lon)
        return replace(self, lat=qlat * STEP - 90.0, lon=qlon * STEP - 180.0)

    @property
    def type_byte(self) -> int:
        return int(self.kind) | (4 if self.free else 0) | (int(self.success) << 3)


@dataclass(frozen=True)
class Header:
    region: str
    version: int
    created: int
    count: int


def quantise(lat: float, lon: float) -> tuple[int, int]:
    return round((lat + 90.0) / STEP), round((lon + 180.0) / STEP)


def _spread(v: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Spread the low 32 bits of each value to the even bit positions (Morton)."""
    v = v & np.uint64(0xFFFFFFFF)
    v = (v | (v << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x3333333333333333)
    return (v | (v << np.uint64(1))) & np.uint64(0x5555555555555555)


def _squeeze(v: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    v = v & np.uint64(0x5555555555555555)
    v = (v | (v >> np.uint64(1))) & np.uint64(0x3333333333333333)
    v = (v | (v >> np.uint64(2))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    v = (v | (v >> np.uint64(4))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v | (v >> np.uint64(8))) & np.uint64(0x0000FFFF0000FFFF)
    return (v | (v >> np.uint64(16))) & np.uint64(0x00000000FFFFFFFF)


def morton(qlat: npt.NDArray[np.uint64], qlon: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    return _spread(qlat) | (_spread(qlon) << np.uint64(1))


def _planes(values: npt.NDArray[np.uint64]) -> bytes:
    top = int(values.max()) if values.size else 0
    width = max(1, (top.bit_length() + 7) // 8)
    raw = values.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :width]
    return bytes([width]) + np.ascontiguousarray(raw.T).tobytes()


def _unplanes(data: memoryview, pos: int, count: int) -> tuple[npt.NDArray[np.uint64], int]:
    if pos >= len(data):
        raise PackError("truncated column")
    width = data[pos]
    pos += 1
    if not 1 <= width <= 8 or pos + width * count > len(data):
        raise PackError("bad column")
    planes = np.frombuffer(data, dtype=np.uint8, count=width * count, offset=pos)
    full = np.zeros((count, 8), dtype=np.uint8)
    full[:, :width] = planes.reshape(width, count).T
    return full.reshape(-1).view("<u8").astype(np.uint64), pos + width * count


def _zigzag(v: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    return ((v << np.int64(1)) ^ (v >> np.int64(63))).astype(np.uint64)


def _unzigzag(v: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return (v >> np.uint64(1)).astype(np.int64) ^ -(v & np.uint64(1)).astype(np.int64)


def _check(record: Record) -> None:
    if not (-90.0 <= record.lat <= 90.0 and -180.0 <= record.lon <= 180.0):
        raise PackError(f"hotspot {record.id}: position out of range")
    if not 0 < record.id < 2**62:
        raise PackError(f"hotspot {record.id}: bad id")
    if "\0" in record.ssid or len(record.ssid.encode()) > 32:
        raise PackError(f"hotspot {record.id}: bad SSID")


def encode_body(records: Iterable[Record]) -> bytes:
    items = list(records)
    for r in items:
        _check(r)
    n = len(items)
    qlat = np.fromiter((quantise(r.lat, r.lon)[0] for r in items), dtype=np.uint64, count=n)
    qlon = np.fromiter((quantise(r.lat, r.lon)[1] for r in items), dtype=np.uint64, count=n)
    ids = np.fromiter((r.id for r in items), dtype=np.int64, count=n)
    codes = morton(qlat, qlon)
    order = np.lexsort((ids, codes))
    codes, ids = codes[order], ids[order]
    ssids = [items[i].ssid for i in order]
    counts = Counter(ssids)
    table = sorted(counts, key=lambda s: (-counts[s], s))
    slot = {s: i for i, s in enumerate(table)}
    out = bytearray()
    names = "\0".join(table).encode()
    out += struct.pack("<II", len(table), len(names)) + names
    gaps = np.diff(codes, prepend=np.uint64(0)) if n else codes
    out += _planes(gaps.astype(np.uint64))
    out += _planes(np.fromiter((slot[s] for s in ssids), dtype=np.uint64, count=n))
    types = np.fromiter((items[i].type_byte for i in order), dtype=np.uint8, count=n)
    out += types.tobytes()
    id_gaps = np.diff(ids, prepend=np.int64(0)) if n else ids
    out += _planes(_zigzag(id_gaps))
    extras = [
        (index, key, value)
        for index, i in enumerate(order)
        for key, value in sorted(items[i].extras.items())
    ]
    out += struct.pack("<I", len(extras))
    for index, key, value in extras:
        text = value.encode()
        if len(text) > 0xFFFF:
            raise PackError("extra too long")
        out += struct.pack("<IBH", index, key, len(text)) + text
    return struct.pack("<I", n) + bytes(out)


def decode_body(data: bytes) -> list[Record]:
    view = memoryview(data)
    try:
        (n,) = struct.unpack_from("<I", view, 0)
        count, size = struct.unpack_from("<II", view, 4)
        pos = 12
        names = bytes(view[pos : pos + size]).decode()
        pos += size
        table = names.split("\0") if count else []
        if len(table) != count:
            raise PackError("bad SSID table")
        gaps, pos = _unplanes(view, pos, n)
        slots, pos = _unplanes(view, pos, n)
        types = np.frombuffer(view, dtype=np.uint8, count=n, offset=pos)
        pos += n
        id_gaps, pos = _unplanes(view, pos, n)
        (extra_count,) = struct.unpack_from("<I", view, pos)
        pos += 4
        extras: dict[int, dict[int, str]] = {}
        for _ in range(extra_count):
            index, key, length = struct.unpack_from("<IBH", view, pos)
            pos += 7
            extras.setdefault(index, {})[key] = bytes(view[pos : pos + length]).decode()
            pos += length
    except (struct.error, UnicodeDecodeError, ValueError) as e:
        raise PackError(f"malformed pack body: {e}") from e
    if pos != len(data) or (n and int(slots.max()) >= len(table)):
        raise PackError("malformed pack body")
    codes = np.cumsum(gaps, dtype=np.uint64)
    ids = np.cumsum(_unzigzag(id_gaps), dtype=np.int64)
    lats = _squeeze(codes).astype(np.float64) * STEP - 90.0
    lons = _squeeze(codes >> np.uint64(1)).astype(np.float64) * STEP - 180.0
    return [
        Record(
            id=int(ids[i]),
            lat=round(float(lats[i]), 6),
            lon=round(float(lons[i]), 6),
            ssid=table[int(slots[i])],
            kind=Kind(int(types[i]) & 3),
            free=bool(int(types[i]) & 4),
            success=SuccessClass((int(types[i]) >> 3) & 3),
            extras=extras.get(i, {}),
        )
        for i in range(n)
    ]


def _header_bytes(header: Header) -> bytes:
    region = header.region.encode("ascii")
    if len(region) > 32:
        raise PackError("region name too long")
    return (
        MAGIC
        + bytes([FORMAT, len(region)])
        + region
        + struct.pack("<IQI", header.version, header.created, header.count)
    )


def encode(region: str, version: int, created: int, records: Iterable[Record]) -> bytes:
    items = list(records)
    body = lzma.compress(encode_body(items), format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
    header = Header(region, version, created, len(items))
    return _header_bytes(header) + struct.pack("<I", len(body)) + body


def _read_header(data: bytes, magic: bytes) -> tuple[Header, int]:
    if len(data) < 10 or data[:4] != magic:
        raise PackError("not a canyu hotspot pack")
    if data[4] != FORMAT:
        raise PackError(f"unknown pack format {data[4]}")
    length = data[5]
    try:
        region = data[6 : 6 + length].decode("ascii")
        version, created, count = struct.unpack_from("<IQI", data, 6 + length)
    except (UnicodeDecodeError, struct.error) as e:
        raise PackError(f"malformed pack header: {e}") from e
    return Header(region, version, created, count), 6 + length + 16


def _decompress(data: bytes, pos: int) -> bytes:
    try:
        (size,) = struct.unpack_from("<I", data, pos)
        if pos + 4 + size != len(data):
            raise PackError("pack length does not match its header")
        decomp = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
        body = decomp.decompress(data[pos + 4 :], max_length=MAX_BODY)
    except (struct.error, lzma.LZMAError) as e:
        raise PackError(f"malformed pack: {e}") from e
    return body


def decode(data: bytes) -> tuple[Header, list[Record]]:
    header, pos = _read_header(data, MAGIC)
    records = decode_body(_decompress(data, pos))
    if len(records) != header.count:
        raise PackError("record count does not match the header")
    return header, records


# --- deltas -----------------------------------------------------------------------------------


def make_delta(
    base: Iterable[Record], new_header: Header, new: Iterable[Record], *, base_version: int
) -> bytes:
    """A delta from ``base`` (the records of version ``base_version``) to ``new``."""
    old = {r.id: r.quantised() for r in base}
    fresh = {r.id: r.quantised() for r in new}
    removed = sorted(set(old) - set(fresh))
    upserts = [r for i, r in fresh.items() if old.get(i) != r]
    ids = np.array(removed, dtype=np.int64)
    payload = (
        struct.pack("<I", len(removed))
        + _planes(_zigzag(np.diff(ids, prepend=np.int64(0)) if removed else ids))
        + encode_body(upserts)
    )
    body = lzma.compress(payload, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
    head = _header_bytes(new_header).replace(MAGIC, DELTA_MAGIC, 1)
    return head + struct.pack("<I", base_version) + struct.pack("<I", len(body)) + body


def apply_delta(base_header: Header, base: Iterable[Record], delta: bytes) -> bytes:
    """The new pack's bytes (to be checked against the index's SHA-256)."""
    header, pos = _read_header(delta, DELTA_MAGIC)
    try:
        (base_version,) = struct.unpack_from("<I", delta, pos)
    except struct.error as e:
        raise PackError("truncated delta") from e
    if base_version != base_header.version or header.region != base_header.region:
        raise PackError("the delta is for another base")
    payload = _decompress(delta, pos + 4)
    view = memoryview(payload)
    try:
        (count,) = struct.unpack_from("<I", view, 0)
        gaps, at = _unplanes(view, 4, count)
    except struct.error as e:
        raise PackError("malformed delta") from e
    removed = set(np.cumsum(_unzigzag(gaps), dtype=np.int64).tolist())
    records = {r.id: r for r in base}
    for i in removed:
        records.pop(i, None)
    for r in decode_body(bytes(view[at:])):
        records[r.id] = r
    if len(records) != header.count:
        raise PackError("the delta does not give the count it promises")
    return encode(header.region, header.version, header.created, records.values())


# --- reading on the phone ---------------------------------------------------------------------


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(a)))


class PackReader:
    """A decoded pack with a nearest-first search (a linear pass in numpy: a region's few
    hundred thousand hotspots take milliseconds on a phone)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.header, self.records = decode(data)
        self._lat = np.array([r.lat for r in self.records], dtype=np.float64)
        self._lon = np.array([r.lon for r in self.records], dtype=np.float64)
        self._by_id = {r.id: r for r in self.records}

    def get(self, hotspot_id: int) -> Record | None:
        return self._by_id.get(hotspot_id)

    def near(
        self, lat: float, lon: float, *, radius_m: float = 1000.0, limit: int = 20
    ) -> list[tuple[float, Record]]:
        if not self.records:
            return []
        p1, p2 = np.radians(lat), np.radians(self._lat)
        a = (
            np.sin((p2 - p1) / 2) ** 2
            + np.cos(p1) * np.cos(p2) * np.sin(np.radians(self._lon - lon) / 2) ** 2
        )
        dist = 2 * 6_371_008.8 * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        inside = np.nonzero(dist <= radius_m)[0]
        best = inside[np.argsort(dist[inside], kind="stable")][:limit]
        return [(float(dist[i]), self.records[int(i)]) for i in best]
