"""A device's place in a rollout's cohort: a stable hash of (device, build) mapped to [0, 1).

The same device and build always land at the same place, so a device that is in at 5% is still
in at 20%; different builds shuffle the fleet anew, so the same devices are not always first.
"""

from __future__ import annotations

import hashlib

_SCALE = float(1 << 64)


def position(device_key: str, build_key: str) -> float:
    """Uniform in [0, 1): the first 64 bits of SHA-256 over the two keys."""
    digest = hashlib.sha256(f"{device_key}\x1f{build_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def in_cohort(device_key: str, build_key: str, percent: float) -> bool:
    """Whether the device is among the first ``percent`` % of the fleet for this build."""
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    return position(device_key, build_key) < percent / 100.0
