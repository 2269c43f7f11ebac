"""Fixtures of the greetings tests: the app with TUF keys and repositories in a temporary
directory (the releases fixtures), and a phone that fetches through the app."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from releases.fixtures import (  # noqa: F401  (fixtures)
    api,
    key_dirs,
    release_app,
    release_settings,
    runtime,
)
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface


class AsgiFetcher(FetcherInterface):
    """ngclient's fetcher over the app, so the phone verifies exactly what the server serves."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def _fetch(self, url: str) -> Iterator[bytes]:
        response = self.client.get(url)
        if response.status_code != 200:
            raise DownloadHTTPError(f"GET {url}", response.status_code)
        return iter([response.content])
