"""The phone's side of spam-call interception.

* **Private lookups**: for an incoming number the phone sends only the first few hex characters
  of SHA-256(E.164); the server answers every labelled number in that bucket (as hashes) and the
  phone matches locally. The full number never leaves the phone, and nothing here logs it.
* **Offline packs**: per calling zone (+1 is one pack for the US, Canada and the Caribbean), a
  compact exact pack of labelled numbers, suspicious numbers and suspicious ranges
  (canyu.calls.pack), downloaded only through TUF (python-tuf's ngclient, via
  :mod:`canyu.client.tuf_fetch`) from the "calls" repository: ``<zone>/index.json`` names the
  version and the deltas on offer; the phone applies the exact delta from the version it holds
  (checking the result's SHA-256), else downloads the full ``<zone>/pack.cyp``. A pack that does
  not verify is never used. A phone syncs its home zone and the zones it gets calls from
  (:meth:`CallsClient.sync_zones`).
* **check(number)**: offline :class:`Verdict` from the packs: ``action`` is ``"block"`` (an exact
  label that intercepts), ``"warn"`` (a suspicious number or range: ring, but show a warning)
  or ``"none"``. **is_spam(number)** is its short form, "(block?, category)", with category
  ``"suspicious"`` for a warning.
* **SMS**: classifies incoming messages with the model trained by ``canyu calls train-sms``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
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


BLOCK, WARN, NONE = "block", "warn", "none"
SUSPICIOUS = "suspicious"


@dataclass(frozen=True)
class Verdict:
    """What to do with a call: ``spam`` is True exactly when ``action`` is "block"; "warn" rings
    through with a warning (category "suspicious"); a delivery label is "none" with its category
    (shown, not intercepted)."""

    spam: bool
    category: str | None
    reporters: int = 0
    action: str = NONE

    @classmethod
    def of_label(cls, category: Category, reporters: int = 0) -> Verdict:
        blocks = category in BLOCKING
        return cls(blocks, category.value, reporters, BLOCK if blocks else NONE)


NO_VERDICT = Verdict(False, None)
WARN_VERDICT = Verdict(False, SUSPICIOUS, 0, WARN)


@dataclass(frozen=True)
class SyncResult:
    zone: str  # the calling code, "1" or "86"
    version: int
    how: str  # "current", "delta" or "full"
    downloaded: int  # bytes of pack or delta fetched

    @property
    def region(self) -> str:  # the name it had when packs were per region
        return self.zone


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
        default_region: str | None = None,
        http: httpx.Client | None = None,
        fetcher: FetcherInterface | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.data_dir = data_dir
        self.trusted_root = trusted_root
        # For numbers written without +country code: the phone's own region (or the
        # deployment's CANYU_DEFAULT_REGION); without one such numbers are not looked up.
        self.default_region = default_region or os.environ.get("CANYU_DEFAULT_REGION") or None
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
                    return Verdict.of_label(Category(entry["category"]), int(entry["reporters"]))
            return NO_VERDICT
        raise AssertionError("unreachable")

    # --- offline packs --------------------------------------------------------------------------

    def _zone_dir(self, zone: str) -> Path:
        return self.data_dir / "calls" / zone

    def _zone(self, region: str | None) -> str:
        """The zone of "US", "1" or "+1"; None means the phone's own region's."""
        value = region or self.default_region
        if not value:
            raise ValueError("no zone given and no default region")
        return numbers.parse_zone(value)

    def _fetch(self, target: str) -> bytes:
        return fetch_pack_file(
            self.base_url,
            PRODUCT,
            target,
            trusted_root=self.trusted_root,
            data_dir=self.data_dir,
            fetcher=self.fetcher,
        )

    def current_pack(self, zone: str) -> PackReader | None:
        """The pack in use for a zone ("1", "86"; a region is taken as its zone)."""
        zone = self._zone(zone)
        if zone not in self._packs:
            path = self._zone_dir(zone) / "pack.cyp"
            if not path.exists():
                return None
            self._packs[zone] = PackReader(path.read_bytes())
        return self._packs[zone]

    def sync_zones(
        self, home: str | None = None, calls_from: Iterable[str] = ()
    ) -> list[SyncResult]:
        """The phone's home zone and the zones it gets calls from (regions or zones), each
        once."""
        zones = dict.fromkeys([self._zone(home), *(self._zone(z) for z in calls_from)])
        return [self.sync_pack(zone) for zone in zones]

    def sync_pack(self, region: str | None = None) -> SyncResult:
        """Bring a zone's pack (``region`` is a zone or a region of it) up to date through TUF:
        the exact delta from the version held when there is one, else the full pack. Raises
        UpdateRefused when the repository does not verify; the pack in use stays as it was."""
        code = self._zone(region)
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
                # The delta from exactly this version first: it is the one sure to apply.
                key=lambda d: (d["base_version"] != current.header.version, int(d["size"])),
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
            raise UpdateRefused(str(index["pack"]), f"pack is for zone {reader.header.country}")
        self._install(code, data)
        return SyncResult(code, reader.header.version, "full", len(data))

    def _install(self, zone: str, data: bytes) -> None:
        reader = PackReader(data)
        _write_atomic(self._zone_dir(zone) / "pack.cyp", data)
        self._packs[zone] = reader

    def check(self, number: str, region: str | None = None) -> Verdict:
        """Offline verdict from the pack of the number's zone: an exact label first ("block",
        or "none" with the category for delivery), then the warn-only signals (the number was
        reported, or lies in a suspicious range: "warn"), else "none". Unknown and unparsable
        numbers and zones without a pack give "none"."""
        found = numbers.e164_and_region(number, region or self.default_region)
        if found is None:
            return NO_VERDICT
        e164 = found[0]
        reader = self.current_pack(numbers.zone_of_e164(e164))
        if reader is None:
            return NO_VERDICT
        key = numbers.pack_key(e164)
        category = reader.lookup(key)
        if category is not None:
            return Verdict.of_label(category)
        return WARN_VERDICT if reader.is_suspicious(key) else NO_VERDICT

    def is_spam(self, number: str, region: str | None = None) -> tuple[bool, str | None]:
        """Offline: (should the phone intercept it, its category): :meth:`check` in short;
        (False, "suspicious") for a warning, (False, None) for nothing known."""
        verdict = self.check(number, region)
        return verdict.spam, verdict.category

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


__all__ = [
    "BLOCK",
    "NONE",
    "WARN",
    "CallsClient",
    "SyncResult",
    "UpdateRefused",
    "Verdict",
    "decode",
    "pack_from_file",
]
