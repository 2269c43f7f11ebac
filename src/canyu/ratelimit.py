"""Rate limits on top of the `limits` library: in memory for one process, Redis for many.

The strategy is limits' sliding window counter: two counters per key and window, weighted,
instead of the moving window's list of every hit. limits' memory storage sweeps every key about
every 10 ms while hits flow: at 20,000 friends marking numbers the moving window's sweep took
81 ms a time, 44% of the server's GIL; the counters' sweep takes 6 ms (docs/benchmarks.md,
spam calls). With many thousands of active friends, or more than one worker process, set
``CANYU_RATELIMIT_STORAGE_URL=redis://...``: nothing is swept in-process and the limits hold
across workers.
"""

from __future__ import annotations

import ipaddress
import math
import time
from typing import TYPE_CHECKING

from limits import parse_many, storage, strategies

from canyu.errors import RateLimited

if TYPE_CHECKING:
    from starlette.requests import Request


class RateLimiter:
    def __init__(self, storage_url: str = "memory://") -> None:
        self._strategy = strategies.SlidingWindowCounterRateLimiter(
            storage.storage_from_string(storage_url)
        )

    def hit(self, rate: str, *identifiers: str, what: str) -> None:
        """Count one attempt; raise RateLimited (with a retry time) once any window is full."""
        for item in parse_many(rate):
            if not self._strategy.hit(item, *identifiers):
                reset_at, _remaining = self._strategy.get_window_stats(item, *identifiers)
                raise RateLimited(
                    f"Too many {what} attempts; try again later.",
                    details={"limit": str(item), "reset_at": int(reset_at)},
                )

    def reset(self) -> None:
        self._strategy.storage.reset()

    # --- exponential backoff (sign-in per account): slower after each failure, never locked --

    def backoff_wait(self, *identifiers: str) -> float:
        """Seconds until the next attempt on these identifiers is heard (0: now)."""
        until_ms = self._strategy.storage.get("backoff-until/" + "/".join(identifiers))
        return max(0.0, until_ms / 1000 - time.time()) if until_ms else 0.0

    def backoff_failed(
        self, *identifiers: str, free: int, cap: float, forget_after: int = 3600
    ) -> float:
        """Count a failure; past ``free`` failures the next attempt waits 1, 2, 4 ... seconds
        (at most ``cap``). Failures are forgotten ``forget_after`` seconds after the last."""
        storage = self._strategy.storage
        joined = "/".join(identifiers)
        failures = storage.incr("backoff-failures/" + joined, forget_after)
        if failures <= free:
            return 0.0
        wait = min(cap, 2.0 ** (failures - free - 1))
        until = "backoff-until/" + joined  # when the wait ends, in ms since the epoch
        storage.clear(until)
        storage.incr(until, math.ceil(wait) + 1, amount=int((time.time() + wait) * 1000))
        return wait

    def backoff_clear(self, *identifiers: str) -> None:
        joined = "/".join(identifiers)
        for key in ("backoff-failures/", "backoff-until/"):
            self._strategy.storage.clear(key + joined)


def network_of(ip: str) -> str:
    """The network a client address belongs to, as limits per network count it: its /24 for
    IPv4, its /56 for IPv6 (a home or an office), the text itself when it is no address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 56
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def parse_proxies(text: str) -> Networks:
    """CANYU_TRUSTED_PROXIES: comma-separated addresses or networks (``10.0.0.0/8``)."""
    return tuple(
        ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip()
    )


def _within(address: str, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: Request) -> str:
    """The client's address as limits and evidence count it: the peer of the connection, or,
    only when that peer is one of CANYU_TRUSTED_PROXIES, the nearest address in
    X-Forwarded-For that is not a trusted proxy. A client cannot choose its own address by
    sending the header. (``canyu serve`` configures uvicorn the same way.)"""
    peer = request.client.host if request.client else "unknown"
    trusted: Networks = getattr(request.app.state, "trusted_proxies", ())
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return hops[0] if hops else peer
