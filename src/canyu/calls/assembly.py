"""Assembling a region's offline pack, pure: from its labelled numbers and what changed since
earlier versions, the files a phone fetches (pack, deltas, then the index that names them).

No database and no I/O: canyu.calls.service gathers the inputs, calls :func:`assemble`, then
publishes what it returns. The pack's binary format is canyu.calls.pack's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

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


def target_names(region: str) -> dict[str, str]:
    names = {"pack": f"{region}/pack.cyp", "index": f"{region}/index.json"}
    names.update({span: f"{region}/delta-{span}.cyd" for span, _ in DELTA_SPANS})
    return names


@dataclass(frozen=True)
class DeltaBase:
    """An earlier version a delta starts from, and the keys of the numbers changed since it."""

    span: str
    version: int
    changed: np.ndarray


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
    region: str,
    version: int,
    created: int,
    entries: Iterable[tuple[int, Category]],
    bases: Sequence[DeltaBase],
) -> AssembledPack:
    """The pack of ``region`` at ``version`` from its (pack key, category) entries, with a delta
    from each base, and the index naming them all."""
    pack = Pack.from_entries(region, version, created, entries)
    data = pack.encode()
    sha = hashlib.sha256(data).hexdigest()
    names = target_names(region)
    files: list[tuple[str, bytes]] = [(names["pack"], data)]
    deltas: list[dict[str, Any]] = []
    for base in bases:
        delta = make_delta(pack, base.changed, base_version=base.version)
        files.append((names[base.span], delta))
        deltas.append({"name": names[base.span], "base_version": base.version, "size": len(delta)})
    index = {
        "format": 1,
        "region": region,
        "version": version,
        "created": pack.created,
        "count": pack.count,
        "size": len(data),
        "sha256": sha,
        "pack": names["pack"],
        "deltas": deltas,
    }
    files.append((names["index"], json.dumps(index, sort_keys=True).encode()))
    return AssembledPack(pack, data, sha, files, {d["name"]: d["size"] for d in deltas})
