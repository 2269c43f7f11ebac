"""Signed updates: canyu's TUF repositories, verified by python-tuf's ngclient over real HTTP.

Each attack test puts the repository into the state an attacker (or a frozen mirror) would serve
and checks that the device refuses it; where useful, the same steps without the attack pass, so
the refusal is known to come from the protection and not from a broken setup.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from securesystemslib.signer import CryptoSigner, Signer  # type: ignore[attr-defined]
from tuf.api.exceptions import DownloadHTTPError
from tuf.api.metadata import Metadata, MetaFile, Root, TargetFile  # type: ignore[attr-defined]
from tuf.ngclient.fetcher import FetcherInterface
from typer.testing import CliRunner

from canyu.client.tuf_fetch import UpdateRefused, fetch_verified_target
from canyu.errors import CanyuError, Conflict, InvalidInput, NotFound
from canyu.releases.settings import ReleaseSettings, get_release_settings
from canyu.releases.tuf_cli import export_tuf, keys_init, keys_rotate_root
from canyu.releases.tuf_http import router
from canyu.releases.tuf_repo import (
    TufRepository,
    init_keys,
    init_root_keys,
    rotate_online_key,
    utc_now,
)

PRODUCT = "phone-x"
FIRMWARE = b"canyu firmware 1.0 " * 64


def load_signer(path: Path) -> CryptoSigner:
    return CryptoSigner(load_pem_private_key(path.read_bytes(), password=None))


@dataclass
class Device:
    """A phone: its trusted root and its own metadata cache, fetching over HTTP."""

    base_url: str
    product: str
    trusted_root: bytes
    cache_dir: Path

    def fetch(self, target_name: str, fetcher: FetcherInterface | None = None) -> Path:
        return fetch_verified_target(
            f"{self.base_url}/{self.product}/metadata/",
            f"{self.base_url}/{self.product}/targets/",
            target_name,
            trusted_root=self.trusted_root,
            cache_dir=self.cache_dir,
            fetcher=fetcher,
        )


@dataclass
class World:
    tmp: Path
    tuf_dir: Path
    keys_dir: Path
    root_keys_dir: Path
    serve: Callable[[Path], tuple[str, list[str]]]
    base_url: str = ""
    requests: list[str] = field(default_factory=list)

    def repo(self, product: str = PRODUCT) -> TufRepository:
        return TufRepository.open(product, self.tuf_dir, self.keys_dir)

    def create(self, product: str = PRODUCT, **kwargs: Any) -> TufRepository:
        return TufRepository.create(
            product, self.tuf_dir, self.keys_dir, self.root_keys_dir, **kwargs
        )

    def device(self, name: str = "phone", product: str = PRODUCT) -> Device:
        # Devices ship with root version 1 and must follow any rotation from there.
        root_v1 = (self.tuf_dir / product / "metadata" / "1.root.json").read_bytes()
        return Device(self.base_url, product, root_v1, self.tmp / "devices" / name)

    def signer(self, role: str) -> CryptoSigner:
        return load_signer(self.keys_dir / f"{role}.pem")


@pytest.fixture
def world(tmp_path: Path, serve: Callable[[Path], tuple[str, list[str]]]) -> World:
    w = World(
        tmp_path, tmp_path / "tuf", tmp_path / "keys" / "online", tmp_path / "keys" / "root", serve
    )
    init_keys(w.keys_dir, root_keys_dir=w.root_keys_dir)
    w.create()
    w.tuf_dir.mkdir(exist_ok=True)
    w.base_url, w.requests = serve(w.tuf_dir)
    return w


# --- what an attacker does with the Metadata API ------------------------------------------------


def current(repo: TufRepository, role: str) -> Metadata[Any]:
    return Metadata.from_file(str(repo.metadata_dir / f"{role}.json"))


def publish(
    repo: TufRepository,
    role: str,
    signers: Sequence[Signer],
    mutate: Callable[[Any], None] | None = None,
) -> Metadata[Any]:
    """Write a next version of ``role``, changed by ``mutate`` and signed by ``signers``."""
    md = current(repo, role)
    if mutate is not None:
        mutate(md.signed)
    md.signed.version += 1
    md.signatures.clear()
    for signer in signers:
        md.sign(signer, append=True)
    data = md.to_bytes()
    if role != "timestamp":
        (repo.metadata_dir / f"{md.signed.version}.{role}.json").write_bytes(data)
    (repo.metadata_dir / f"{role}.json").write_bytes(data)
    return md


def meta_file(md: Metadata[Any]) -> MetaFile:
    return MetaFile.from_data(md.signed.version, md.to_bytes(), ["sha256"])


def publish_chain(repo: TufRepository, signers: dict[str, Signer]) -> None:
    """New targets (listing an evil target), snapshot and timestamp, each signed by ``signers``."""
    evil = TargetFile.from_data("phone-x/evil.bin", b"malware")
    stored = repo.targets_dir / "phone-x" / f"{evil.hashes['sha256']}.evil.bin"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"malware")

    def add_evil(targets: Any) -> None:
        targets.targets[evil.path] = evil

    targets = publish(repo, "targets", [signers["targets"]], add_evil)
    snapshot = publish(
        repo,
        "snapshot",
        [signers["snapshot"]],
        lambda s: s.meta.__setitem__("targets.json", meta_file(targets)),
    )
    publish(
        repo,
        "timestamp",
        [signers["timestamp"]],
        lambda t: setattr(t, "snapshot_meta", meta_file(snapshot)),
    )


def refused(device: Device, target: str, error: str) -> None:
    with pytest.raises(UpdateRefused) as caught:
        device.fetch(target)
    assert error in caught.value.reason, caught.value.reason


# --- a normal update -----------------------------------------------------------------------------


def test_normal_update_verifies_and_downloads(world: World) -> None:
    repo = world.repo()
    info = repo.add_target("phone-x/1.0.bin", FIRMWARE, custom={"version": "1.0"})
    assert info.filename == f"phone-x/{info.sha256}.1.0.bin"
    assert [t.name for t in repo.targets()] == ["phone-x/1.0.bin"]
    assert repo.target("phone-x/1.0.bin") == info
    assert info.custom == {"version": "1.0"}

    device = world.device()
    path = device.fetch("phone-x/1.0.bin")
    assert path.read_bytes() == FIRMWARE
    # Consistent snapshots: versioned snapshot/targets and the hash-prefixed target file.
    assert "/phone-x/metadata/2.snapshot.json" in world.requests
    assert "/phone-x/metadata/2.targets.json" in world.requests
    assert f"/phone-x/targets/{info.filename}" in world.requests

    # A verified cached copy is not downloaded again.
    world.requests.clear()
    assert device.fetch("phone-x/1.0.bin") == path
    assert not any("/targets/" in r for r in world.requests)

    # The next week's build reaches the same device.
    repo.add_target("phone-x/1.1.bin", b"canyu firmware 1.1")
    assert device.fetch("phone-x/1.1.bin").read_bytes() == b"canyu firmware 1.1"


def test_add_target_is_idempotent_and_remove_target_withdraws_it(world: World) -> None:
    repo = world.repo()
    source = world.tmp / "payload.bin"
    source.write_bytes(FIRMWARE)
    repo.add_target("phone-x/1.0.bin", source)
    versions = {role: current(repo, role).signed.version for role in ("targets", "timestamp")}
    assert repo.add_target("phone-x/1.0.bin", FIRMWARE).length == len(FIRMWARE)
    assert {r: current(repo, r).signed.version for r in versions} == versions

    repo.remove_target("phone-x/1.0.bin")
    assert repo.targets() == []
    refused(world.device(), "phone-x/1.0.bin", "do not list it")
    with pytest.raises(NotFound):
        repo.remove_target("phone-x/1.0.bin")


@pytest.mark.parametrize("name", ["../x.bin", "/abs.bin", "a//b.bin", ".hidden", "a/../b", ""])
def test_unsafe_target_names_are_rejected(world: World, name: str) -> None:
    with pytest.raises(InvalidInput):
        world.repo().add_target(name, b"x")


def test_concurrent_writers_lose_no_target(world: World) -> None:
    def add(n: int) -> None:
        # Each writer opens the repository itself, as separate server processes would.
        repo = TufRepository.open(PRODUCT, world.tuf_dir, world.keys_dir)
        for i in range(3):
            repo.add_target(f"packs/{n}-{i}.bin", f"{n}-{i}".encode())

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(world.repo().targets()) == 18
    assert current(world.repo(), "targets").signed.version == 19
    assert world.device().fetch("packs/5-2.bin").read_bytes() == b"5-2"


# --- attacks ------------------------------------------------------------------------------------


def test_tampered_target_is_refused(world: World) -> None:
    info = world.repo().add_target("phone-x/1.0.bin", FIRMWARE)
    stored = world.repo().targets_dir / info.filename
    stored.write_bytes(FIRMWARE.replace(b"1.0", b"6.6"))  # same length, other content
    device = world.device()
    refused(device, "phone-x/1.0.bin", "LengthOrHashMismatchError")
    assert not (device.cache_dir / "targets").exists() or not any(
        (device.cache_dir / "targets").iterdir()
    )


def test_rolled_back_targets_version_is_refused(world: World) -> None:
    repo = world.repo()
    repo.add_target("phone-x/1.0.bin", FIRMWARE)
    repo.add_target("phone-x/1.1.bin", b"1.1")  # targets v3
    device = world.device()
    device.fetch("phone-x/1.1.bin")

    # Snapshot and timestamp keys sign a snapshot that points back at targets v2.
    old_targets = Metadata.from_file(str(repo.metadata_dir / "2.targets.json"))
    snapshot = publish(
        repo,
        "snapshot",
        [world.signer("snapshot")],
        lambda s: s.meta.__setitem__("targets.json", meta_file(old_targets)),
    )
    publish(
        repo,
        "timestamp",
        [world.signer("timestamp")],
        lambda t: setattr(t, "snapshot_meta", meta_file(snapshot)),
    )
    refused(device, "phone-x/1.0.bin", "BadVersionNumberError")
    # A device that never saw targets v3 has nothing to compare with: only the cache protects.
    assert world.device("new").fetch("phone-x/1.0.bin").read_bytes() == FIRMWARE


def test_rolled_back_snapshot_version_is_refused(world: World) -> None:
    repo = world.repo()
    repo.add_target("phone-x/1.0.bin", FIRMWARE)  # snapshot v2
    repo.add_target("phone-x/1.1.bin", b"1.1")  # snapshot v3
    device = world.device()
    device.fetch("phone-x/1.1.bin")

    old_snapshot = Metadata.from_file(str(repo.metadata_dir / "2.snapshot.json"))
    publish(
        repo,
        "timestamp",
        [world.signer("timestamp")],
        lambda t: setattr(t, "snapshot_meta", meta_file(old_snapshot)),
    )
    refused(device, "phone-x/1.0.bin", "BadVersionNumberError")
    assert world.device("new").fetch("phone-x/1.0.bin").read_bytes() == FIRMWARE


def test_replayed_old_repository_state_is_refused(world: World) -> None:
    repo = world.repo()
    repo.add_target("phone-x/1.0.bin", FIRMWARE)
    old_timestamp = (repo.metadata_dir / "timestamp.json").read_bytes()
    repo.add_target("phone-x/1.1.bin", b"1.1")
    device = world.device()
    device.fetch("phone-x/1.1.bin")

    (repo.metadata_dir / "timestamp.json").write_bytes(old_timestamp)  # a mirror replays it
    refused(device, "phone-x/1.0.bin", "BadVersionNumberError")
    assert world.device("new").fetch("phone-x/1.0.bin").read_bytes() == FIRMWARE


def test_expired_timestamp_is_refused_until_refreshed(world: World) -> None:
    # Everything was signed two days ago and the mirror froze there: timestamp (1 day) expired.
    repo = world.create("frozen", clock=lambda: utc_now() - timedelta(days=2))
    repo.add_target("frozen/1.0.bin", FIRMWARE)
    device = world.device(product="frozen")
    refused(device, "frozen/1.0.bin", "ExpiredMetadataError")

    live = world.repo("frozen")
    assert live.needs_refresh() == ["timestamp"]
    assert live.refresh_expiring() == ["timestamp"]
    assert live.needs_refresh() == []
    assert live.refresh_expiring() == []
    assert device.fetch("frozen/1.0.bin").read_bytes() == FIRMWARE


def test_refresh_resigns_expiring_snapshot_and_targets_too(world: World) -> None:
    repo = world.create("quiet", clock=lambda: utc_now() - timedelta(days=61))
    live = world.repo("quiet")
    assert live.needs_refresh() == ["targets", "snapshot", "timestamp"]
    assert live.refresh_expiring() == ["targets", "snapshot", "timestamp"]
    assert live.needs_refresh() == []
    assert current(repo, "targets").signed.version == 2


@pytest.mark.parametrize("swapped", ["targets", "snapshot"])
def test_mix_and_match_metadata_is_refused(world: World, swapped: str) -> None:
    repo = world.repo()
    repo.add_target("phone-x/1.0.bin", FIRMWARE)  # targets and snapshot v2
    repo.add_target("phone-x/1.1.bin", b"1.1")  # targets and snapshot v3
    # The mirror serves v3's name with v2's (validly signed) content.
    shutil.copyfile(
        repo.metadata_dir / f"2.{swapped}.json", repo.metadata_dir / f"3.{swapped}.json"
    )
    refused(world.device(), "phone-x/1.0.bin", "LengthOrHashMismatchError")


@pytest.mark.parametrize("role", ["targets", "snapshot", "timestamp", None])
def test_metadata_signed_by_unknown_key_is_refused(world: World, role: str | None) -> None:
    repo = world.repo()
    repo.add_target("phone-x/1.0.bin", FIRMWARE)
    signers: dict[str, Signer] = {r: world.signer(r) for r in ("targets", "snapshot", "timestamp")}
    if role is None:
        # Control: the same forgery with the real keys goes through (that is what keys are for).
        publish_chain(repo, signers)
        assert world.device().fetch("phone-x/evil.bin").read_bytes() == b"malware"
        return
    signers[role] = CryptoSigner.generate_ed25519()
    publish_chain(repo, signers)
    refused(world.device(), "phone-x/evil.bin", "UnsignedMetadataError")


def test_metadata_signed_by_revoked_key_is_refused(world: World) -> None:
    repo = world.repo()
    repo.add_target("phone-x/1.0.bin", FIRMWARE)
    device = world.device()
    device.fetch("phone-x/1.0.bin")
    leaked = world.signer("targets")

    keyid = rotate_online_key(
        "targets",
        tuf_dir=world.tuf_dir,
        keys_dir=world.keys_dir,
        root_keys_dir=world.root_keys_dir,
    )
    assert repo.root().version == 2
    assert repo.root().roles["targets"].keyids == [keyid]
    assert sorted(p.name for p in world.keys_dir.glob("*.pem")) == [
        "snapshot.pem",
        "targets.pem",
        "timestamp.pem",
    ]
    assert world.signer("targets").public_key.keyid == keyid
    repo.add_target("phone-x/1.1.bin", b"1.1")
    assert device.fetch("phone-x/1.1.bin").read_bytes() == b"1.1"

    publish_chain(
        repo,
        {
            "targets": leaked,
            "snapshot": world.signer("snapshot"),
            "timestamp": world.signer("timestamp"),
        },
    )
    refused(device, "phone-x/evil.bin", "UnsignedMetadataError")


@pytest.mark.parametrize(("old_keys_signing", "accepted"), [(1, False), (2, True)])
def test_root_needs_the_threshold_of_old_root_keys(
    world: World, old_keys_signing: int, accepted: bool
) -> None:
    """An attacker with fewer root keys than the threshold (2 of 3) cannot take over root."""
    world.repo().add_target("phone-x/1.0.bin", FIRMWARE)
    attacker = CryptoSigner.generate_ed25519()
    old_keys = [load_signer(p) for p in sorted(world.root_keys_dir.glob("root-*.pem"))]

    def take_over(root: Root) -> None:
        for keyid in list(root.roles["root"].keyids):
            root.revoke_key(keyid, "root")
        root.add_key(attacker.public_key, "root")
        root.roles["root"].threshold = 1

    publish(world.repo(), "root", [*old_keys[:old_keys_signing], attacker], take_over)
    device = world.device()
    if accepted:
        device.fetch("phone-x/1.0.bin")
        assert (device.cache_dir / "metadata" / "root_history" / "2.root.json").exists()
    else:
        refused(device, "phone-x/1.0.bin", "UnsignedMetadataError")


def test_root_rotation_is_followed_by_devices_trusting_the_old_root(world: World) -> None:
    repo = world.repo()
    repo.add_target("phone-x/1.0.bin", FIRMWARE)
    seasoned = world.device("seasoned")
    seasoned.fetch("phone-x/1.0.bin")

    new_root_keys = world.tmp / "keys" / "root-2027"
    init_root_keys(new_root_keys, threshold=2, count=3)
    assert repo.rotate_root(new_root_keys, old_root_keys_dir=world.root_keys_dir) == 2
    root = repo.root()
    new_keyids = {load_signer(p).public_key.keyid for p in new_root_keys.glob("root-*.pem")}
    assert set(root.roles["root"].keyids) == new_keyids
    assert root.roles["root"].threshold == 2
    repo.add_target("phone-x/1.1.bin", b"1.1")

    # Both a device that refreshed before and one fresh from the factory (root v1) follow.
    for device in (seasoned, world.device("factory")):
        assert device.fetch("phone-x/1.1.bin").read_bytes() == b"1.1"
        trusted = Metadata.from_file(str(device.cache_dir / "metadata" / "root.json")).signed
        assert trusted.version == 2

    # The retired root keys, all three of them, no longer count.
    old_keys = [load_signer(p) for p in sorted(world.root_keys_dir.glob("root-*.pem"))]
    publish(repo, "root", old_keys, lambda r: setattr(r, "consistent_snapshot", True))
    refused(seasoned, "phone-x/1.1.bin", "UnsignedMetadataError")


def test_rotate_root_refuses_to_publish_a_root_clients_would_reject(world: World) -> None:
    one_key = world.tmp / "keys" / "one-root-key"
    one_key.mkdir()
    for name in ("root-1.pem", "root_keys.json"):
        shutil.copy(world.root_keys_dir / name, one_key / name)
    new_root_keys = world.tmp / "keys" / "root-2027"
    init_root_keys(new_root_keys, threshold=2, count=3)
    repo = world.repo()
    with pytest.raises(InvalidInput, match=r"old: 1 of 2"):
        repo.rotate_root(new_root_keys, old_root_keys_dir=one_key)
    assert repo.root().version == 1
    assert not (repo.metadata_dir / "2.root.json").exists()


# --- keys, export, CLI ---------------------------------------------------------------------------


def test_init_keys_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    online, root = tmp_path / "online", tmp_path / "root"
    init_keys(online, root_keys_dir=root)
    assert sorted(p.name for p in online.iterdir()) == [
        "snapshot.pem",
        "targets.pem",
        "timestamp.pem",
    ]
    assert sorted(p.name for p in root.iterdir()) == [
        "root-1.pem",
        "root-2.pem",
        "root-3.pem",
        "root_keys.json",
    ]
    for path in [*online.iterdir(), *root.iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = (online / "targets.pem").read_bytes()

    with pytest.raises(Conflict):
        init_keys(online, root_keys_dir=root)
    assert (online / "targets.pem").read_bytes() == before
    init_keys(online, root_keys_dir=root, force=True)
    assert (online / "targets.pem").read_bytes() != before

    with pytest.raises(InvalidInput):
        init_keys(root, root_keys_dir=root, force=True)
    with pytest.raises(InvalidInput):
        init_root_keys(tmp_path / "r", threshold=4, count=3)


def test_export_layout_serves_any_tuf_client(world: World) -> None:
    info = world.repo().add_target("phone-x/1.0.bin", FIRMWARE)
    dest = world.tmp / "export"
    out = world.repo().export(dest)
    assert out == dest / PRODUCT
    assert sorted(p.name for p in (out / "metadata").iterdir()) == [
        "1.root.json",
        "1.snapshot.json",
        "1.targets.json",
        "2.snapshot.json",
        "2.targets.json",
        "root.json",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ]
    assert [str(p.relative_to(out / "targets")) for p in (out / "targets").rglob("*.*")] == [
        info.filename
    ]
    base_url, _ = world.serve(dest)
    device = world.device()
    device.base_url = base_url
    assert device.fetch("phone-x/1.0.bin").read_bytes() == FIRMWARE


def test_cli_keys_init_rotate_root_and_export(world: World, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("init")(keys_init)
    app.command("rotate-root")(keys_rotate_root)
    app.command("export-tuf")(export_tuf)
    runner = CliRunner()
    keys = ["--keys-dir", str(world.keys_dir), "--root-keys-dir", str(world.root_keys_dir)]
    tuf = ["--tuf-dir", str(world.tuf_dir)]

    result = runner.invoke(app, ["init", *keys])
    assert result.exit_code == 2, result.output
    assert "already exist" in result.output

    new_root = tmp_path / "new-root"
    result = runner.invoke(
        app, ["init", "--root-only", "--root-keys-dir", str(new_root), "--count", "3"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["rotate-root", "--new-root-keys-dir", str(new_root), *keys, *tuf])
    assert result.exit_code == 0, result.output
    assert world.repo().root().version == 2

    dest = tmp_path / "site"
    result = runner.invoke(app, ["export-tuf", str(dest), *tuf])
    assert result.exit_code == 0, result.output
    assert (dest / PRODUCT / "metadata" / "2.root.json").is_file()
    assert (dest / PRODUCT / "targets").is_dir()

    result = runner.invoke(app, ["export-tuf", str(dest), "--product", "nope", *tuf])
    assert result.exit_code == 2
    assert "no TUF repository" in result.output
    result = runner.invoke(app, ["export-tuf", str(dest), "--tuf-dir", str(tmp_path / "empty")])
    assert result.exit_code == 2


# --- HTTP ---------------------------------------------------------------------------------------


class AsgiFetcher(FetcherInterface):
    """ngclient's fetcher over the ASGI app, so the device verifies what the router serves."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def _fetch(self, url: str) -> Iterator[bytes]:
        response = self.client.get(url)
        if response.status_code != 200:
            raise DownloadHTTPError(f"GET {url}", response.status_code)
        return iter([response.content])


@pytest.fixture
def http(world: World) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_release_settings] = lambda: ReleaseSettings(
        tuf_dir=world.tuf_dir, keys_dir=world.keys_dir, root_keys_dir=world.root_keys_dir
    )

    @app.exception_handler(CanyuError)
    async def canyu_error(_request: Request, exc: CanyuError) -> JSONResponse:
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        return JSONResponse(body, status_code=exc.status_code)

    return TestClient(app)


def test_router_serves_repository_that_ngclient_verifies(world: World, http: TestClient) -> None:
    info = world.repo().add_target("phone-x/1.0.bin", FIRMWARE)
    response = http.get("/tuf/phone-x/metadata/timestamp.json")
    assert response.status_code == 200
    assert response.json()["signed"]["_type"] == "timestamp"
    assert response.headers["cache-control"] == "no-cache"
    response = http.get(f"/tuf/phone-x/targets/{info.filename}")
    assert response.content == FIRMWARE
    assert "immutable" in response.headers["cache-control"]

    device = world.device()
    device.base_url = "http://testserver/tuf"
    assert device.fetch("phone-x/1.0.bin", AsgiFetcher(http)).read_bytes() == FIRMWARE


@pytest.mark.parametrize(
    "url",
    [
        "/tuf/nope/metadata/root.json",
        "/tuf/phone-x/metadata/9.root.json",
        "/tuf/phone-x/metadata/..%2F..%2Fkeys%2Fonline%2Ftargets.pem",
        "/tuf/phone-x/metadata/%2e%2e",
        "/tuf/%2e%2e/metadata/root.json",
        "/tuf/..%2Fkeys/metadata/root.json",
        "/tuf/phone-x/targets/..%2Fmetadata%2Froot.json",
        "/tuf/phone-x/targets/%2e%2e/%2e%2e/secret.txt",
        "/tuf/phone-x/targets/%2e%2e%2F%2e%2e%2Fkeys%2Fonline%2Ftargets.pem",
        "/tuf/phone-x/targets/.lock",
        "/tuf/phone-x/targets/%2Fetc%2Fpasswd",
        "/tuf/phone-x/targets/link.bin",
    ],
)
def test_router_refuses_unknown_files_and_traversal(
    world: World, http: TestClient, url: str
) -> None:
    (world.tmp / "secret.txt").write_text("TOP SECRET")
    os.symlink(world.tmp / "secret.txt", world.repo().targets_dir / "link.bin")
    response = http.get(url)
    assert response.status_code == 404
    assert "TOP SECRET" not in response.text
    assert "PRIVATE KEY" not in response.text


def test_router_answers_unknown_product_with_the_error_body(http: TestClient) -> None:
    response = http.get("/tuf/nope/metadata/root.json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
