"""Synthetic but realistic sets of labelled numbers for the pack benchmark and tests. No database.

Assumption (docs/calls.md): the labelled numbers of one country are Chinese mobile numbers,
11 digits ``1 P P B B B B S S S S``: ``1PP`` an operator segment (the 51 of 130-199 that
libphonenumber accepts), ``BBBB`` picks one of 10,000 blocks of 10,000 numbers that
an operator assigns to a city or sells to a reseller, ``SSSS`` the subscriber. Spam numbers are
not spread uniformly: call centres and resellers hold ranges, so ``clustered`` of them (60% by
default) fall in a few thousand "hot" blocks (telemarketing-heavy, from the virtual-operator
segments 162-171 more often), at 5% density; the rest are scattered over all segments.
Categories: telemarketing 50%, fraud 20%, delivery 15%, harassment 10%, other 5% overall, with
hot blocks 80% telemarketing.

A day of change: ``daily_churn`` of the numbers get labelled, ``daily_churn / 2`` lose their label
(decay, appeals) and ``daily_churn / 5`` change category.
"""

from __future__ import annotations

import numpy as np

from canyu.calls.numbers import key_from_national
from canyu.calls.pack import CATEGORY_CODES, Pack
from canyu.calls.reputation import Category

# Mobile segments libphonenumber accepts as valid in CN (146, 148, 149, 154, 163, 164, 174
# and 194 are unassigned or data-only there, so they are left out).
SEGMENTS = (
    [*range(130, 140), 145, 147]
    + [s for s in range(150, 160) if s != 154]
    + [162, 165, 166, 167]
    + [s for s in range(170, 179) if s != 174]
    + list(range(180, 190))
    + [s for s in range(191, 200) if s != 194]
)
VIRTUAL = [162, 165, 167, 170, 171]
CATEGORY_MIX = {
    Category.TELEMARKETING: 0.50,
    Category.FRAUD: 0.20,
    Category.DELIVERY: 0.15,
    Category.HARASSMENT: 0.10,
    Category.OTHER: 0.05,
}
HOT_MIX = {
    Category.TELEMARKETING: 0.80,
    Category.FRAUD: 0.10,
    Category.DELIVERY: 0.05,
    Category.HARASSMENT: 0.03,
    Category.OTHER: 0.02,
}
BASE_KEY = key_from_national("0" * 11)  # 10**11: keys of 11-digit national numbers start here
BLOCK = 10_000


def _categories(rng: np.random.Generator, n: int, mix: dict[Category, float]) -> np.ndarray:
    codes = np.array([CATEGORY_CODES[c] for c in mix], dtype=np.uint8)
    return rng.choice(codes, size=n, p=np.array(list(mix.values())))


def _random_nationals(rng: np.random.Generator, n: int, segments: list[int]) -> np.ndarray:
    seg = rng.choice(np.array(segments, dtype=np.int64), size=n)
    return seg * 10**8 + rng.integers(0, 10**8, size=n)


def labelled_numbers(
    n: int, *, seed: int = 1, clustered: float = 0.6, hot_density: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct pack keys (uint64) and their category codes (uint8)."""
    rng = np.random.default_rng(seed)
    n_hot = int(n * clustered)
    blocks = max(1, int(n_hot / (BLOCK * hot_density)))
    hot_segments = VIRTUAL * 3 + SEGMENTS  # virtual-operator segments three times as likely
    block_ids = np.unique(_random_nationals(rng, blocks * 2, hot_segments) // BLOCK)[:blocks]
    hot = rng.choice(block_ids, size=n_hot) * BLOCK + rng.integers(0, BLOCK, size=n_hot)
    hot = np.unique(hot)
    rest = _random_nationals(rng, 2 * (n - hot.size) + 1000, SEGMENTS)
    rest = np.setdiff1d(np.unique(rest), hot)
    rest = rng.permutation(rest)[: n - hot.size]
    keys = (np.concatenate([hot, rest]) + BASE_KEY).astype(np.uint64)
    codes = np.concatenate(
        [_categories(rng, hot.size, HOT_MIX), _categories(rng, rest.size, CATEGORY_MIX)]
    )
    order = np.argsort(keys)
    return keys[order], codes[order]


def pack_of(
    keys: np.ndarray, codes: np.ndarray, *, country: str = "86", version: int = 1, created: int = 0
) -> Pack:
    sets = {c: np.sort(keys[codes == code]).astype(np.uint64) for c, code in CATEGORY_CODES.items()}
    return Pack(country, version, created, sets)


def a_day_later(
    keys: np.ndarray, codes: np.ndarray, *, daily_churn: float = 0.01, seed: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """The labelled set one typical day later (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = keys.size
    removed = rng.choice(n, size=int(n * daily_churn / 2), replace=False)
    keep = np.ones(n, dtype=bool)
    keep[removed] = False
    new_keys, new_codes = keys[keep], codes[keep].copy()
    changed = rng.choice(new_keys.size, size=int(n * daily_churn / 5), replace=False)
    new_codes[changed] = (new_codes[changed] % len(CATEGORY_CODES)) + 1
    fresh_keys, fresh_codes = labelled_numbers(int(n * daily_churn * 1.2), seed=seed + 100)
    mask = ~np.isin(fresh_keys, new_keys)
    fresh_keys, fresh_codes = (
        fresh_keys[mask][: int(n * daily_churn)],
        fresh_codes[mask][: int(n * daily_churn)],
    )
    all_keys = np.concatenate([new_keys, fresh_keys])
    all_codes = np.concatenate([new_codes, fresh_codes])
    order = np.argsort(all_keys)
    return all_keys[order], all_codes[order]
