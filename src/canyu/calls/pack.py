"""Offline packs: an exact, compressed set of a country's labelled numbers with their category,
and deltas between versions. No database; numpy only.

Format (all integers little-endian). A **pack**::

    b"CYPK" | format u8 | country 3 bytes (ASCII, space-padded) | version u32 | created u64
    | chunk u16 | sections u8 | per section: category code u8, byte length u32, an EF set

holds one *partitioned Elias-Fano* set per category. Splitting by category codes the category
in about H(category) bits per number (the entropy of the category mix, under 2.3 bits) instead
of a fixed 3, and numbers of one operator block, which tend to share a kind, stay close.

An **EF set** of sorted distinct keys (see :func:`numbers.pack_key`) is cut into chunks of
``chunk`` keys. Per chunk the first key is stored whole (u64), the rest as Elias-Fano over their
distance to it: ``L = floor(log2(span / n))`` low bits each, plus the high parts in unary
(n + span >> L bits), which is within 2 bits per key of the information-theoretic minimum for the
chunk's own span. Chunks adapt to density: dense operator blocks cost few bits, sparse stretches
more. A lookup binary-searches the chunk heads and decodes one chunk (at most ``chunk`` keys).
It is exact: a key is either stored or not, there are no false positives (not a Bloom filter).

A **delta** (``b"CYDL"``) brings any version between ``base_version`` and ``version`` to exactly
``version``: it lists the keys touched since the base, as "removed" (absent in the new version)
and per-category "upserts" (their category in the new version). Applying it and re-encoding
gives the new pack byte for byte; the SHA-256 of the result, carried in the delta, proves it.

No well-kept Python Elias-Fano library exists (the few on PyPI are unmaintained one-person
projects), so this is ~150 lines of numpy bit-packing, tested against plain sorted arrays.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from canyu.calls.reputation import Category

U64 = npt.NDArray[np.uint64]

FORMAT = 1
PACK_MAGIC = b"CYPK"
DELTA_MAGIC = b"CYDL"
DEFAULT_CHUNK = 64
CATEGORY_CODES: dict[Category, int] = {
    Category.FRAUD: 1,
    Category.HARASSMENT: 2,
    Category.TELEMARKETING: 3,
    Category.DELIVERY: 4,
    Category.OTHER: 5,
}
CODE_CATEGORIES = {code: category for category, code in CATEGORY_CODES.items()}

_PACK_HEADER = struct.Struct("<4sB3sIQHB")
_DELTA_HEADER = struct.Struct("<4sB3sIIQH32sB")
_SECTION = struct.Struct("<BI")
_SET_HEADER = struct.Struct("<II")
_INDEX_HEADER = struct.Struct("<IIII")


class PackError(ValueError):
    """A pack or delta that is malformed, or a delta that does not fit the pack."""


# --- one Elias-Fano set -----------------------------------------------------------------------


def _bits_to_bytes(bits: npt.NDArray[np.uint8]) -> bytes:
    return np.packbits(bits, bitorder="little").tobytes()


def _encode_chunks(keys: U64, chunk: int) -> tuple[U64, U64, bytes, bytes]:
    """Heads (first key of each chunk), byte offsets of each chunk's code, low-bit widths, body."""
    n = int(keys.size)
    if n and np.any(keys[1:] <= keys[:-1]):
        raise PackError("keys must be sorted and distinct")
    starts = np.arange(0, n, chunk)
    heads = keys[starts] if n else np.zeros(0, dtype=np.uint64)
    offsets = np.zeros(len(starts), dtype=np.uint64)
    widths = np.zeros(len(starts), dtype=np.uint8)
    body = bytearray()
    for i, start in enumerate(starts):
        offsets[i] = len(body)
        part = keys[start : start + chunk]
        values = (part[1:] - part[0]).astype(np.uint64)
        m = int(values.size)
        if m == 0:
            continue
        span = int(values[-1]) + 1
        width = max(0, (span // m).bit_length() - 1)
        widths[i] = width
        if width:
            lows = values & np.uint64((1 << width) - 1)
            shifts = np.arange(width, dtype=np.uint64)
            low_bits = ((lows[:, None] >> shifts) & np.uint64(1)).astype(np.uint8).ravel()
            body += _bits_to_bytes(low_bits)
        highs = (values >> np.uint64(width)).astype(np.int64) + np.arange(m, dtype=np.int64)
        high_bits = np.zeros(int(highs[-1]) + 1, dtype=np.uint8)
        high_bits[highs] = 1
        body += _bits_to_bytes(high_bits)
    return heads, offsets, widths.tobytes(), bytes(body)


def _encode_flat(keys: U64, chunk: int) -> bytes:
    """Chunk heads and offsets stored whole (8 + 4 bytes per chunk): for the small index sets."""
    heads, offsets, widths, body = _encode_chunks(keys, chunk)
    return b"".join(
        (
            _SET_HEADER.pack(int(keys.size), int(heads.size)),
            heads.astype("<u8").tobytes(),
            offsets.astype("<u4").tobytes(),
            widths,
            body,
        )
    )


def encode_set(keys: U64, chunk: int = DEFAULT_CHUNK) -> bytes:
    """Encode sorted, distinct uint64 ``keys``. The chunk heads and offsets, being sorted sets
    themselves, are Elias-Fano coded too (one level, with whole heads), which saves ~60 bits a
    chunk; a reader decodes them into arrays once."""
    keys = np.asarray(keys, dtype=np.uint64)
    heads, offsets, widths, body = _encode_chunks(keys, chunk)
    head_data = _encode_flat(heads, chunk)
    offset_data = _encode_flat(offsets, chunk)
    return b"".join(
        (
            _INDEX_HEADER.pack(int(keys.size), int(heads.size), len(head_data), len(offset_data)),
            head_data,
            offset_data,
            widths,
            body,
        )
    )


def _decode_chunk(
    body: npt.NDArray[np.uint8], start: int, end: int, head: np.uint64, m: int, width: int
) -> U64:
    if m == 0:
        return np.array([head], dtype=np.uint64)
    raw = body[start:end]
    low_bytes = (m * width + 7) // 8
    if width:
        bits = np.unpackbits(raw[:low_bytes], count=m * width, bitorder="little")
        lows = bits.reshape(m, width).astype(np.uint64) @ (
            np.uint64(1) << np.arange(width, dtype=np.uint64)
        )
    else:
        lows = np.zeros(m, dtype=np.uint64)
    ones = np.flatnonzero(np.unpackbits(raw[low_bytes:], bitorder="little"))[:m]
    if ones.size != m:
        raise PackError("corrupt chunk")
    highs = (ones - np.arange(m)).astype(np.uint64)
    values = (highs << np.uint64(width)) | lows
    return np.concatenate(([head], head + values)).astype(np.uint64)


class _Chunks:
    """Sorted keys as chunks: heads and offsets as arrays, body still compressed."""

    size: int
    chunk: int
    heads: U64
    offsets: npt.NDArray[np.int64]
    widths: npt.NDArray[np.uint8]
    body: npt.NDArray[np.uint8]

    def _check(self) -> None:
        chunks = int(self.heads.size)
        if chunks != -(-self.size // self.chunk) or self.offsets.size != chunks:
            raise PackError("set header does not match its data")
        if self.widths.size != chunks or np.any(self.widths > 63):
            raise PackError("bad chunk widths")
        if chunks and (
            np.any(np.diff(self.offsets) < 0)
            or self.offsets[0] < 0
            or self.offsets[-1] > self.body.size
        ):
            raise PackError("set offsets out of range")

    def __len__(self) -> int:
        return int(self.size)

    def _chunk(self, i: int) -> U64:
        count = min(self.chunk, int(self.size) - i * self.chunk)
        end = int(self.offsets[i + 1]) if i + 1 < self.offsets.size else self.body.size
        return _decode_chunk(
            self.body, int(self.offsets[i]), end, self.heads[i], count - 1, int(self.widths[i])
        )

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int | np.integer) or self.size == 0 or key < 0:
            return False
        k = np.uint64(key)
        i = int(np.searchsorted(self.heads, k, side="right")) - 1
        if i < 0:
            return False
        if self.heads[i] == k:
            return True
        part = self._chunk(i)
        j = int(np.searchsorted(part, k))
        return j < part.size and part[j] == k

    def decode(self) -> U64:
        if self.size == 0:
            return np.zeros(0, dtype=np.uint64)
        return np.concatenate([self._chunk(i) for i in range(self.heads.size)])


class _FlatSet(_Chunks):
    def __init__(self, view: memoryview, chunk: int) -> None:
        if len(view) < _SET_HEADER.size:
            raise PackError("truncated set")
        self.size, chunks = _SET_HEADER.unpack_from(view)
        self.chunk = chunk
        pos = _SET_HEADER.size
        if len(view) < pos + chunks * 13:
            raise PackError("truncated set")
        self.heads = np.frombuffer(view, dtype="<u8", count=chunks, offset=pos).astype(np.uint64)
        pos += 8 * chunks
        self.offsets = np.frombuffer(view, dtype="<u4", count=chunks, offset=pos).astype(np.int64)
        pos += 4 * chunks
        self.widths = np.frombuffer(view, dtype=np.uint8, count=chunks, offset=pos)
        self.body = np.frombuffer(view, dtype=np.uint8, offset=pos + chunks)
        self._check()


class EFSet(_Chunks):
    """Read access to an encoded set without decoding all of it."""

    def __init__(self, data: bytes | memoryview, chunk: int = DEFAULT_CHUNK) -> None:
        view = memoryview(data)
        if len(view) < _INDEX_HEADER.size:
            raise PackError("truncated set")
        self.size, chunks, head_len, offset_len = _INDEX_HEADER.unpack_from(view)
        self.chunk = chunk
        pos = _INDEX_HEADER.size
        if len(view) < pos + head_len + offset_len + chunks:
            raise PackError("truncated set")
        self.heads = _FlatSet(view[pos : pos + head_len], chunk).decode()
        pos += head_len
        self.offsets = _FlatSet(view[pos : pos + offset_len], chunk).decode().astype(np.int64)
        pos += offset_len
        self.widths = np.frombuffer(view, dtype=np.uint8, count=chunks, offset=pos)
        self.body = np.frombuffer(view, dtype=np.uint8, offset=pos + chunks)
        self._check()


# --- packs ------------------------------------------------------------------------------------


def _country_bytes(country: str) -> bytes:
    raw = country.encode("ascii")
    if not 1 <= len(raw) <= 3:
        raise PackError(f"bad country {country!r}")
    return raw.ljust(3)


@dataclass
class Pack:
    """A country's labelled numbers: sorted uint64 keys per category."""

    country: str
    version: int
    created: int  # seconds since the epoch
    sets: dict[Category, U64] = field(default_factory=dict)
    chunk: int = DEFAULT_CHUNK

    @classmethod
    def from_entries(
        cls,
        country: str,
        version: int,
        created: int,
        entries: Iterable[tuple[int, Category]] | Mapping[int, Category],
        chunk: int = DEFAULT_CHUNK,
    ) -> Pack:
        items = entries.items() if isinstance(entries, Mapping) else entries
        by_category: dict[Category, list[int]] = {c: [] for c in CATEGORY_CODES}
        for key, category in items:
            by_category[Category(category)].append(key)
        sets = {c: np.unique(np.array(v, dtype=np.uint64)) for c, v in by_category.items()}
        pack = cls(country, version, created, sets, chunk)
        pack.check_disjoint()
        return pack

    @property
    def count(self) -> int:
        return sum(int(s.size) for s in self.sets.values())

    def check_disjoint(self) -> None:
        keys = np.concatenate([*self.sets.values(), np.zeros(0, dtype=np.uint64)])
        if np.unique(keys).size != keys.size:
            raise PackError("a number is in two categories")

    def encode(self) -> bytes:
        parts = [
            _PACK_HEADER.pack(
                PACK_MAGIC,
                FORMAT,
                _country_bytes(self.country),
                self.version,
                self.created,
                self.chunk,
                len(CATEGORY_CODES),
            )
        ]
        for category, code in CATEGORY_CODES.items():
            keys = self.sets.get(category, np.zeros(0, dtype=np.uint64))
            data = encode_set(np.asarray(keys, dtype=np.uint64), self.chunk)
            parts += [_SECTION.pack(code, len(data)), data]
        return b"".join(parts)

    def lookup(self, key: int) -> Category | None:
        k = np.uint64(key)
        for category, keys in self.sets.items():
            i = int(np.searchsorted(keys, k))
            if i < keys.size and keys[i] == k:
                return category
        return None


@dataclass(frozen=True)
class PackHeader:
    country: str
    version: int
    created: int
    chunk: int


def _sections(view: memoryview, pos: int, count: int, chunk: int) -> dict[Category, EFSet]:
    out: dict[Category, EFSet] = {}
    for _ in range(count):
        if len(view) < pos + _SECTION.size:
            raise PackError("truncated section")
        code, length = _SECTION.unpack_from(view, pos)
        pos += _SECTION.size
        if code not in CODE_CATEGORIES or len(view) < pos + length:
            raise PackError("bad section")
        out[CODE_CATEGORIES[code]] = EFSet(view[pos : pos + length], chunk)
        pos += length
    if pos != len(view):
        raise PackError("trailing bytes")
    return out


class PackReader:
    """Answers lookups straight from an encoded pack (what a device keeps in memory)."""

    def __init__(self, data: bytes) -> None:
        view = memoryview(data)
        if len(view) < _PACK_HEADER.size:
            raise PackError("not a pack: too short")
        magic, fmt, country, version, created, chunk, count = _PACK_HEADER.unpack_from(view)
        if magic != PACK_MAGIC or fmt != FORMAT or chunk < 1:
            raise PackError("not a canyu pack of a known format")
        self.header = PackHeader(country.decode("ascii").strip(), version, created, chunk)
        self.sets = _sections(view, _PACK_HEADER.size, count, chunk)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.size = len(data)

    @property
    def count(self) -> int:
        return sum(len(s) for s in self.sets.values())

    def lookup(self, key: int) -> Category | None:
        for category, keys in self.sets.items():
            if key in keys:
                return category
        return None

    def to_pack(self) -> Pack:
        h = self.header
        return Pack(
            h.country, h.version, h.created, {c: s.decode() for c, s in self.sets.items()}, h.chunk
        )


def decode(data: bytes) -> Pack:
    return PackReader(data).to_pack()


# --- deltas -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeltaHeader:
    country: str
    base_version: int
    version: int
    created: int
    chunk: int
    sha256: str  # of the pack this delta produces


def touched(old: Pack, new: Pack) -> U64:
    """Keys whose presence or category differs between two packs."""
    changed = [
        np.setxor1d(
            old.sets.get(c, np.zeros(0, np.uint64)), new.sets.get(c, np.zeros(0, np.uint64))
        )
        for c in CATEGORY_CODES
    ]
    return np.unique(np.concatenate([*changed, np.zeros(0, np.uint64)])).astype(np.uint64)


def make_delta(new: Pack, touched_keys: U64, *, base_version: int) -> bytes:
    """A delta that turns any version from ``base_version`` on into ``new``, given every key
    touched since then (extra keys are harmless; missing ones are caught by the SHA-256)."""
    touched_keys = np.unique(np.asarray(touched_keys, dtype=np.uint64))
    present = np.concatenate([*new.sets.values(), np.zeros(0, np.uint64)])
    removed = np.setdiff1d(touched_keys, present, assume_unique=True)
    sha = hashlib.sha256(new.encode()).digest()
    parts = [
        _DELTA_HEADER.pack(
            DELTA_MAGIC,
            FORMAT,
            _country_bytes(new.country),
            base_version,
            new.version,
            new.created,
            new.chunk,
            sha,
            len(CATEGORY_CODES) + 1,
        )
    ]
    removed_data = encode_set(removed, new.chunk)
    parts += [_SECTION.pack(0, len(removed_data)), removed_data]
    for category, code in CATEGORY_CODES.items():
        keys = new.sets.get(category, np.zeros(0, np.uint64))
        upserts = np.intersect1d(keys, touched_keys, assume_unique=True)
        data = encode_set(upserts, new.chunk)
        parts += [_SECTION.pack(code, len(data)), data]
    return b"".join(parts)


def read_delta(data: bytes) -> tuple[DeltaHeader, U64, dict[Category, U64]]:
    view = memoryview(data)
    if len(view) < _DELTA_HEADER.size:
        raise PackError("not a delta: too short")
    magic, fmt, country, base, version, created, chunk, sha, count = _DELTA_HEADER.unpack_from(view)
    if magic != DELTA_MAGIC or fmt != FORMAT or chunk < 1:
        raise PackError("not a canyu delta of a known format")
    header = DeltaHeader(country.decode("ascii").strip(), base, version, created, chunk, sha.hex())
    pos = _DELTA_HEADER.size
    removed: U64 | None = None
    upserts: dict[Category, U64] = {}
    for _ in range(count):
        if len(view) < pos + _SECTION.size:
            raise PackError("truncated section")
        code, length = _SECTION.unpack_from(view, pos)
        pos += _SECTION.size
        if len(view) < pos + length or (code != 0 and code not in CODE_CATEGORIES):
            raise PackError("bad section")
        keys = EFSet(view[pos : pos + length], chunk).decode()
        pos += length
        if code == 0:
            removed = keys
        else:
            upserts[CODE_CATEGORIES[code]] = keys
    if removed is None or pos != len(view):
        raise PackError("bad delta layout")
    return header, removed, upserts


def apply_delta(base: Pack, delta: bytes) -> tuple[Pack, bytes]:
    """Apply ``delta`` to ``base``; return the new pack and its encoding. Raises PackError if
    the delta is for another country or version range, or the result is not the pack it names."""
    header, removed, upserts = read_delta(delta)
    if header.country != base.country:
        raise PackError(f"delta for {header.country}, pack of {base.country}")
    if not header.base_version <= base.version < header.version:
        raise PackError(
            f"delta {header.base_version}->{header.version} does not apply to {base.version}"
        )
    drop = np.unique(np.concatenate([removed, *upserts.values()]))
    sets: dict[Category, U64] = {}
    for category in CATEGORY_CODES:
        keys = np.setdiff1d(base.sets.get(category, np.zeros(0, np.uint64)), drop)
        add = upserts.get(category, np.zeros(0, np.uint64))
        sets[category] = np.union1d(keys, add).astype(np.uint64)
    new = Pack(header.country, header.version, header.created, sets, header.chunk)
    encoded = new.encode()
    if hashlib.sha256(encoded).hexdigest() != header.sha256:
        raise PackError("the delta does not produce the pack it promises (base has drifted)")
    return new, encoded
