"""The pre-queue draw: a committed seed, a reproducible shuffle, and its verification.

No database here: the draw is a pure function of (seed, entrants), so anyone holding the
published record can re-run it. The algorithm, stated so it can be re-implemented elsewhere:

1. before the queue opens the server picks ``seed`` (32 random bytes) and publishes
   ``commitment = SHA-256(seed)`` in hex;
2. when the sale starts, the entrants (user ids) are sorted ascending;
3. ``random.Random(seed).shuffle(entrants)`` (CPython's Mersenne Twister seeded from the bytes,
   Fisher-Yates shuffle) gives the order: the first id gets position 1;
4. the seed is revealed; ``verify`` checks the hash and re-runs step 2-3.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

SEED_BYTES = 32


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def draw_order(seed: bytes, entrants: Iterable[int]) -> list[int]:
    """Entrants in drawn order (position 1 first); the input order does not matter."""
    order = sorted(set(entrants))
    random.Random(seed).shuffle(order)
    return order


@dataclass(frozen=True)
class DrawRecord:
    """What a sale publishes after its draw (``GET /api/v1/sales/{id}/draw``)."""

    sale_id: int
    commitment: str
    seed_hex: str
    entrants: list[int]
    order: list[int]

    def to_json(self) -> str:
        return json.dumps(
            {
                "sale_id": self.sale_id,
                "commitment": self.commitment,
                "seed": self.seed_hex,
                "entrants": self.entrants,
                "order": self.order,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> DrawRecord:
        data = json.loads(text)
        try:
            return cls(
                sale_id=int(data["sale_id"]),
                commitment=str(data["commitment"]),
                seed_hex=str(data["seed"]),
                entrants=[int(x) for x in data["entrants"]],
                order=[int(x) for x in data["order"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a draw record: {exc}") from exc


@dataclass(frozen=True)
class Verification:
    commitment_matches: bool
    order_matches: bool
    first_difference: int | None  # 1-based position where the published order differs

    @property
    def ok(self) -> bool:
        return self.commitment_matches and self.order_matches


def verify(record: DrawRecord) -> Verification:
    try:
        seed = bytes.fromhex(record.seed_hex)
    except ValueError:
        return Verification(False, False, 1)
    matches = hmac.compare_digest(commitment(seed), record.commitment.lower())
    again = draw_order(seed, record.entrants)
    difference = next(
        (i + 1 for i, (a, b) in enumerate(zip(again, record.order, strict=False)) if a != b),
        None,
    )
    if difference is None and len(again) != len(record.order):
        difference = min(len(again), len(record.order)) + 1
    return Verification(matches, difference is None, difference)
