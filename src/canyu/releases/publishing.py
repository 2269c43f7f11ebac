"""Signed files for devices besides builds: spam-call packs, greeting packs, hotspot packs. Each
kind is a product with a TUF repository of its own, made with the same keys as the builds' and
served the same way; a domain hands its files to a :class:`TargetPublisher` for that product."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi import FastAPI

from canyu.errors import Conflict
from canyu.releases.runtime import release_settings
from canyu.releases.settings import ReleaseSettings, get_release_settings
from canyu.releases.tuf_repo import TufRepository


class Publisher(Protocol):
    def publish(self, files: Sequence[tuple[str, bytes]]) -> None:
        """Publish ``(target name, content)`` pairs in this order, signed."""


class TargetPublisher:
    """Publishes files as targets of the TUF repository of ``product``, created on first use
    when the root keys are at hand. Each target is marked with the product in its custom data."""

    def __init__(self, product: str, settings: ReleaseSettings) -> None:
        self.product = product
        self.settings = settings

    def repository(self) -> TufRepository:
        s = self.settings
        if TufRepository.exists(self.product, s.tuf_dir):
            return TufRepository.open(self.product, s.tuf_dir, s.keys_dir)
        try:
            return TufRepository.create(self.product, s.tuf_dir, s.keys_dir, s.root_keys_dir)
        except Conflict:  # made meanwhile by another process
            return TufRepository.open(self.product, s.tuf_dir, s.keys_dir)

    def publish(self, files: Sequence[tuple[str, bytes]]) -> None:
        repo = self.repository()
        for name, data in files:
            repo.add_target(name, data, custom={"canyu": self.product})


def publisher(product: str, settings: ReleaseSettings) -> TargetPublisher | None:
    """The publisher when the online keys exist, else None: packs are built, not published."""
    if not (settings.keys_dir / "targets.pem").exists():
        return None
    return TargetPublisher(product, settings)


def publisher_of(app: FastAPI | None, product: str) -> TargetPublisher | None:
    """The same, with the app's release settings (a job's), or the configured ones (the CLI)."""
    settings = get_release_settings() if app is None else release_settings(app)
    return publisher(product, settings)
