"""One-tap connect artefacts (pure; the phone uses it offline): the ``WIFI:`` QR payload that
camera apps understand, an Android network suggestion, a Passpoint profile, a captive portal."""

from __future__ import annotations

from typing import Any

_SPECIAL = '\\;,:"'


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)


def wifi_qr(ssid: str, password: str | None = None) -> str:
    """``WIFI:T:WPA;S:<ssid>;P:<password>;;`` (ZXing's format), ``T:nopass`` when open."""
    if password:
        return f"WIFI:T:WPA;S:{_escape(ssid)};P:{_escape(password)};;"
    return f"WIFI:T:nopass;S:{_escape(ssid)};;"


def android_suggestion(ssid: str, password: str | None, *, captive: bool) -> dict[str, Any]:
    """The fields of Android's WifiNetworkSuggestion.Builder (API 29+) for this network."""
    body: dict[str, Any] = {"ssid": ssid, "isAppInteractionRequired": captive}
    if password:
        body["wpa2Passphrase"] = password
    return body


def artefact(
    *,
    kind: str,
    ssid: str,
    password: str | None = None,
    passpoint: str | None = None,
    portal_url: str | None = None,
    portal_api: str | None = None,
) -> dict[str, Any]:
    """What the phone needs to join: ``{"type": ..., ...}`` with type one of ``passpoint``,
    ``password``, ``captive`` or ``open``. Every type also carries the QR payload and the
    Android suggestion, except Passpoint (its profile is the artefact)."""
    if kind == "passpoint" and passpoint:
        return {"type": "passpoint", "ssid": ssid, "profile": passpoint}
    out: dict[str, Any] = {
        "type": "password" if password else ("captive" if kind == "captive" else "open"),
        "ssid": ssid,
        "wifi_qr": wifi_qr(ssid, password),
        "android_suggestion": android_suggestion(ssid, password, captive=kind == "captive"),
    }
    if kind == "captive":
        out["portal_url"] = portal_url
        out["portal_api"] = portal_api  # RFC 8908 Captive Portal API, when the hotspot has one
    return out
