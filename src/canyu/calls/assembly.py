"""Assembling a zone's offline pack, pure: from its labelled numbers, suspicious numbers and
ranges, and the earlier published versions, the files a phone fetches (pack, exact deltas,
then the index that names them).

No database and no I/O: canyu.calls.service gathers the inputs, calls :func:`assemble`, then
publishes what it returns. The pack's binary format is canyu.calls.pack's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from canyu.calls.pack import Pack, make_delta
from canyu.calls.reputation import Category

# The versions a phone may be on and get a delta from: the previous one, and those of about an
# hour, a day and a week ago.
DELTA_SPANS: tuple[tuple[str, timedelta], ...] = (
    ("prev", timedelta(0)),
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(days=7)),
)


def target_names(zone: str) -> dict[str, str]:
    names = {"pack": f"{zone}/pack.cyp", "index": f"{zone}/index.json"}
    names.update({span: f"{zone}/delta-{span}.cyd" for span, _ in DELTA_SPANS})
    return names


@dataclass(frozen=True)
class DeltaBase:
    """An earlier published version a delta starts from (the delta is the exact difference)."""

    span: str
    pack: Pack


@dataclass(frozen=True)
class AssembledPack:
    pack: Pack
    data: bytes
    sha256: str
    # (target name, content), in the order they must be published: the index last, so that it
    # never names a file not yet there.
    files: list[tuple[str, bytes]]
    deltas: dict[str, int]  # target name -> size

    @property
    def index(self) -> bytes:
        return self.files[-1][1]


def assemble(
    zone: str,
    version: int,
    created: int,
    entries: Iterable[tuple[int, Category]],
    bases: Sequence[DeltaBase],
    *,
    suspicious: Iterable[int] = (),
    ranges: Mapping[int, Iterable[int]] | None = None,
) -> AssembledPack:
    """The pack of ``zone`` at ``version`` from its (pack key, category) entries, suspicious
    keys and ranges, with a delta from each base, and the index naming them all."""
    pack = Pack.from_entries(zone, version, created, entries, suspicious=suspicious, ranges=ranges)
    data = pack.encode()
    sha = hashlib.sha256(data).hexdigest()
    names = target_names(zone)
    files: list[tuple[str, bytes]] = [(names["pack"], data)]
    deltas: list[dict[str, Any]] = []
    for base in bases:
        delta = make_delta(base.pack, pack)
        files.append((names[base.span], delta))
        deltas.append(
            {"name": names[base.span], "base_version": base.pack.version, "size": len(delta)}
        )
    index = {
        "format": 2,
        "zone": zone,
        "version": version,
        "created": pack.created,
        "count": pack.count,
        "suspicious": int(pack.suspicious.size),
        "ranges": {str(d): int(b.size) for d, b in sorted(pack.ranges.items()) if b.size},
        "size": len(data),
        "sha256": sha,
        "pack": names["pack"],
        "deltas": deltas,
    }
    files.append((names["index"], json.dumps(index, sort_keys=True).encode()))
    return AssembledPack(pack, data, sha, files, {d["name"]: d["size"] for d in deltas})
