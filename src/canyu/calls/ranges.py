"""The number-range signal, pure: blocks of consecutive numbers where many were reported.

Most numbers that call tomorrow were never reported (rotating and spoofed caller ids), but
they cluster: robocallers rent or spoof runs of one operator block, and "neighbour spoofing"
shows the victim a number that shares its area code and exchange. So a block of 10^d
consecutive numbers (a pack key divided by 10^d) in which several *distinct* numbers were
reported is suspicious as a whole. It only **warns** (exact labels still block), and what it
costs is measured, not guessed: the share of random valid numbers of the zone it would warn on.

The rule (chosen on the first FTC days, docs/calls.md): candidate blocks are 100 numbers with 2
or more distinct reported numbers, 1,000 with 2 or more, and 10,000 with 3 or more. They are
ranked by density (distinct reported numbers per number of the block, then evidence) and taken
greedily, skipping blocks inside a chosen one, until they cover ``budget`` numbers: a fixed
share of the zone's valid numbers, so the warn rate on random numbers stays put however many
complaints come in. A block holding a number the team cleared (a verified business) is never
taken.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache

import phonenumbers

# (digits d, least distinct reported numbers in a block of 10^d)
SCALES: tuple[tuple[int, int], ...] = ((2, 2), (3, 2), (4, 3))


def suspicious_ranges(
    evidence: Mapping[int, float],
    *,
    budget: float,
    exempt: Iterable[int] = (),
    scales: tuple[tuple[int, int], ...] = SCALES,
) -> dict[int, list[int]]:
    """The blocks to warn on, {digits: sorted block ids}, from reported pack keys with their
    evidence, covering at most ``budget`` numbers."""
    blocked_out = {(d, key // 10**d) for key in exempt for d, _ in scales}
    candidates: list[tuple[float, float, int, int]] = []
    for digits, least in scales:
        size = 10**digits
        distinct: dict[int, int] = defaultdict(int)
        weight: dict[int, float] = defaultdict(float)
        for key, value in evidence.items():
            distinct[key // size] += 1
            weight[key // size] += value
        candidates += [
            (n / size, weight[block], digits, block)
            for block, n in distinct.items()
            if n >= least and (digits, block) not in blocked_out
        ]
    # Densest first; ties: more evidence, the smaller block, then the lower block (canonical).
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2], c[3]))
    chosen: dict[int, set[int]] = defaultdict(set)
    largest = max((d for d, _ in scales), default=0)
    used = 0
    for _density, _weight, digits, block in candidates:
        size = 10**digits
        if used + size > budget:
            continue
        inside = any(
            block // 10 ** (outer - digits) in chosen[outer]
            for outer in range(digits + 1, largest + 1)
        )
        if inside:
            continue
        chosen[digits].add(block)
        used += size
    return {d: sorted(blocks) for d, blocks in sorted(chosen.items()) if blocks}


# --- the zone's valid numbers -----------------------------------------------------------------


def _lengths(zone: str) -> tuple[int, ...]:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(zone), ())
    lengths: set[int] = set()
    for region in regions:
        meta = (
            phonenumbers.PhoneMetadata.metadata_for_nongeo_region(int(zone))
            if region == "001"
            else phonenumbers.PhoneMetadata.metadata_for_region(region)
        )
        if meta is not None and meta.general_desc is not None:
            lengths.update(meta.general_desc.possible_length or ())
    return tuple(sorted(lengths))


def _valid(zone: str, national: str) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(f"+{zone}{national}")))
    except phonenumbers.NumberParseException:
        return False


@lru_cache(maxsize=64)
def valid_numbers(zone: str, draws: int = 4_000, seed: int = 1) -> float:
    """About how many valid national numbers the zone has (libphonenumber's metadata, sampled
    per possible length): what a range budget is a share of. About 2.8 billion for +1."""
    rng = random.Random(seed)
    total = 0.0
    for length in _lengths(zone):
        hits = sum(_valid(zone, str(rng.randrange(10**length)).zfill(length)) for _ in range(draws))
        total += hits / draws * 10**length
    return total


def random_valid(zone: str, count: int, *, seed: int) -> list[str]:
    """``count`` random valid numbers of the zone (E.164), uniform over the valid numbers: what a
    range rule's cost is measured on."""
    rng = random.Random(seed)
    lengths = _lengths(zone)
    weights = [10**n for n in lengths]  # uniform over all numbers, then keep the valid ones
    out: list[str] = []
    while len(out) < count:
        length = rng.choices(lengths, weights)[0]
        national = str(rng.randrange(10**length)).zfill(length)
        if _valid(zone, national):
            out.append(f"+{zone}{national}")
    return out
