"""Rate limits on top of the `limits` library: in memory for one process, Redis for many."""

from __future__ import annotations

from limits import parse_many, storage, strategies

from canyu.errors import RateLimited


class RateLimiter:
    def __init__(self, storage_url: str = "memory://") -> None:
        self._strategy = strategies.MovingWindowRateLimiter(
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
