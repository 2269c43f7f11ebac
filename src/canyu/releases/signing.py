"""The releases domain's view of the TUF repositories (canyu.releases.tuf_repo): one per product,
created on first use, with each build payload published as a signed target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from canyu.errors import Conflict, NotFound
from canyu.releases.settings import ReleaseSettings
from canyu.releases.tuf_repo import TargetInfo, TufRepository


def target_name(channel: str, version: str, filename: str) -> str:
    """Targets are named ``<channel>/<version>/<file>``: unique within the product's repository."""
    return f"{channel}/{version}/{filename}"


def repository(product_key: str, settings: ReleaseSettings) -> TufRepository:
    """The product's repository, created (signed by the root keys) the first time it is needed."""
    if TufRepository.exists(product_key, settings.tuf_dir):
        return TufRepository.open(product_key, settings.tuf_dir, settings.keys_dir)
    try:
        return TufRepository.create(
            product_key, settings.tuf_dir, settings.keys_dir, settings.root_keys_dir
        )
    except NotFound as exc:  # no keys yet: an operator step is missing, not a missing resource
        raise Conflict(
            f"Signing keys are not set up ({exc.message}); run `canyu keys init` first."
        ) from None
    except Conflict:  # created meanwhile by another request
        return TufRepository.open(product_key, settings.tuf_dir, settings.keys_dir)


def publish(
    product_key: str,
    name: str,
    data: bytes | Path,
    settings: ReleaseSettings,
    custom: dict[str, Any] | None = None,
) -> TargetInfo:
    return repository(product_key, settings).add_target(name, data, custom=custom)


def trusted_root(product_key: str, settings: ReleaseSettings) -> bytes:
    """The root.json devices of this product start from."""
    return repository(product_key, settings).trusted_root()
