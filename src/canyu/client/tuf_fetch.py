"""The device side of signed updates: download a target only if TUF metadata vouches for it.

Verification is python-tuf's ngclient: it walks root rotations from the trusted root, checks
signatures and thresholds, versions (no rollback), expiry (no freeze), the snapshot's view of
targets (no mix-and-match), and the target's length and hash.
"""

from __future__ import annotations

from pathlib import Path

from tuf.api.exceptions import DownloadError, DownloadHTTPError, RepositoryError
from tuf.ngclient.fetcher import FetcherInterface
from tuf.ngclient.updater import Updater


def temporary_status(status: int) -> bool:
    """Whether an HTTP status says the server cannot answer now (busy or down), so that asking
    again later may succeed: nothing about the request itself is wrong."""
    return status >= 500 or status == 429


class RepositoryUnavailable(Exception):
    """The repository could not be reached or answered with a server error: nothing was
    verified or refused, and asking again later may succeed."""


class UpdateRefused(Exception):
    """The update did not verify; ``reason`` says why. Nothing unverified was kept."""

    def __init__(self, target_name: str, reason: str) -> None:
        super().__init__(f"Refused update {target_name!r}: {reason}")
        self.target_name = target_name
        self.reason = reason


def fetch_verified_target(
    metadata_url: str,
    targets_url: str,
    target_name: str,
    *,
    trusted_root: bytes | Path,
    cache_dir: Path,
    fetcher: FetcherInterface | None = None,
) -> Path:
    """Refresh the repository's metadata, then return the verified local copy of ``target_name``
    (downloaded only when the cached copy is missing or outdated).

    ``trusted_root`` is the root.json the device shipped with (any version; newer roots are
    followed). ``cache_dir`` keeps the metadata the device trusts between calls, which is what
    makes rollbacks detectable: give each repository its own. ``fetcher`` replaces HTTP (tests).
    Raises :class:`UpdateRefused` when anything does not verify or cannot be fetched, and
    :class:`RepositoryUnavailable` when the server is unavailable (a 5xx or 429 answer), so that
    an outage is not reported as a failed install.
    """
    bootstrap = trusted_root.read_bytes() if isinstance(trusted_root, Path) else trusted_root
    metadata_dir = cache_dir / "metadata"
    metadata_dir.mkdir(parents=True, exist_ok=True)
    try:
        updater = Updater(
            metadata_dir=str(metadata_dir),
            metadata_base_url=metadata_url,
            target_dir=str(cache_dir / "targets"),
            target_base_url=targets_url,
            fetcher=fetcher,
            bootstrap=bootstrap,
        )
        updater.refresh()
        info = updater.get_targetinfo(target_name)
        if info is None:
            raise UpdateRefused(target_name, "the repository's signed targets do not list it")
        cached = updater.find_cached_target(info)
        return Path(cached or updater.download_target(info))
    except (RepositoryError, DownloadError) as e:
        if isinstance(e, DownloadHTTPError) and temporary_status(e.status_code):
            raise RepositoryUnavailable(f"the update server answered {e.status_code}") from e
        raise UpdateRefused(target_name, f"{type(e).__name__}: {e}") from e


def fetch_pack_file(
    base_url: str,
    product: str,
    target_name: str,
    *,
    trusted_root: bytes | Path | None,
    data_dir: Path,
    fetcher: FetcherInterface | None = None,
) -> bytes:
    """A verified file of one of the server's pack repositories (``/tuf/<product>/``: calls,
    greetings, hotspots), cached under ``data_dir/tuf/<product>``. Refused without a root to
    trust: a pack is never read unverified."""
    if trusted_root is None:
        raise UpdateRefused(target_name, f"no trusted root for the {product} repository")
    path = fetch_verified_target(
        f"{base_url}/tuf/{product}/metadata/",
        f"{base_url}/tuf/{product}/targets/",
        target_name,
        trusted_root=trusted_root,
        cache_dir=data_dir / "tuf" / product,
        fetcher=fetcher,
    )
    return path.read_bytes()
