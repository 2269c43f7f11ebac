"""The phone's side of free Wi-Fi: offline packs of nearby hotspots, one-tap connect artefacts
and the friend's report of how it went.

* **Packs** come only through TUF (the "hotspots" repository beside the builds' and the spam
  packs', via :mod:`canyu.client.tuf_fetch`): ``<region>/index.json`` names the version and the
  deltas on offer; a delta is applied when one starts from the version held (the result must
  match the index's SHA-256), else the full ``<region>/pack.cyw`` is fetched. A region is an
  H3 resolution-3 cell; the phone keeps the packs of its own cell and the ring around it.
* **near** and **connect** read the packs only: they work with no network at all.
* **report** sends "worked / failed / login" with the friend's API token; when the network is
  not there it waits in a small queue and goes with the next report.

Speaks HTTP only; the codec (canyu.hotspots.pack) and the artefacts (canyu.hotspots.connect)
are pure modules shared with the server.
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
from h3.api import basic_int as h3
from tuf.ngclient.fetcher import FetcherInterface

from canyu.client.tuf_fetch import UpdateRefused, fetch_pack_file
from canyu.hotspots import connect
from canyu.hotspots.pack import Extra, Kind, PackError, PackReader, Record, apply_delta

PRODUCT = "hotspots"
REGION_RES = 3
KIND_NAMES = {
    Kind.OPEN: "open",
    Kind.CAPTIVE: "captive",
    Kind.PASSWORD: "password",
    Kind.PASSPOINT: "passpoint",
}


class WifiError(Exception):
    pass


CAPTIVE_JSON = "application/captive+json"


@dataclass(frozen=True)
class PortalState:
    """What a hotspot's RFC 8908 Captive Portal API says about this phone's session."""

    captive: bool
    user_portal_url: str | None = None
    venue_info_url: str | None = None
    seconds_remaining: float | None = None
    bytes_remaining: float | None = None
    can_extend_session: bool = False

    def advice(self) -> str:
        """What to do next, in a sentence."""
        if self.captive:
            where = self.user_portal_url or "the hotspot's login page"
            return f"Not online yet: sign in at {where}, then report --outcome login."
        left = []
        if self.seconds_remaining is not None:
            left.append(f"{int(self.seconds_remaining) // 60} min")
        if self.bytes_remaining is not None:
            left.append(f"{int(self.bytes_remaining) // 1_000_000} MB")
        text = "Online: the portal lets this phone through"
        if left:
            text += f" ({' and '.join(left)} left"
            text += f"; extend at {self.user_portal_url})" if self.can_extend_session else ")"
        return text + "."


def captive_portal(http: httpx.Client, api_url: str) -> PortalState:
    """Ask a hotspot's Captive Portal API (RFC 8908) whether this phone is still held by the
    portal: ``GET`` with ``Accept: application/captive+json``, over HTTPS only (the RFC's
    requirement: the answer decides where the phone sends its user)."""
    if not api_url.lower().startswith("https://"):
        raise WifiError(f"the captive portal API must be HTTPS (RFC 8908): {api_url}")
    try:
        response = http.get(api_url, headers={"Accept": CAPTIVE_JSON}, follow_redirects=False)
    except httpx.HTTPError as e:
        raise WifiError(f"the captive portal API did not answer: {e}") from None
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.status_code != 200 or kind != CAPTIVE_JSON:
        raise WifiError(
            f"the captive portal API answered {response.status_code} {kind or 'without a type'}"
            f", not {CAPTIVE_JSON}"
        )
    try:
        body = response.json()
    except ValueError:
        raise WifiError("the captive portal API answered invalid JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("captive"), bool):
        raise WifiError('the captive portal API\'s answer has no boolean "captive"')

    def text(key: str) -> str | None:
        value = body.get(key)
        # Where the phone is sent must be HTTPS too (RFC 8908, section 5).
        return value if isinstance(value, str) and value.lower().startswith("https://") else None

    def number(key: str) -> float | None:
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        return None

    return PortalState(
        captive=body["captive"],
        user_portal_url=text("user-portal-url"),
        venue_info_url=text("venue-info-url"),
        seconds_remaining=number("seconds-remaining"),
        bytes_remaining=number("bytes-remaining"),
        can_extend_session=body.get("can-extend-session") is True,
    )


@dataclass(frozen=True)
class SyncResult:
    region: str
    version: int
    how: str  # "current", "delta" or "full"
    downloaded: int


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def regions_around(lat: float, lon: float) -> list[str]:
    centre = h3.latlng_to_cell(lat, lon, REGION_RES)
    return [h3.int_to_str(c) for c in [centre, *sorted(set(h3.grid_disk(centre, 1)) - {centre})]]


class WifiClient:
    """One phone's Wi-Fi side. ``data_dir`` keeps packs, the TUF metadata it trusts and the
    report queue; ``trusted_root`` is the hotspots repository's root.json."""

    def __init__(
        self,
        base_url: str | None,
        *,
        data_dir: Path,
        token: str | None = None,
        trusted_root: bytes | Path | None = None,
        http: httpx.Client | None = None,
        fetcher: FetcherInterface | None = None,
    ) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self.data_dir = data_dir
        self.token = token
        self.trusted_root = trusted_root
        self.http = http or httpx.Client(timeout=10.0)
        self.fetcher = fetcher
        self._packs: dict[str, PackReader] = {}

    # --- packs ----------------------------------------------------------------------------------

    def _pack_path(self, region: str) -> Path:
        return self.data_dir / "hotspots" / region / "pack.cyw"

    def _fetch(self, target: str) -> bytes:
        return fetch_pack_file(
            self.base_url,
            PRODUCT,
            target,
            trusted_root=self.trusted_root,
            data_dir=self.data_dir,
            fetcher=self.fetcher,
        )

    def pack(self, region: str) -> PackReader | None:
        if region not in self._packs:
            path = self._pack_path(region)
            if not path.exists():
                return None
            try:
                self._packs[region] = PackReader(path.read_bytes())
            except PackError:
                return None
        return self._packs[region]

    def held_regions(self) -> list[str]:
        root = self.data_dir / "hotspots"
        return sorted(p.parent.name for p in root.glob("*/pack.cyw")) if root.exists() else []

    def sync(self, region: str) -> SyncResult:
        """Bring one region's pack up to date through TUF; the pack in use stays as it was when
        anything does not verify."""
        try:
            index = json.loads(self._fetch(f"{region}/index.json"))
        except UpdateRefused as e:
            if "do not list it" in e.reason:
                raise WifiError(f"no pack for region {region} yet") from None
            raise
        version = int(index["version"])
        current = self.pack(region)
        if current is not None and current.header.version == version:
            return SyncResult(region, version, "current", 0)
        if current is not None:
            usable = sorted(
                (
                    d
                    for d in index.get("deltas", [])
                    if int(d["base_version"]) == current.header.version
                ),
                key=lambda d: int(d["size"]),
            )
            for delta in usable[:1]:
                data = self._fetch(str(delta["name"]))
                try:
                    encoded = apply_delta(current.header, current.records, data)
                except PackError:
                    break
                if hashlib.sha256(encoded).hexdigest() == index["sha256"]:
                    self._install(region, encoded)
                    return SyncResult(region, version, "delta", len(data))
        data = self._fetch(str(index["pack"]))
        if hashlib.sha256(data).hexdigest() != index["sha256"]:
            raise UpdateRefused(str(index["pack"]), "pack does not match its index")
        reader = PackReader(data)
        if reader.header.region != region:
            raise UpdateRefused(str(index["pack"]), f"pack is for {reader.header.region}")
        self._install(region, data)
        return SyncResult(region, version, "full", len(data))

    def sync_around(self, lat: float, lon: float) -> list[SyncResult]:
        """The packs of the position's region and of those around it that have one."""
        done = []
        for region in regions_around(lat, lon):
            try:
                done.append(self.sync(region))
            except WifiError:
                continue
        return done

    def _install(self, region: str, data: bytes) -> None:
        reader = PackReader(data)
        _write_atomic(self._pack_path(region), data)
        self._packs[region] = reader

    # --- offline --------------------------------------------------------------------------------

    def near(
        self, lat: float, lon: float, *, radius_m: float = 1000.0, limit: int = 20
    ) -> list[tuple[float, Record]]:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise WifiError("latitude must be within -90..90 and longitude within -180..180")
        found: list[tuple[float, Record]] = []
        for region in regions_around(lat, lon):
            reader = self.pack(region)
            if reader is not None:
                found += reader.near(lat, lon, radius_m=radius_m, limit=limit)
        return sorted(found, key=lambda item: (item[0], item[1].id))[:limit]

    def find(self, hotspot_id: int) -> Record | None:
        for region in self.held_regions():
            reader = self.pack(region)
            if reader is not None and (record := reader.get(hotspot_id)) is not None:
                return record
        return None

    def artefact(self, hotspot_id: int) -> dict[str, Any]:
        """What joins the network, from the pack alone; a Passpoint profile (too large for the
        pack) is fetched when the network is there."""
        record = self.find(hotspot_id)
        if record is None:
            raise WifiError(f"hotspot {hotspot_id} is not in the packs on this phone")
        kind = KIND_NAMES[record.kind]
        if record.kind is Kind.PASSPOINT:
            try:
                return self._online_artefact(hotspot_id)
            except (httpx.HTTPError, WifiError):
                kind = "open"
        return connect.artefact(
            kind=kind,
            ssid=record.ssid,
            password=record.extras.get(Extra.PASSWORD),
            portal_url=record.extras.get(Extra.PORTAL_URL),
            portal_api=record.extras.get(Extra.PORTAL_API),
        )

    def portal_state(self, artefact: dict[str, Any]) -> PortalState | None:
        """The captive portal API's answer for a captive hotspot that has one, else None."""
        api = artefact.get("portal_api")
        return captive_portal(self.http, api) if artefact.get("type") == "captive" and api else None

    def _online_artefact(self, hotspot_id: int) -> dict[str, Any]:
        if not self.base_url or not self.token:
            raise WifiError("the Passpoint profile needs the network and a friend's token")
        response = self.http.get(
            f"{self.base_url}/api/v1/hotspots/{hotspot_id}/connect", headers=self._headers()
        )
        response.raise_for_status()
        artefact: dict[str, Any] = response.json()["artefact"]
        return artefact

    @staticmethod
    def qr_png(payload: str, path: Path) -> Path:
        import segno

        segno.make(payload, error="m").save(str(path), kind="png", scale=8)
        return path

    # --- reports --------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _queue_path(self) -> Path:
        return self.data_dir / "hotspots" / "pending-reports.json"

    def report(self, hotspot_id: int, outcome: str) -> dict[str, Any]:
        """Send this report (and any queued). Returns {"sent": n, "queued": m, "last": ...}."""
        if outcome not in ("worked", "failed", "login"):
            raise WifiError("outcome is one of: worked, failed, login")
        path = self._queue_path()
        queue: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
        queue.append({"id": hotspot_id, "outcome": outcome})
        sent, last, kept = 0, None, []
        for i, item in enumerate(queue):
            if not self.base_url or not self.token:
                kept = queue[i:]
                break
            try:
                response = self.http.post(
                    f"{self.base_url}/api/v1/hotspots/{item['id']}/confirmations",
                    json={"outcome": item["outcome"]},
                    headers=self._headers(),
                )
            except httpx.TransportError:
                kept = queue[i:]
                break
            if response.status_code >= 500:
                kept = queue[i:]
                break
            sent += 1
            last = {"status": response.status_code, **response.json()}
        _write_atomic(path, json.dumps(kept).encode())
        return {"sent": sent, "queued": len(kept), "last": last}


__all__ = ["SyncResult", "WifiClient", "WifiError", "regions_around"]
