"""Offline packs: an exact, compressed set of a calling zone's labelled numbers with their
category, its suspicious numbers and number ranges, and deltas between versions. No database;
numpy only.

Format 2 (all integers little-endian). A **pack**::

    b"CYPK" | format u8 | zone 3 bytes (the calling code, ASCII, space-padded) | version u32
    | created u64 | chunk u16 | sections u8 | per section: code u8, byte length u32, an EF set

holds one *partitioned Elias-Fano* set per non-empty section: codes 1-5 are the categories
(exact labels: the phone blocks, except delivery), 8 the *suspicious* numbers (exact, warn
only), and 16 + d the *suspicious ranges* of 10^d consecutive numbers, stored as ``key // 10^d``
(warn only). Splitting by category codes the category in about H(category) bits per number
instead of a fixed 3, and numbers of one operator block, which tend to share a kind, stay close.
Empty sections are left out, so a small pack carries no fixed cost per category.

An **EF set** of sorted distinct keys (see :func:`numbers.pack_key`) is cut into chunks of
``chunk`` keys. Per chunk the first key is stored whole (u64), the rest as Elias-Fano over their
distance to it: ``L = floor(log2(span / n))`` low bits each, plus the high parts in unary
(n + span >> L bits), which is within 2 bits per key of the information-theoretic minimum for the
chunk's own span. Chunks adapt to density: dense operator blocks cost few bits, sparse stretches
more. A lookup binary-searches the chunk heads and decodes one chunk (at most ``chunk`` keys).
It is exact: a key is either stored or not, there are no false positives (not a Bloom filter).

A **delta** (``b"CYDL"``) is the exact difference between two published versions: a 38-byte
header (with the first 16 bytes of the new pack's SHA-256) and, as LEB128 varints, every key
whose state differs (``gap << 4 | code``, code 0 = removed) and every range that appeared or
went (``gap << 1 | present``). It has no per-section overhead, so a day's delta of a 500-number
pack stays a few per cent of the pack. Applying it and re-encoding gives the new pack byte for
byte; the hash proves it (a phone on another version gets a refusal and takes the full pack).

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

FORMAT = 2
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
SUSPICIOUS_CODE = 8  # exact numbers that only warn
RANGE_CODE = 16  # + d: ranges of 10^d numbers that only warn
MAX_RANGE_DIGITS = 9

_PACK_HEADER = struct.Struct("<4sB3sIQHB")
_DELTA_HEADER = struct.Struct("<4sB3sIIIH16s")
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


_EMPTY = np.zeros(0, dtype=np.uint64)


def _country_bytes(country: str) -> bytes:
    raw = country.encode("ascii")
    if not 1 <= len(raw) <= 3:
        raise PackError(f"bad zone {country!r}")
    return raw.ljust(3)


@dataclass
class Pack:
    """A zone's labelled numbers (sorted uint64 keys per category), its suspicious numbers and
    its suspicious ranges (block ids per number of digits). ``country`` is the zone."""

    country: str
    version: int
    created: int  # seconds since the epoch
    sets: dict[Category, U64] = field(default_factory=dict)
    chunk: int = DEFAULT_CHUNK
    suspicious: U64 = field(default_factory=lambda: _EMPTY)
    ranges: dict[int, U64] = field(default_factory=dict)

    @classmethod
    def from_entries(
        cls,
        country: str,
        version: int,
        created: int,
        entries: Iterable[tuple[int, Category]] | Mapping[int, Category],
        chunk: int = DEFAULT_CHUNK,
        *,
        suspicious: Iterable[int] = (),
        ranges: Mapping[int, Iterable[int]] | None = None,
    ) -> Pack:
        items = entries.items() if isinstance(entries, Mapping) else entries
        by_category: dict[Category, list[int]] = {c: [] for c in CATEGORY_CODES}
        for key, category in items:
            by_category[Category(category)].append(key)
        sets = {c: _sorted(v) for c, v in by_category.items()}
        labelled = np.concatenate([*sets.values(), _EMPTY])
        # A labelled number blocks: it is not also "suspicious".
        warn = np.setdiff1d(_sorted(suspicious), labelled)
        blocks = {d: _sorted(v) for d, v in (ranges or {}).items()}
        pack = cls(country, version, created, sets, chunk, warn, blocks)
        pack.check_disjoint()
        return pack

    @property
    def count(self) -> int:
        return sum(int(s.size) for s in self.sets.values())

    def check_disjoint(self) -> None:
        keys = np.concatenate([*self.sets.values(), self.suspicious, _EMPTY])
        if np.unique(keys).size != keys.size:
            raise PackError("a number is in two categories")
        if any(not 1 <= d <= MAX_RANGE_DIGITS for d in self.ranges):
            raise PackError("ranges are 10^1 to 10^9 numbers")

    def sections(self) -> list[tuple[int, U64]]:
        """(code, keys) of every non-empty section, in code order (the canonical layout)."""
        out = [(code, self.sets.get(c, _EMPTY)) for c, code in CATEGORY_CODES.items()]
        out.append((SUSPICIOUS_CODE, self.suspicious))
        out += [(RANGE_CODE + d, self.ranges[d]) for d in sorted(self.ranges)]
        return [(code, np.asarray(keys, dtype=np.uint64)) for code, keys in out if keys.size]

    def encode(self) -> bytes:
        sections = self.sections()
        parts = [
            _PACK_HEADER.pack(
                PACK_MAGIC,
                FORMAT,
                _country_bytes(self.country),
                self.version,
                self.created,
                self.chunk,
                len(sections),
            )
        ]
        for code, keys in sections:
            data = encode_set(keys, self.chunk)
            parts += [_SECTION.pack(code, len(data)), data]
        return b"".join(parts)

    def lookup(self, key: int) -> Category | None:
        k = np.uint64(key)
        for category, keys in self.sets.items():
            if _has(keys, k):
                return category
        return None


def _sorted(values: Iterable[int] | U64) -> U64:
    return np.unique(np.fromiter((int(v) for v in values), dtype=np.uint64))


def _has(keys: U64, key: np.uint64) -> bool:
    i = int(np.searchsorted(keys, key))
    return i < keys.size and keys[i] == key


@dataclass(frozen=True)
class PackHeader:
    country: str  # the zone
    version: int
    created: int
    chunk: int


def _sections(view: memoryview, pos: int, count: int, chunk: int) -> dict[int, EFSet]:
    out: dict[int, EFSet] = {}
    for _ in range(count):
        if len(view) < pos + _SECTION.size:
            raise PackError("truncated section")
        code, length = _SECTION.unpack_from(view, pos)
        pos += _SECTION.size
        known = code in CODE_CATEGORIES or code == SUSPICIOUS_CODE
        known = known or RANGE_CODE < code <= RANGE_CODE + MAX_RANGE_DIGITS
        if not known or code in out or len(view) < pos + length:
            raise PackError("bad section")
        out[code] = EFSet(view[pos : pos + length], chunk)
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
        sections = _sections(view, _PACK_HEADER.size, count, chunk)
        self.sets = {c: sections[code] for c, code in CATEGORY_CODES.items() if code in sections}
        self.suspicious = sections.get(SUSPICIOUS_CODE)
        self.ranges = {code - RANGE_CODE: s for code, s in sections.items() if code > RANGE_CODE}
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

    def is_suspicious(self, key: int) -> bool:
        """A warn-only signal: the number itself was reported, or it lies in a range where many
        were. Exact labels (:meth:`lookup`) come first."""
        if self.suspicious is not None and key in self.suspicious:
            return True
        return any(key // 10**d in blocks for d, blocks in self.ranges.items())

    def to_pack(self) -> Pack:
        h = self.header
        return Pack(
            h.country,
            h.version,
            h.created,
            {c: s.decode() for c, s in self.sets.items()},
            h.chunk,
            self.suspicious.decode() if self.suspicious is not None else _EMPTY,
            {d: s.decode() for d, s in self.ranges.items()},
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
    sha256: str  # first 16 bytes (hex) of the SHA-256 of the pack this delta produces


def _codes(pack: Pack) -> tuple[U64, npt.NDArray[np.int64]]:
    """Every key of a pack with its section code, sorted by key."""
    parts = [(pack.sets.get(c, _EMPTY), code) for c, code in CATEGORY_CODES.items()]
    parts.append((pack.suspicious, SUSPICIOUS_CODE))
    keys = np.concatenate([k for k, _ in parts] + [_EMPTY])
    codes = np.concatenate(
        [np.full(k.size, c, np.int64) for k, c in parts] + [np.zeros(0, np.int64)]
    )
    order = np.argsort(keys, kind="stable")
    return keys[order], codes[order]


def _state(pack: Pack) -> dict[int, int]:
    keys, codes = _codes(pack)
    return dict(zip(keys.tolist(), codes.tolist(), strict=True))


def touched(old: Pack, new: Pack) -> U64:
    """Keys whose presence or category differs between two packs."""
    before, after = _state(old), _state(new)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return np.array(sorted(changed), dtype=np.uint64)


def _varints(values: Iterable[int]) -> bytes:
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


class _VarintReader:
    def __init__(self, data: memoryview, pos: int) -> None:
        self.data = data
        self.pos = pos

    def next(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data) or shift > 63:
                raise PackError("truncated delta")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value


def _gaps(keys: Iterable[int]) -> list[int]:
    out, previous = [], 0
    for key in keys:
        out.append(key - previous)
        previous = key
    return out


def make_delta(old: Pack, new: Pack) -> bytes:
    """The exact difference from ``old`` (a published version) to ``new``."""
    before, after = _state(old), _state(new)
    keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    entries = [gap << 4 | after.get(k, 0) for gap, k in zip(_gaps(keys), keys, strict=True)]
    parts = [
        _DELTA_HEADER.pack(
            DELTA_MAGIC,
            FORMAT,
            _country_bytes(new.country),
            old.version,
            new.version,
            new.created,
            new.chunk,
            hashlib.sha256(new.encode()).digest()[:16],
        ),
        _varints([len(entries), *entries]),
    ]
    groups = []
    for d in sorted(old.ranges.keys() | new.ranges.keys()):
        was, now = old.ranges.get(d, _EMPTY), new.ranges.get(d, _EMPTY)
        flips = np.setxor1d(was, now).tolist()
        if flips:
            present = set(np.intersect1d(now, flips).tolist())
            flags = [gap << 1 | (b in present) for gap, b in zip(_gaps(flips), flips, strict=True)]
            groups.append(_varints([d, len(flags), *flags]))
    parts += [_varints([len(groups)]), *groups]
    return b"".join(parts)


def read_delta(data: bytes) -> tuple[DeltaHeader, dict[int, int], dict[int, dict[int, bool]]]:
    """The header, {key: new code (0 = removed)} and {digits: {block: present}}."""
    view = memoryview(data)
    if len(view) < _DELTA_HEADER.size:
        raise PackError("not a delta: too short")
    magic, fmt, country, base, version, created, chunk, sha = _DELTA_HEADER.unpack_from(view)
    if magic != DELTA_MAGIC or fmt != FORMAT or chunk < 1:
        raise PackError("not a canyu delta of a known format")
    header = DeltaHeader(country.decode("ascii").strip(), base, version, created, chunk, sha.hex())
    reader = _VarintReader(view, _DELTA_HEADER.size)
    changes: dict[int, int] = {}
    key = 0
    for _ in range(reader.next()):
        value = reader.next()
        key += value >> 4
        code = value & 0xF
        if code and code not in CODE_CATEGORIES and code != SUSPICIOUS_CODE:
            raise PackError("bad delta entry")
        changes[key] = code
    ranges: dict[int, dict[int, bool]] = {}
    for _ in range(reader.next()):
        digits = reader.next()
        if not 1 <= digits <= MAX_RANGE_DIGITS or digits in ranges:
            raise PackError("bad delta ranges")
        block, flips = 0, {}
        for _ in range(reader.next()):
            value = reader.next()
            block += value >> 1
            flips[block] = bool(value & 1)
        ranges[digits] = flips
    if reader.pos != len(view):
        raise PackError("bad delta layout")
    return header, changes, ranges


def apply_delta(base: Pack, delta: bytes) -> tuple[Pack, bytes]:
    """Apply ``delta`` to ``base``; return the new pack and its encoding. Raises PackError if
    the delta is for another zone or version range, or the result is not the pack it names."""
    header, changes, range_flips = read_delta(delta)
    if header.country != base.country:
        raise PackError(f"delta for {header.country}, pack of {base.country}")
    if not header.base_version <= base.version < header.version:
        raise PackError(
            f"delta {header.base_version}->{header.version} does not apply to {base.version}"
        )
    state = _state(base)
    state.update(changes)
    by_code: dict[int, list[int]] = {}
    for key, code in state.items():
        by_code.setdefault(code, []).append(key)
    ranges = {d: set(v.tolist()) for d, v in base.ranges.items()}
    for d, flips in range_flips.items():
        blocks = ranges.setdefault(d, set())
        for block, present in flips.items():
            (blocks.add if present else blocks.discard)(block)
    new = Pack(
        header.country,
        header.version,
        header.created,
        {c: _sorted(by_code.get(code, [])) for c, code in CATEGORY_CODES.items()},
        header.chunk,
        _sorted(by_code.get(SUSPICIOUS_CODE, [])),
        {d: _sorted(v) for d, v in ranges.items() if v},
    )
    encoded = new.encode()
    if hashlib.sha256(encoded).hexdigest()[:32] != header.sha256:
        raise PackError("the delta does not produce the pack it promises (base has drifted)")
    return new, encoded
