"""Settings of the calls domain, from ``CANYU_CALLS_*`` environment variables.

Every threshold of the reputation model is here with its default; docs/calls.md explains each.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from canyu.calls.reputation import Thresholds
from canyu.markets.geo import world
from canyu.markets.scoring import HOME_MARKET


def _home_region() -> str:
    """The home market's ISO alpha-2 code: the fallback when CANYU_DEFAULT_REGION is not set."""
    home = world().resolve(HOME_MARKET)
    return home.iso2 if home is not None and home.iso2 else "001"


class CallsSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CANYU_CALLS_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # --- reputation (see canyu.calls.reputation.Thresholds) -----------------------------------
    label_score: float = Field(3.0, gt=0, description="Weighted evidence needed for a label.")
    unlabel_score: float = Field(2.4, gt=0, description="A label stays until evidence drops below.")
    min_reporters: int = Field(3, ge=1, description="Distinct friends needed for a label.")
    min_networks: int = Field(3, ge=1, description="Distinct networks needed for a label.")
    network_cap: float = Field(1.5, gt=0, description="Most evidence one network can add.")
    new_account_days: float = Field(14.0, ge=0, description="Accounts younger count as new.")
    burst_window_hours: float = Field(1.0, gt=0, description="Window for bursts of new accounts.")
    burst_cap: float = Field(1.0, gt=0, description="Most evidence new accounts add per window.")
    half_life_days: float = Field(90.0, gt=0, description="Marks lose half their weight in this.")
    full_trust_age_days: float = Field(30.0, gt=0, description="Account age for full trust.")
    min_trust: float = Field(0.05, gt=0, le=1, description="Trust of a brand-new account.")
    no_device_factor: float = Field(0.5, gt=0, le=1, description="Trust factor without a device.")
    unconfirmed_days: float = Field(
        7.0, gt=0, description="A mark nobody confirmed for this long counts half against."
    )
    # Rescore in the request while a number has fewer marks; busier numbers wait for the job.
    sync_rescore_limit: int = Field(100, ge=1)

    # --- marks ------------------------------------------------------------------------------
    # Per friend, in the `limits` notation; beyond it marks get 429.
    mark_rate: str = "20/minute;200/hour;1000/day"
    # The region assumed for numbers written without +country code when none is given (marks,
    # imports, pages): CANYU_DEFAULT_REGION, the deployment's home region (CANYU_CALLS_DEFAULT_
    # REGION also works). The fallback is the home market's.
    default_region: str = Field(
        default_factory=_home_region,
        validation_alias=AliasChoices("CANYU_DEFAULT_REGION", "CANYU_CALLS_DEFAULT_REGION"),
    )

    # --- complaint feeds and the range signal (canyu.calls.feeds, canyu.calls.ranges) ----------
    # A number is labelled by feeds when their decayed evidence reaches this (two complaints
    # this week, with weight 1) and is "suspicious" (warn) from this (one in the last week).
    feed_label_score: float = Field(2.0, gt=0)
    feed_warn_score: float = Field(0.5, gt=0)
    feed_half_life_days: float = Field(7.0, gt=0, description="Default half-life of a new feed.")
    # Suspicious ranges cover at most this share of the zone's valid numbers: the warn rate on
    # random numbers (docs/calls.md has how it was chosen).
    range_budget: float = Field(0.0004, ge=0, le=0.01)

    # --- private lookups ----------------------------------------------------------------------
    # Devices send the first N hex characters of SHA-256(E.164). N is the longest length in
    # [prefix_min, prefix_max] for which a bucket still holds at least `min_bucket` labelled
    # numbers on average, so the server cannot narrow a lookup to fewer candidates than that.
    lookup_prefix_min: int = Field(2, ge=1, le=8)
    lookup_prefix_max: int = Field(6, ge=1, le=8)
    lookup_min_bucket: int = Field(32, ge=1)
    lookup_rate: str = "120/minute;5000/day"
    # The count of labelled numbers behind the prefix length is cached this long (seconds).
    lookup_count_cache_seconds: float = Field(60.0, ge=0)

    # --- offline packs ------------------------------------------------------------------------
    # The scheduled rebuild: every N minutes, countries whose labels changed get a new pack.
    pack_interval_minutes: float = Field(5.0, gt=0)
    # Marks are rescored by the job every N seconds (numbers too busy for the request).
    rescore_interval_seconds: float = Field(60.0, gt=0)
    # Where built packs are kept (deltas are computed against these) and the TUF product name.
    pack_dir: Path = Path("var/calls/packs")
    tuf_product: str = "calls"
    # Pack records and label events are kept this long (days), for the week-old delta.
    pack_history_days: float = Field(8.0, ge=7.5)

    # --- appeals ------------------------------------------------------------------------------
    code_ttl_minutes: int = Field(15, ge=1)
    code_attempts: int = Field(5, ge=1)
    code_rate: str = "3/hour;10/day"
    # "logging" (development) or a dotted path "module:factory" returning a CodeSender.
    code_sender: str = "logging"

    # --- SMS ----------------------------------------------------------------------------------
    sms_model_path: Path = Path("var/calls/sms-model.skops")

    def thresholds(self) -> Thresholds:
        return Thresholds(
            label_score=self.label_score,
            unlabel_score=min(self.unlabel_score, self.label_score),
            min_reporters=self.min_reporters,
            min_networks=self.min_networks,
            network_cap=self.network_cap,
            new_account_days=self.new_account_days,
            burst_window_hours=self.burst_window_hours,
            burst_cap=self.burst_cap,
            half_life_days=self.half_life_days,
            full_trust_age_days=self.full_trust_age_days,
            min_trust=self.min_trust,
            no_device_factor=self.no_device_factor,
            unconfirmed_days=self.unconfirmed_days,
        )


@lru_cache
def get_calls_settings() -> CallsSettings:
    return CallsSettings()
