"""Store settings from ``CANYU_STORE_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANYU_STORE_", env_file=".env", extra="ignore")

    # Redis keys of the ledger start with this; the worker reads "<prefix>events".
    redis_prefix: str = "canyu:store:"
    worker_batch: int = Field(500, ge=1, le=10_000)
    # A pending event idle this long on a dead consumer is claimed by a live worker.
    claim_idle_ms: int = Field(30_000, ge=1_000)
    payment_provider: str = "fake"


@lru_cache
def get_store_settings() -> StoreSettings:
    return StoreSettings()
