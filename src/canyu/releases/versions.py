"""Build versions: PEP 440 versions (``packaging``), strictly increasing per product and channel.

Pure: no database. The service asks here whether a new version may follow the latest one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from packaging.version import InvalidVersion, Version

from canyu.errors import Conflict, InvalidInput

MAX_VERSION_LENGTH = 64


def parse_version(raw: str) -> Version:
    """A validated version, or a 422 saying why not (``4.11.22``, ``5.0.0rc1``, ``2026.11.27``)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > MAX_VERSION_LENGTH:
        raise InvalidInput(
            f"A version has 1 to {MAX_VERSION_LENGTH} characters.", details={"field": "version"}
        )
    try:
        version = Version(text)
    except InvalidVersion:
        raise InvalidInput(
            f"{raw!r} is not a valid version; use numbers like 4.11.22 (PEP 440).",
            details={"field": "version"},
        ) from None
    if version.local is not None:
        raise InvalidInput(
            "Local version labels (+…) are not allowed in releases.", details={"field": "version"}
        )
    return version


@lru_cache(maxsize=4096)
def normalise(raw: str) -> str:
    """The canonical spelling stored and compared everywhere (``4.11.022`` → ``4.11.22``)."""
    return str(parse_version(raw))


def check_follows(new: Version, latest: Version | None) -> None:
    """Versions are strictly increasing per product and channel."""
    if latest is not None and new <= latest:
        raise Conflict(
            f"Version {new} does not come after the latest build {latest} on this channel.",
            details={"field": "version", "latest": str(latest)},
        )


def latest(versions: Iterable[str]) -> Version | None:
    parsed = [Version(v) for v in versions]
    return max(parsed) if parsed else None


def next_version(latest_version: Version | None, *, first: str = "1.0.0") -> Version:
    """The weekly train's default: the last release component plus one (4.11.18 → 4.11.19)."""
    if latest_version is None:
        return Version(first)
    release = list(latest_version.release)
    release[-1] += 1
    return Version(".".join(str(part) for part in release))


def is_newer(candidate: str, current: str | None) -> bool:
    """Whether a device on ``current`` should be offered ``candidate``; unknown builds are old."""
    if current is None:
        return True
    try:
        return Version(candidate) > Version(current)
    except InvalidVersion:
        return True
