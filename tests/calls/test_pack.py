"""The pack format: exact membership, categories, deltas, corruption; against plain arrays."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from canyu.calls import pack as P
from canyu.calls.reputation import Category
from canyu.lab import calls_synth as synth


@pytest.mark.parametrize("size", [0, 1, 2, 63, 64, 65, 128, 1000])
def test_sets_round_trip_at_chunk_edges(size: int) -> None:
    rng = np.random.default_rng(size)
    keys = np.unique(rng.integers(10**10, 2 * 10**10, size=size * 2, dtype=np.uint64))[:size]
    data = P.encode_set(keys)
    decoded = P.EFSet(data)
    assert len(decoded) == keys.size
    assert np.array_equal(decoded.decode(), keys)
    for key in keys[:50]:
        assert int(key) in decoded


def test_membership_is_exact_no_false_positives() -> None:
    keys, codes = synth.labelled_numbers(20_000, seed=3)
    reader = P.PackReader(synth.pack_of(keys, codes).encode())
    present = set(keys.tolist())
    assert reader.count == keys.size
    # Every stored key answers its own category...
    names = {code: c for c, code in P.CATEGORY_CODES.items()}
    for key, code in zip(keys[::37], codes[::37], strict=True):
        assert reader.lookup(int(key)) == names[int(code)]
    # ...and every neighbour that is not stored answers None: no false positives at all.
    probes = np.concatenate([keys + 1, keys - 1, keys + 10_000])
    absent = [int(k) for k in probes if int(k) not in present]
    assert len(absent) > 50_000
    assert all(reader.lookup(k) is None for k in absent[::7])
    assert reader.lookup(0) is None
    assert reader.lookup(2**60) is None


def test_realistic_pack_is_small() -> None:
    keys, codes = synth.labelled_numbers(100_000, seed=4)
    data = synth.pack_of(keys, codes).encode()
    assert len(data) * 8 / keys.size <= 16


def test_a_number_cannot_be_in_two_categories() -> None:
    with pytest.raises(P.PackError):
        P.Pack(
            "CN",
            1,
            0,
            {Category.FRAUD: np.array([5], np.uint64), Category.OTHER: np.array([5], np.uint64)},
        ).check_disjoint()
    with pytest.raises(P.PackError):
        P.encode_set(np.array([3, 2], dtype=np.uint64))


def _packs() -> tuple[P.Pack, P.Pack, P.Pack]:
    keys, codes = synth.labelled_numbers(30_000, seed=5)
    v1 = synth.pack_of(keys, codes, version=1, created=100)
    k2, c2 = synth.a_day_later(keys, codes, seed=6)
    v2 = synth.pack_of(k2, c2, version=2, created=200)
    k3, c3 = synth.a_day_later(k2, c2, seed=7)
    v3 = synth.pack_of(k3, c3, version=3, created=300)
    return v1, v2, v3


def test_delta_is_the_exact_difference_between_two_versions() -> None:
    v1, v2, v3 = _packs()
    wanted = v3.encode()
    for base in (v1, v2):
        new, encoded = P.apply_delta(P.decode(base.encode()), P.make_delta(base, v3))
        assert encoded == wanted
        assert new.version == 3
    assert len(P.make_delta(v2, v3)) < 0.1 * len(wanted)


def test_a_delta_applied_to_another_version_is_caught_by_its_hash() -> None:
    v1, v2, v3 = _packs()
    delta = P.make_delta(v2, v3)  # knows nothing of the 1 -> 2 changes
    with pytest.raises(P.PackError, match="does not apply"):
        P.apply_delta(v1, delta)
    with pytest.raises(P.PackError, match="does not apply"):
        P.apply_delta(v3, delta)
    other = P.Pack("91", 2, 0, {})
    with pytest.raises(P.PackError, match="delta for 86"):
        P.apply_delta(other, delta)
    drifted = P.Pack(v2.country, v2.version, v2.created, dict(v2.sets), v2.chunk)
    drifted.sets[Category.FRAUD] = np.union1d(drifted.sets[Category.FRAUD], [12]).astype(np.uint64)
    with pytest.raises(P.PackError, match="does not produce"):
        P.apply_delta(drifted, delta)


def test_corrupt_packs_are_refused() -> None:
    v1, _, _ = _packs()
    data = bytearray(v1.encode())
    with pytest.raises(P.PackError):
        P.PackReader(bytes(data[:-3]))
    with pytest.raises(P.PackError):
        P.PackReader(b"XXXX" + bytes(data[4:]))
    with pytest.raises(P.PackError):
        P.PackReader(bytes(data[:10]))
    # Lying about a section's size is noticed.
    header = struct.calcsize("<4sB3sIQHB")
    data[header + 1 : header + 5] = struct.pack("<I", 10**9)
    with pytest.raises(P.PackError):
        P.PackReader(bytes(data))


def test_encoding_is_deterministic() -> None:
    v1, _, _ = _packs()
    again = P.decode(v1.encode())
    assert hashlib.sha256(again.encode()).digest() == hashlib.sha256(v1.encode()).digest()
