"""MQTT topic names and broker addresses: a pure module the server and the device client share.

A message on ``canyu/<product>/<channel>/<country>`` tells the devices there to check in now.
"""

from __future__ import annotations

from urllib.parse import urlsplit

TOPIC_ROOT = "canyu"


def topic(product: str, channel: str, country: str) -> str:
    return f"{TOPIC_ROOT}/{product}/{channel}/{country}"


def parse_mqtt_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"expected mqtt://host:port, got {url!r}")
    return parts.hostname, parts.port or 1883


def device_topic(device_id: int) -> str:
    """One device's own topic: a push there tells only it to fetch its notices."""
    return f"{TOPIC_ROOT}/devices/{device_id}"
