"""The phone's side of spam-call interception.

* **Private lookups**: for an incoming number the phone sends only the first few hex characters
  of SHA-256(E.164); the server answers every labelled number in that bucket (as hashes) and the
  phone matches locally. The full number never leaves the phone, and nothing here logs it.
* **Offline packs**: per region, a compact exact pack of labelled numbers (canyu.calls.pack),
  downloaded only through TUF (python-tuf's ngclient, via :mod:`canyu.client.tuf_fetch`) from the
  "calls" repository: ``<region>/index.json`` names the version and the deltas on offer; the phone
  applies a delta when it holds a version the delta starts from (checking the result's SHA-256),
  else downloads the full ``<region>/pack.cyp``. A pack that does not verify is never used.
* **is_spam(number)**: offline answer from the pack, "(spam?, category)".
* **SMS**: classifies incoming messages with the model trained by ``canyu calls train-sms``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tuf.ngclient.fetcher import FetcherInterface

from canyu.calls import numbers
from canyu.calls.pack import PackError, PackReader, apply_delta, decode
from canyu.calls.reputation import BLOCKING, Category
from canyu.client.tuf_fetch import UpdateRefused, fetch_pack_file

PRODUCT = "calls"


@dataclass(frozen=True)
class Verdict:
    spam: bool
    category: str | None
    reporters: int = 0


@dataclass(frozen=True)
class SyncResult:
    region: str
    version: int
    how: str  # "current", "delta" or "full"
    downloaded: int  # bytes of pack or delta fetched


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


class CallsClient:
    """One phone. ``token`` is its device token (or a friend's API token); ``data_dir`` keeps
    the packs and the TUF metadata it trusts; ``trusted_root`` is the calls repository's root.json
    it shipped with."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        data_dir: Path,
        trusted_root: bytes | Path | None = None,
        default_region: str = "CN",
        http: httpx.Client | None = None,
        fetcher: FetcherInterface | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.data_dir = data_dir
        self.trusted_root = trusted_root
        self.default_region = default_region
        self.http = http or httpx.Client(base_url=self.base_url, timeout=10.0)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.fetcher = fetcher
        self._prefix_length: int | None = None
        self._packs: dict[str, PackReader] = {}
        self._sms: Any = None

    # --- private lookups ------------------------------------------------------------------------

    def _get(self, path: str) -> httpx.Response:
        return self.http.get(path, headers=self.headers)

    def prefix_length(self, *, refresh: bool = False) -> int:
        if self._prefix_length is None or refresh:
            response = self._get("/api/v1/calls/lookup")
            response.raise_for_status()
            self._prefix_length = int(response.json()["prefix_length"])
        return self._prefix_length

    def lookup(self, number: str, region: str | None = None) -> Verdict:
        """Ask the server about ``number`` without telling it the number."""
        phone = numbers.normalise(number, region or self.default_region)
        digest = numbers.number_hash(phone.e164)
        for attempt in (0, 1):
            prefix = digest[: self.prefix_length(refresh=attempt == 1)]
            response = self._get(f"/api/v1/calls/lookup/{prefix}")
            if response.status_code == 422 and attempt == 0:
                continue  # the prefix length moved with the number of labelled numbers
            response.raise_for_status()
            for entry in response.json()["entries"]:
                if entry["hash"] == digest:
                    category = str(entry["category"])
                    return Verdict(
                        Category(category) in BLOCKING, category, int(entry["reporters"])
                    )
            return Verdict(False, None)
        raise AssertionError("unreachable")

    # --- offline packs --------------------------------------------------------------------------

    def _region_dir(self, region: str) -> Path:
        return self.data_dir / "calls" / region

    def _fetch(self, target: str) -> bytes:
        return fetch_pack_file(
            self.base_url,
            PRODUCT,
            target,
            trusted_root=self.trusted_root,
            data_dir=self.data_dir,
            fetcher=self.fetcher,
        )

    def current_pack(self, region: str) -> PackReader | None:
        if region not in self._packs:
            path = self._region_dir(region) / "pack.cyp"
            if not path.exists():
                return None
            self._packs[region] = PackReader(path.read_bytes())
        return self._packs[region]

    def sync_pack(self, region: str | None = None) -> SyncResult:
        """Bring the region's pack up to date through TUF: a delta when one applies, else the
        full pack. Raises UpdateRefused when the repository does not verify; the pack in use
        stays as it was."""
        code = (region or self.default_region).upper()
        index = json.loads(self._fetch(f"{code}/index.json"))
        current = self.current_pack(code)
        version = int(index["version"])
        if current is not None and current.header.version == version:
            return SyncResult(code, version, "current", 0)
        if current is not None:
            candidates = sorted(
                (
                    d
                    for d in index.get("deltas", [])
                    if d["base_version"] <= current.header.version
                    and int(d["size"]) < int(index["size"])
                ),
                key=lambda d: int(d["size"]),
            )
            for delta in candidates[:1]:
                data = self._fetch(str(delta["name"]))
                try:
                    _pack, encoded = apply_delta(current.to_pack(), data)
                except PackError:
                    break  # e.g. a newer delta than the index named: take the full pack
                if hashlib.sha256(encoded).hexdigest() == index["sha256"]:
                    self._install(code, encoded)
                    return SyncResult(code, version, "delta", len(data))
        data = self._fetch(str(index["pack"]))
        reader = PackReader(data)  # raises PackError for a malformed pack
        if reader.header.country != code:
            raise UpdateRefused(str(index["pack"]), f"pack is for {reader.header.country}")
        self._install(code, data)
        return SyncResult(code, reader.header.version, "full", len(data))

    def _install(self, region: str, data: bytes) -> None:
        reader = PackReader(data)
        _write_atomic(self._region_dir(region) / "pack.cyp", data)
        self._packs[region] = reader

    def is_spam(self, number: str, region: str | None = None) -> tuple[bool, str | None]:
        """Offline: (should the phone intercept it, its category) from the pack of the number's
        region; (False, None) for unknown numbers, unparsable ones and regions without a pack."""
        found = numbers.e164_and_region(number, region or self.default_region)
        if found is None:
            return False, None
        e164, number_region = found
        reader = self.current_pack(number_region)
        if reader is None:
            return False, None
        category = reader.lookup(numbers.pack_key(e164))
        if category is None:
            return False, None
        return category in BLOCKING, category.value

    # --- SMS ------------------------------------------------------------------------------------

    def load_sms_model(self, path: Path) -> None:
        from canyu.calls.sms import SmsClassifier

        self._sms = SmsClassifier.load(path)

    def classify_sms(self, text: str) -> tuple[bool, float]:
        """(spam?, score) for an incoming message; needs :meth:`load_sms_model` first."""
        if self._sms is None:
            raise RuntimeError("no SMS model loaded")
        spam, score = self._sms.is_spam(text)
        return bool(spam), float(score)


def pack_from_file(path: Path) -> PackReader:
    return PackReader(path.read_bytes())


__all__ = ["CallsClient", "SyncResult", "UpdateRefused", "Verdict", "decode", "pack_from_file"]
