"""The phone's side of festival greetings, offline on the day.

The phone holds the greeting pack of its country and language (canyu.greetings.pack), fetched
only through TUF (python-tuf's ngclient, via :mod:`canyu.client.tuf_fetch`) from the
"greetings" repository as the target ``<CC>/<lang>/pack.cyg``, whose length and hashes the
signed targets metadata vouches for. A pack that does not verify is never used.

Packs cover about a year from the day they are built; :func:`refresh_for_device` (called by the
device's listen cycle) fetches a new one at least daily and whenever the pack held does not cover
the next week, so on the festival itself the phone needs no network. :meth:`GreetingsClient.today`
answers from the pack alone, in the phone's time zone (a festival starts at local midnight).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from tuf.ngclient.fetcher import FetcherInterface

from canyu.client.tuf_fetch import RepositoryUnavailable, UpdateRefused, fetch_pack_file
from canyu.greetings.pack import Due, GreetingPack, PackError, decode, fill

if TYPE_CHECKING:
    from canyu.client.device import Device

PRODUCT = "greetings"
AHEAD = timedelta(days=7)  # the pack held must cover at least this far ahead
CHECK_EVERY = 24 * 3600.0  # seconds between index checks even when the pack covers the week
log = logging.getLogger("canyu.client.greetings")


@dataclass(frozen=True)
class SyncResult:
    country: str
    language: str
    version: int
    how: str  # "current" or "full"
    downloaded: int


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def default_language(country: str) -> str:
    from babel.languages import get_official_languages

    found = get_official_languages(country.upper(), de_facto=True)
    return found[0].split("_")[0] if found else "en"


def default_timezone(country: str) -> str:
    """The country's main time zone (tz database), UTC when none is known."""
    from canyu.greetings.calendar import country_timezone

    return country_timezone(country)


def local_date(timezone: str, now: datetime | None = None) -> date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None
    moment = now or datetime.now(zone)
    return moment.astimezone(zone).date()


class GreetingsClient:
    """One phone's greeting packs under ``data_dir``; ``trusted_root`` is the greetings
    repository's root.json (without one the phone takes the server's first root, once)."""

    def __init__(
        self,
        base_url: str,
        *,
        data_dir: Path,
        trusted_root: bytes | Path | None = None,
        http: httpx.Client | None = None,
        fetcher: FetcherInterface | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.data_dir = data_dir
        self.root_path = data_dir / "greetings" / "root.json"
        self.trusted_root = trusted_root
        self.http = http or httpx.Client(timeout=10.0)
        self.fetcher = fetcher
        self._packs: dict[tuple[str, str], GreetingPack] = {}

    def _pack_path(self, country: str, language: str) -> Path:
        return self.data_dir / "greetings" / country / language / "pack.cyg"

    def _root(self) -> bytes | Path:
        if self.trusted_root is not None:
            return self.trusted_root
        if not self.root_path.exists():  # trust on first use, like registration does
            response = self.http.get(f"{self.base_url}/tuf/{PRODUCT}/metadata/1.root.json")
            if response.status_code >= 500 or response.status_code == 429:
                raise RepositoryUnavailable(f"the server answered {response.status_code}")
            if response.status_code != 200:
                raise UpdateRefused(
                    "1.root.json", f"no greetings repository ({response.status_code})"
                )
            _write_atomic(self.root_path, response.content)
        return self.root_path

    def _fetch(self, target: str) -> bytes:
        return fetch_pack_file(
            self.base_url,
            PRODUCT,
            target,
            trusted_root=self._root(),
            data_dir=self.data_dir,
            fetcher=self.fetcher,
        )

    def pack(self, country: str, language: str) -> GreetingPack | None:
        key = (country.upper(), language)
        if key not in self._packs:
            path = self._pack_path(*key)
            if not path.exists():
                return None
            self._packs[key] = decode(path.read_bytes())
        return self._packs[key]

    def sync(self, country: str, language: str) -> SyncResult:
        """Bring the pack of ``country`` and ``language`` up to date through TUF (its signed
        targets metadata vouches for the pack's length and hashes; an unchanged pack is not
        downloaded again). Raises UpdateRefused when anything does not verify; the pack in use
        then stays as it was."""
        code = country.upper()
        target = f"{code}/{language}/pack.cyg"
        data = self._fetch(target)
        try:
            pack = decode(data)
        except PackError as exc:
            raise UpdateRefused(target, str(exc)) from None
        if (pack.country, pack.language) != (code, language):
            raise UpdateRefused(target, f"pack is for {pack.country}/{pack.language}")
        current = self.pack(code, language)
        if current is not None and current.version == pack.version:
            return SyncResult(code, language, pack.version, "current", 0)
        _write_atomic(self._pack_path(code, language), data)
        self._packs[(code, language)] = pack
        return SyncResult(code, language, pack.version, "full", len(data))

    def today(
        self, country: str, language: str, timezone: str, now: datetime | None = None
    ) -> list[Due]:
        """The festivals of today (in ``timezone``) with their greetings, from the pack alone."""
        pack = self.pack(country, language)
        if pack is None:
            return []
        return pack.due(local_date(timezone, now))

    def needs_refresh(self, country: str, language: str, timezone: str) -> bool:
        pack = self.pack(country, language)
        if pack is None:
            return True
        today = local_date(timezone)
        return not (pack.covers(today) and pack.covers(today + AHEAD))


def sms_text(due: Due, index: int = 0, name: str | None = None) -> str:
    """The text of an SMS with greeting ``index`` of a festival, the recipient's name filled in."""
    if not due.greetings:
        raise ValueError(f"no greetings for {due.festival.name} in this pack")
    if not 0 <= index < len(due.greetings):
        raise ValueError(f"greeting {index + 1} does not exist; there are {len(due.greetings)}")
    return fill(due.greetings[index].text, name)


# --- the device's settings and its listen cycle ---------------------------------------------


@dataclass
class PhoneSettings:
    language: str
    timezone: str
    checked_at: float = 0.0

    @classmethod
    def load(cls, home: Path, country: str) -> PhoneSettings:
        path = home / "greetings.json"
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text())
            return cls(
                str(data["language"]), str(data["timezone"]), float(data.get("checked_at", 0))
            )
        return cls(default_language(country), default_timezone(country))

    def save(self, home: Path) -> None:
        _write_atomic(
            home / "greetings.json",
            json.dumps(
                {
                    "language": self.language,
                    "timezone": self.timezone,
                    "checked_at": self.checked_at,
                }
            ).encode(),
        )


def client_for(device: Device) -> GreetingsClient:
    from canyu.client.device import HttpxFetcher

    state = device._require()
    return GreetingsClient(
        state.server, data_dir=device.home, http=device.client, fetcher=HttpxFetcher(device.client)
    )


def refresh_for_device(device: Device, *, force: bool = False) -> SyncResult | None:
    """Called each listen cycle: fetch the phone's greeting pack when it does not cover the next
    week or was last checked a day ago. Never raises: a failure leaves the pack held in use."""
    state = device._require()
    settings = PhoneSettings.load(device.home, state.country)
    greetings = client_for(device)
    due = force or time.time() - settings.checked_at >= CHECK_EVERY
    if not due and not greetings.needs_refresh(state.country, settings.language, settings.timezone):
        return None
    try:
        result = greetings.sync(state.country, settings.language)
    except (UpdateRefused, RepositoryUnavailable, httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("greeting pack not refreshed: %s", exc)
        return None
    settings.checked_at = time.time()
    settings.save(device.home)
    return result
