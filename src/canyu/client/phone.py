"""The phone's services on top of the registered device (canyu.client.device): screening calls,
marking numbers, the SMS classifier, notices and feedback. HTTP and MQTT only.

**An incoming call** is decided the way a phone must, fast and mostly offline:

1. the friend's own rules that name the caller (hidden numbers, a block or allow rule for the
   number or a prefix, contacts) decide without looking anything up;
2. else the signed offline pack of the number's calling zone (canyu.client.calls, verified
   through TUF and checked against the SHA-256 this phone recorded when it installed it);
3. else, when online, the private k-anonymous lookup (only a short prefix of the number's hash
   leaves the phone);
4. a labelled number then gets the friend's action for its category (block, warn or ring). A
   category this phone does not know yet, such as a "suspicious" one from a newer server, warns.

**SMS**: the classifier is the plain-weights model (canyu.calls.sms.SmsWeights) published per
language as a signed target of the calls TUF repository; the phone verifies it through TUF and
against its recorded SHA-256 before loading it, and never unpickles anything.

:func:`refresh_for_device` keeps the pack, the model and the notices fresh from ``listen``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from canyu.calls import numbers
from canyu.calls.pack import PackError
from canyu.calls.sms import SmsWeights, WeightsError
from canyu.client.calls import PRODUCT, WARN, CallsClient
from canyu.client.rules import Action
from canyu.client.state import (
    HeldFile,
    PhoneState,
    StateRefused,
    StateStore,
    sha256_file,
    write_atomic,
)
from canyu.client.tuf_fetch import RepositoryUnavailable, UpdateRefused, fetch_pack_file

if TYPE_CHECKING:
    from tuf.ngclient.fetcher import FetcherInterface

    from canyu.client.device import Device

log = logging.getLogger("canyu.client.phone")
HIDDEN = {"", "hidden", "private", "unknown", "anonymous"}
LOOKUP_TIMEOUT = httpx.Timeout(3.0, connect=2.0)  # a ringing phone cannot wait long
NOTICES_PATH = "/api/v1/devices/notices"


@dataclass(frozen=True)
class CallDecision:
    number: str | None  # E.164, None for a hidden number
    action: Action
    category: str | None = None
    reporters: int | None = None  # friends who marked it, when the server said
    source: str = "none"  # "rule", "pack", "lookup" or "none"
    reason: str = ""

    @property
    def label(self) -> str | None:
        return self.category.replace("_", " ").capitalize() if self.category else None

    def describe(self) -> str:
        parts = [self.number or "hidden number"]
        if self.label:
            parts.append(self.label)
        if self.reporters:
            parts.append(f"marked by {self.reporters:,} friends")
        parts.append(f"{self.action.value.upper()} ({self.reason})")
        return " — ".join(parts)


@dataclass
class SyncReport:
    """What one full sync did: per part "current", "delta", "full", "new" or why it failed."""

    parts: dict[str, str]
    downloaded: int = 0  # bytes of packs and models
    notices: int = 0  # new notices


class Phone:
    """A registered device's services. ``http`` (with the server as its base URL) and
    ``fetcher`` (TUF's downloads) replace the phone's own clients in tests."""

    def __init__(
        self,
        device: Device,
        *,
        http: httpx.Client | None = None,
        fetcher: FetcherInterface | None = None,
    ) -> None:
        from canyu.client.device import HttpxFetcher

        state = device._require()
        self.device = device
        self.home = device.home
        self.store = StateStore(device.home)
        self.refused: str | None = None  # why the saved state was refused, if it was
        try:
            self.state = self.store.load()
        except StateRefused as exc:
            self.refused = str(exc)
            log.warning("%s; starting afresh and fetching packs and model again", exc)
            self.state = PhoneState()
            self._forget_files()
        self.http = http or httpx.Client(base_url=state.server, timeout=LOOKUP_TIMEOUT)
        self.fetcher = fetcher or HttpxFetcher(self.http)
        self.calls = CallsClient(
            state.server,
            state.token or "",
            data_dir=device.home,
            trusted_root=None,
            default_region=state.country,
            http=self.http,
            fetcher=self.fetcher,
        )
        self._models: dict[str, SmsWeights] = {}
        self._checked: set[str] = set()
        self._downloaded = 0  # bytes the last sync step fetched

    def close(self) -> None:
        self.http.close()

    def save(self) -> None:
        self.store.save(self.state)

    # --- files this phone holds --------------------------------------------------------------

    def _forget_files(self) -> None:
        """After a refused state nothing on disk can be vouched for: drop packs and models."""
        for folder in (self.home / "calls", self.home / "sms"):
            for path in folder.rglob("*") if folder.exists() else ():
                if path.is_file() and path.name != "root.json":
                    path.unlink()

    def _root(self) -> Path:
        """The calls repository's root.json: trusted on first use, like registration's."""
        path = self.home / "calls" / "root.json"
        if not path.exists():
            response = self.http.get(f"/tuf/{PRODUCT}/metadata/1.root.json")
            if response.status_code != 200:
                raise UpdateRefused("1.root.json", f"no calls repository ({response.status_code})")
            write_atomic(path, response.content)
        return path

    def _fetch(self, target: str) -> bytes:
        return fetch_pack_file(
            self.calls.base_url,
            PRODUCT,
            target,
            trusted_root=self._root(),
            data_dir=self.home,
            fetcher=self.fetcher,
        )

    def _pack_ok(self, zone: str) -> bool:
        """Whether the zone's pack on disk is the one this phone verified; a changed one is
        deleted (and fetched again at the next sync), never read."""
        if zone in self._checked:
            return True
        path = self.home / "calls" / zone / "pack.cyp"
        held = self.state.packs.get(zone)
        if held is not None and self.store.held_file_ok(held):
            self._checked.add(zone)
            return True
        if path.exists():
            log.warning("the %s pack does not match the one installed: refused", zone)
            path.unlink()
        self.calls._packs.pop(zone, None)
        if held is not None:
            del self.state.packs[zone]
            self.save()
        return False

    # --- calls -------------------------------------------------------------------------------

    def screen(self, number: str | None, *, online: bool = True) -> CallDecision:
        """Ring, warn or block an incoming call (see the module's docstring for the order)."""
        rules = self.state.rules
        raw = (number or "").strip()
        if raw.lower() in HIDDEN:
            own = rules.personal(None)
            if own is not None:
                return CallDecision(None, own[0], source="rule", reason=own[1])
            return CallDecision(None, Action.RING, reason="hidden number, no rule for it")
        found = numbers.e164_and_region(raw, self.calls.default_region)
        if found is None:
            return CallDecision(raw, Action.WARN, reason="not a valid number")
        e164 = found[0]
        own = rules.personal(e164)
        if own is not None:
            return CallDecision(e164, own[0], source="rule", reason=own[1])
        category: str | None = None
        source = "none"
        suspicious = False
        if self._pack_ok(numbers.zone_of_e164(e164)):
            try:
                offline = self.calls.check(e164)
            except PackError:  # unreadable although its hash matched: treat as absent
                offline = None
            if offline is not None and offline.action == WARN:
                suspicious, source = True, "pack"
            elif offline is not None and offline.category:
                category, source = offline.category, "pack"
        reporters: int | None = None
        if online:
            try:
                verdict = self.calls.lookup(e164)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log.info("lookup unavailable: %s", type(exc).__name__)
            else:
                reporters = verdict.reporters or None
                suspicious = suspicious or verdict.action == WARN
                if category is None and verdict.category:
                    category, source = verdict.category, "lookup"
        action = rules.for_category(category, suspicious=suspicious)
        if category is None:
            reason = "suspicious" if suspicious else "no friend marked it"
        else:
            reason = f"your action for {category}"
        return CallDecision(e164, action, category, reporters, source, reason)

    def mark(self, number: str, category: str, region: str | None = None) -> dict[str, Any]:
        """Mark a number as this device's owner (the device token authenticates)."""
        body = {"number": number, "category": category, "region": region}
        return dict(self._api("POST", "/api/v1/calls/marks", json=body).json())

    def unmark(self, number: str) -> None:
        found = numbers.e164_and_region(number, self.calls.default_region)
        self._api("DELETE", f"/api/v1/calls/marks/{found[0] if found else number}")

    def _api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        token = self.device._require().token
        headers = {"Authorization": f"Bearer {token}"}
        return self.device._request(method, path, headers=headers, **kwargs)

    def sync_pack(self, region: str | None = None) -> str:
        wanted = region or self.calls.default_region
        if not wanted:
            raise ValueError("no region given and the phone has no country")
        code = numbers.parse_zone(wanted)
        self._pack_ok(code)
        self.calls.trusted_root = self._root()
        result = self.calls.sync_pack(code)
        path = self.home / "calls" / code / "pack.cyp"
        digest = sha256_file(path)
        if digest is not None:
            self.state.packs[code] = HeldFile(f"calls/{code}/pack.cyp", result.version, digest)
            self._checked.add(code)
        self.state.synced["calls"] = time.time()
        self.save()
        self._downloaded = result.downloaded
        return result.how

    # --- SMS ---------------------------------------------------------------------------------

    def sync_sms(self, language: str | None = None) -> str:
        """Fetch the language's model when the signed index names a newer one."""
        code = language or self.state.sms_language
        index = json.loads(self._fetch(f"sms/{code}/index.json"))
        held = self.state.sms.get(code)
        self._downloaded = 0
        if held is not None and held.version == int(index["version"]) and self._model_ok(code):
            return "current"
        data = self._fetch(str(index["model"]))
        try:
            model = SmsWeights.from_bytes(data)
        except WeightsError as exc:
            raise UpdateRefused(str(index["model"]), str(exc)) from None
        relative = f"sms/{code}/model.cysms"
        write_atomic(self.home / relative, data)
        self.state.sms[code] = HeldFile(relative, model.version, index["sha256"])
        self.state.synced["sms"] = time.time()
        self.save()
        self._models[code] = model
        self._downloaded = len(data)
        return "new"

    def _model_ok(self, code: str) -> bool:
        held = self.state.sms.get(code)
        if held is not None and self.store.held_file_ok(held):
            return True
        if held is not None:
            log.warning("the %s SMS model does not match the one installed: refused", code)
            (self.home / held.path).unlink(missing_ok=True)
            del self.state.sms[code]
            self._models.pop(code, None)
            self.save()
        return False

    def sms_model(self, language: str | None = None) -> SmsWeights:
        """The verified model; fetches it when none is held (or the one held was refused)."""
        code = language or self.state.sms_language
        if code in self._models:
            return self._models[code]
        if not self._model_ok(code):
            self.sync_sms(code)
        if code not in self._models:
            held = self.state.sms[code]
            self._models[code] = SmsWeights.from_bytes((self.home / held.path).read_bytes())
        return self._models[code]

    def classify_sms(self, text: str, language: str | None = None) -> tuple[bool, float, int]:
        """(spam?, score, model version), on the device."""
        model = self.sms_model(language)
        spam, score = model.is_spam(text)
        return spam, score, model.version

    def report_sms(self, text: str, label: str, language: str | None = None) -> dict[str, Any]:
        """Tell the platform this message is really ``label`` ("spam" it let through, "ham" it
        flagged): the next training run learns from it."""
        code = language or self.state.sms_language
        held = self.state.sms.get(code)
        body = {
            "text": text,
            "label": label,
            "language": code,
            "model_version": held.version if held else None,
        }
        return dict(self._api("POST", "/api/v1/calls/sms/reports", json=body).json())

    # --- notices and feedback -------------------------------------------------------------

    def fetch_notices(self) -> int:
        """New notices since the last one held; returns how many arrived."""
        data = self._api("GET", NOTICES_PATH, params={"after": self.state.last_notice}).json()
        fresh = self.state.add_notices(list(data["notices"]))
        self.state.last_notice = max(self.state.last_notice, int(data["last_id"]))
        self.state.synced["notices"] = time.time()
        self.save()
        return fresh

    def similar_posts(self, text: str, k: int = 5) -> list[dict[str, Any]]:
        response = self.device._request(
            "GET", "/api/v1/feedback/similar", params={"q": text[:500], "k": k}
        )
        return list(response.json())

    def feedback(
        self, *, title: str, body: str = "", log_text: str | None = None, kind: str = "bug"
    ) -> dict[str, Any]:
        body_json = {"kind": kind, "title": title, "body": body, "log": log_text}
        return dict(self._api("POST", "/api/v1/devices/feedback", json=body_json).json())

    # --- everything at once (listen) ------------------------------------------------------

    def sync_all(self) -> SyncReport:
        """The pack of the phone's region, its SMS model and its notices; each part that fails
        leaves what the phone holds in use and is tried again next time."""
        report = SyncReport(parts={})
        for name, step in (("calls", self.sync_pack), ("sms", self.sync_sms)):
            self._downloaded = 0
            try:
                report.parts[name] = step()
            except (UpdateRefused, RepositoryUnavailable, PackError, WeightsError) as exc:
                report.parts[name] = f"refused: {exc}"
            except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
                report.parts[name] = f"failed: {exc}"
            report.downloaded += self._downloaded
        from canyu.client.device import DeviceError

        try:
            report.notices = self.fetch_notices()
            report.parts["notices"] = f"{report.notices} new"
        except DeviceError as exc:
            report.parts["notices"] = f"failed: {exc.message}"
        return report


def refresh_for_device(device: Device) -> SyncReport | None:
    """Called each listen cycle (on its schedule and on every push): never raises."""
    from canyu.client.device import DeviceError

    try:
        phone = Phone(device)
    except DeviceError as exc:  # not registered: nothing to refresh
        log.warning("phone services not refreshed: %s", exc.message)
        return None
    try:
        report = phone.sync_all()
    finally:
        phone.close()
    log.info("phone services: %s", report.parts)
    return report
