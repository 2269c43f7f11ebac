"""Releases rules: what the other parts share."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from canyu.devices.push import NullPusher, Pusher
from canyu.errors import CanyuError, InvalidInput
from canyu.releases.models import (
    Channel,
)
from canyu.releases.offers import OfferBook
from canyu.releases.settings import ReleaseSettings

log = logging.getLogger("canyu.releases")

PRODUCT_KEY = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_NOTES = 20_000
MAX_REASON = 2_000
MAX_POSTS_PER_BUILD = 500
DEFAULT_STAGES = (1.0, 5.0, 20.0, 50.0, 100.0)
SAMPLE_EVERY = timedelta(seconds=2)
CHUNK = 1024 * 1024
_REPORT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_FAILURE_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CRASHES = 10_000


class PayloadTooLarge(CanyuError):
    status_code = 413
    code = "payload_too_large"


@dataclass
class Runtime:
    """What a server process keeps beside the database: its copy of the live rollouts, its way
    to push to devices, the release settings, and when each rollout's gates last ran."""

    settings: ReleaseSettings = field(default_factory=ReleaseSettings)
    offers: OfferBook = field(default_factory=OfferBook)
    pusher: Pusher = field(default_factory=NullPusher)
    last_gate_run: dict[int, float] = field(default_factory=dict)
    # Gates triggered by reports run here, one at a time, after the report has committed.
    gate_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="canyu-gates")
    )

    def settle(self) -> None:
        """Wait until the gates already triggered have run (tests, the CLI)."""
        self.gate_pool.submit(lambda: None).result()


def parse_channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise InvalidInput(
            f"Unknown channel {value!r}; one of: {allowed}.", details={"field": "channel"}
        ) from None


def _clean_text(value: str | None, *, field: str, maximum: int) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise InvalidInput(f"The {field} contains a NUL character.", details={"field": field})
    if len(text) > maximum:
        raise InvalidInput(
            f"The {field} has at most {maximum} characters.", details={"field": field}
        )
    return text
