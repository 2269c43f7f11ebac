"""A TUF repository per product, on disk, built with python-tuf's Metadata API.

Layout under ``tuf_dir/<product>/`` is exactly what a static file server serves to any TUF
client (consistent snapshots on)::

    metadata/1.root.json  2.root.json ... root.json   every root version, and the newest
    metadata/N.targets.json  targets.json             every targets version, and the newest
    metadata/N.snapshot.json snapshot.json            every snapshot version, and the newest
    metadata/timestamp.json                           never versioned: the client's entry point
    targets/<dir>/<sha256>.<name>                     target files, named by content hash

Keys: root keys live in their own directory, meant to stay offline (``root-<n>.pem`` plus
``root_keys.json`` with the threshold); the online keys the server signs with live in another
(``targets.pem``, ``snapshot.pem``, ``timestamp.pem``). Both are PKCS#8 PEM, mode 0600, the format
securesystemslib's ``CryptoSigner`` reads (``file2:`` URIs). Online keys are shared by every
product; root keys too.

Writes take an exclusive ``fcntl`` lock on the repository, so several server processes may add
targets at once. Files are replaced atomically and ``timestamp.json`` is written last, so a client
always sees one complete repository state.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key

# These packages re-export their classes without an __all__ mypy can read.
from securesystemslib.signer import CryptoSigner, Signer  # type: ignore[attr-defined]
from tuf.api.metadata import (  # type: ignore[attr-defined]
    Metadata,
    MetaFile,
    Root,
    Signed,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.repository import AbortEdit, Repository  # type: ignore[attr-defined]

from canyu.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

ONLINE_ROLES = (Targets.type, Snapshot.type, Timestamp.type)
# How long each role's metadata stays valid after it is signed. Root is signed offline, so it
# lives long; timestamp is re-signed by the periodic job, so a frozen mirror is noticed in a day.
EXPIRY: dict[str, timedelta] = {
    Root.type: timedelta(days=365),
    Targets.type: timedelta(days=90),
    Snapshot.type: timedelta(days=7),
    Timestamp.type: timedelta(days=1),
}
# Re-sign a role once less than this much of its validity is left (see needs_refresh()).
# The periodic job should run well inside the smallest margin (hourly is plenty).
REFRESH_MARGIN: dict[str, timedelta] = {
    Root.type: timedelta(days=60),
    Targets.type: timedelta(days=30),
    Snapshot.type: timedelta(days=2),
    Timestamp.type: timedelta(hours=6),
}
HASH_ALGORITHM = "sha256"
ROOT_KEYS_MANIFEST = "root_keys.json"

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_METADATA_FILENAME = re.compile(r"(?:[1-9][0-9]{0,9}\.)?(?:root|targets|snapshot|timestamp)\.json")
_BLANK: dict[str, Callable[[], Signed]] = {
    Root.type: Root,
    Targets.type: Targets,
    Snapshot.type: Snapshot,
    Timestamp.type: Timestamp,
}

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- names -------------------------------------------------------------------------------------


def validate_product(product: str) -> str:
    """Return ``product`` if it is a safe single path segment, else raise InvalidInput."""
    if not _SEGMENT.fullmatch(product):
        raise InvalidInput(f"Invalid product name {product!r} for a TUF repository.")
    return product


def validate_target_name(name: str) -> str:
    """Return ``name`` if it is a safe relative path ("a/b/c.bin"), else raise InvalidInput.

    Every segment starts with a letter or digit, so ".", ".." and hidden files are impossible.
    """
    if len(name) > 1024 or not all(_SEGMENT.fullmatch(part) for part in name.split("/")):
        raise InvalidInput(f"Invalid target name {name!r}: use letters, digits, '._+-' and '/'.")
    return name


def _inside(base: Path, relative: str) -> Path:
    """``base/relative``, refusing anything that resolves outside ``base`` (e.g. via symlinks)."""
    path = (base / relative).resolve()
    if not path.is_relative_to(base.resolve()):
        raise NotFound(f"No file {relative!r}.")
    return path


# --- keys --------------------------------------------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    path.chmod(0o600)


def _load_signer(path: Path) -> CryptoSigner:
    # CryptoSigner derives the public key, and with it the keyid, from the private key.
    return CryptoSigner(load_pem_private_key(path.read_bytes(), password=None))


def _refuse_existing(paths: Sequence[Path]) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise Conflict(
            "Keys already exist; pass force to replace them: " + ", ".join(existing),
            details=existing,
        )


def init_root_keys(
    root_keys_dir: Path, *, threshold: int = 2, count: int = 3, force: bool = False
) -> None:
    """Create ``count`` ed25519 root keys of which ``threshold`` must sign each root version.

    Run this on the offline machine; the directory never needs to reach a server.
    """
    if not 1 <= threshold <= count:
        raise InvalidInput(f"Root threshold must be between 1 and {count}, got {threshold}.")
    if not force:
        _refuse_existing([root_keys_dir / ROOT_KEYS_MANIFEST, *root_keys_dir.glob("root-*.pem")])
    for old in root_keys_dir.glob("root-*.pem"):
        old.unlink()
    for n in range(1, count + 1):
        _write_private(
            root_keys_dir / f"root-{n}.pem", CryptoSigner.generate_ed25519().private_bytes
        )
    _write_private(
        root_keys_dir / ROOT_KEYS_MANIFEST, json.dumps({"threshold": threshold}).encode()
    )


def init_keys(
    keys_dir: Path,
    *,
    root_keys_dir: Path,
    root_threshold: int = 2,
    root_key_count: int = 3,
    force: bool = False,
) -> None:
    """Create the offline root keys in ``root_keys_dir`` and one online key per online role in
    ``keys_dir``. Refuses to overwrite existing keys unless ``force``."""
    if keys_dir.resolve() == root_keys_dir.resolve():
        raise InvalidInput("Root keys must be kept apart from the online keys.")
    online = [keys_dir / f"{role}.pem" for role in ONLINE_ROLES]
    if not force:
        # Check both sets before writing anything, so a refusal leaves no half-made key set.
        _refuse_existing(
            [*online, root_keys_dir / ROOT_KEYS_MANIFEST, *root_keys_dir.glob("root-*.pem")]
        )
    init_root_keys(root_keys_dir, threshold=root_threshold, count=root_key_count, force=force)
    for path in online:
        _write_private(path, CryptoSigner.generate_ed25519().private_bytes)


def load_root_keys(root_keys_dir: Path) -> tuple[list[Signer], int]:
    """The root signers in ``root_keys_dir`` and the threshold they were created for."""
    manifest = root_keys_dir / ROOT_KEYS_MANIFEST
    paths = sorted(root_keys_dir.glob("root-*.pem"))
    if not manifest.exists() or not paths:
        raise NotFound(f"No root keys in {root_keys_dir}; run `canyu keys init` first.")
    threshold = int(json.loads(manifest.read_text())["threshold"])
    return [_load_signer(p) for p in paths], threshold


def _load_online_keys(keys_dir: Path) -> dict[str, Signer]:
    """Every online signer in ``keys_dir`` (current and mid-rotation ones) by keyid."""
    signers = [_load_signer(p) for p in sorted(keys_dir.glob("*.pem"))]
    return {s.public_key.keyid: s for s in signers}


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a static file server must read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the python-tuf repository on disk ----------------------------------------------------------


class _FileRepository(Repository):
    """python-tuf's Repository over one product's ``metadata/`` directory.

    ``open`` reads the newest version of a role from disk (or a version-0 blank); ``close`` bumps
    version and expiry, signs with the role's signers and writes the versioned and plain files.
    """

    def __init__(self, metadata_dir: Path, signers: dict[str, list[Signer]], clock: Clock):
        self.metadata_dir = metadata_dir
        self.signers = signers
        self.clock = clock

    def _current_path(self, role: str) -> Path:
        return self.metadata_dir / f"{role}.json"

    def open(self, role: str) -> Metadata[Any]:
        path = self._current_path(role)
        if path.exists():
            return Metadata.from_file(str(path))
        md: Metadata[Any] = Metadata(_BLANK[role]())
        md.signed.version = 0  # close() bumps it to 1
        return md

    def close(self, role: str, md: Metadata[Any]) -> None:
        md.signed.version += 1
        md.signed.expires = self.clock() + EXPIRY[role]
        md.signatures.clear()
        for signer in self.signers.get(role, []):
            md.sign(signer, append=True)
        if role == Root.type:
            self._check_root(md)
        data = md.to_bytes()
        if role != Timestamp.type:
            _write_atomic(self.metadata_dir / f"{md.signed.version}.{role}.json", data)
        _write_atomic(self._current_path(role), data)

    def _check_root(self, md: Metadata[Any]) -> None:
        # Never publish a root that clients trusting the previous one could not follow.
        previous = self.open(Root.type).signed if md.signed.version > 1 else None
        result = md.signed.get_root_verification_result(previous, md.signed_bytes, md.signatures)
        if not result.verified:
            raise InvalidInput(
                "The root keys given do not meet the root threshold "
                f"(old: {len(result.first.signed)} of {result.first.threshold}, "
                f"new: {len(result.second.signed)} of {result.second.threshold})."
            )

    def _meta_file(self, role: str) -> MetaFile:
        # Length and hash as well as version, so a client can't be handed a look-alike file.
        data = self._current_path(role).read_bytes()
        version = Metadata.from_bytes(data).signed.version
        return MetaFile.from_data(version, data, [HASH_ALGORITHM])

    @property
    def targets_infos(self) -> dict[str, MetaFile]:
        return {"targets.json": self._meta_file(Targets.type)}

    @property
    def snapshot_info(self) -> MetaFile:
        return self._meta_file(Snapshot.type)


# --- public API --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetInfo:
    """A target as the repository lists it."""

    name: str
    length: int
    sha256: str
    custom: dict[str, Any] | None = None

    @property
    def filename(self) -> str:
        """The file under ``targets/`` that holds it (hash-prefixed, as TUF clients ask)."""
        parent, sep, base = self.name.rpartition("/")
        return f"{parent}{sep}{self.sha256}.{base}"

    @classmethod
    def from_target_file(cls, target: TargetFile) -> TargetInfo:
        return cls(target.path, target.length, target.hashes[HASH_ALGORITHM], target.custom)


def product_names(tuf_dir: Path) -> list[str]:
    """Products that have a repository under ``tuf_dir``."""
    if not tuf_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in tuf_dir.iterdir()
        if _SEGMENT.fullmatch(p.name) and (p / "metadata" / "root.json").is_file()
    )


class TufRepository:
    """One product's TUF repository. Use :meth:`create` or :meth:`open`."""

    def __init__(self, product: str, tuf_dir: Path, keys_dir: Path, *, clock: Clock = utc_now):
        self.product = validate_product(product)
        self.path = tuf_dir / product
        self.metadata_dir = self.path / "metadata"
        self.targets_dir = self.path / "targets"
        self.keys_dir = keys_dir
        # Injectable so tests and tools can sign "as of" another time; expiry is clock() + EXPIRY.
        self.clock = clock

    @staticmethod
    def exists(product: str, tuf_dir: Path) -> bool:
        return (tuf_dir / validate_product(product) / "metadata" / "root.json").is_file()

    @classmethod
    def create(
        cls,
        product: str,
        tuf_dir: Path,
        keys_dir: Path,
        root_keys_dir: Path,
        *,
        clock: Clock = utc_now,
    ) -> TufRepository:
        """Create version 1 of every role: root signed by the root keys (all of them, which meets
        the threshold), targets/snapshot/timestamp by the online keys. Conflict if it exists."""
        repo = cls(product, tuf_dir, keys_dir, clock=clock)
        root_signers, threshold = load_root_keys(root_keys_dir)
        paths = {role: keys_dir / f"{role}.pem" for role in ONLINE_ROLES}
        if not all(p.exists() for p in paths.values()):
            raise NotFound(f"No online keys in {keys_dir}; run `canyu keys init` first.")
        online = {role: _load_signer(path) for role, path in paths.items()}
        with repo._lock():
            if cls.exists(product, tuf_dir):
                raise Conflict(f"Product {product!r} already has a TUF repository.")
            repo.targets_dir.mkdir(parents=True, exist_ok=True)
            signers: dict[str, list[Signer]] = {role: [s] for role, s in online.items()}
            signers[Root.type] = root_signers
            backend = _FileRepository(repo.metadata_dir, signers, clock)
            with backend.edit_root() as root:
                root.consistent_snapshot = True
                for signer in root_signers:
                    root.add_key(signer.public_key, Root.type)
                root.roles[Root.type].threshold = threshold
                for role, signer in online.items():
                    root.add_key(signer.public_key, role)
            with backend.edit_targets():
                pass
            with backend.edit_snapshot() as snapshot:
                snapshot.meta = dict(backend.targets_infos)
            with backend.edit_timestamp() as timestamp:
                timestamp.snapshot_meta = backend.snapshot_info
        log.info("created TUF repository for %s", product)
        return repo

    @classmethod
    def open(
        cls, product: str, tuf_dir: Path, keys_dir: Path, *, clock: Clock = utc_now
    ) -> TufRepository:
        """Open an existing repository; NotFound if the product has none."""
        if not cls.exists(product, tuf_dir):
            raise NotFound(f"Product {product!r} has no TUF repository.")
        return cls(product, tuf_dir, keys_dir, clock=clock)

    # --- reading --------------------------------------------------------------------------------

    def root(self) -> Root:
        return Metadata[Root].from_file(str(self.metadata_dir / "root.json")).signed

    def trusted_root(self) -> bytes:
        """The newest root.json, for devices to embed as their initial trust anchor."""
        return (self.metadata_dir / "root.json").read_bytes()

    def targets(self) -> list[TargetInfo]:
        signed = Metadata[Targets].from_file(str(self.metadata_dir / "targets.json")).signed
        return sorted(
            (TargetInfo.from_target_file(t) for t in signed.targets.values()), key=lambda t: t.name
        )

    def target(self, name: str) -> TargetInfo | None:
        return next((t for t in self.targets() if t.name == name), None)

    def metadata_path(self, filename: str) -> Path:
        """The metadata file to serve for ``filename``; NotFound for anything else."""
        if not _METADATA_FILENAME.fullmatch(filename):
            raise NotFound(f"No metadata file {filename!r}.")
        path = _inside(self.metadata_dir, filename)
        if not path.is_file():
            raise NotFound(f"No metadata file {filename!r}.")
        return path

    def target_path(self, filename: str) -> Path:
        """The target file to serve for ``filename`` (hash-prefixed); NotFound for anything else."""
        try:
            validate_target_name(filename)
        except InvalidInput:
            raise NotFound(f"No target file {filename!r}.") from None
        path = _inside(self.targets_dir, filename)
        if not path.is_file():
            raise NotFound(f"No target file {filename!r}.")
        return path

    # --- writing --------------------------------------------------------------------------------

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with _file_lock(self.path / ".lock"):
            yield

    def _backend(self, root_signers: Sequence[Signer] = ()) -> _FileRepository:
        """A python-tuf Repository signing each online role with the key root trusts for it."""
        root = self.root()
        available = _load_online_keys(self.keys_dir)
        signers: dict[str, list[Signer]] = {Root.type: list(root_signers)}
        for role in ONLINE_ROLES:
            signers[role] = [available[k] for k in root.roles[role].keyids if k in available]
            if not signers[role]:
                raise NotFound(
                    f"No key in {self.keys_dir} is trusted for {role} by {self.product}'s root."
                )
        return _FileRepository(self.metadata_dir, signers, self.clock)

    def _publish_targets(self, backend: _FileRepository) -> None:
        backend.do_snapshot()
        backend.do_timestamp()

    def add_target(
        self, name: str, data: bytes | Path, custom: dict[str, Any] | None = None
    ) -> TargetInfo:
        """Store ``data`` as target ``name`` and publish new targets, snapshot and timestamp.

        Adding the same content and custom data again changes nothing.
        """
        validate_target_name(name)
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        # Stage a private copy first and hash that, so the file published is the file hashed.
        fd, tmp = tempfile.mkstemp(dir=self.targets_dir, prefix=".tmp-")
        staged = Path(tmp)
        try:
            with os.fdopen(fd, "wb") as f:
                if isinstance(data, Path):
                    with data.open("rb") as source:
                        shutil.copyfileobj(source, f)
                else:
                    f.write(data)
            staged.chmod(0o644)
            target = TargetFile.from_file(name, tmp, [HASH_ALGORITHM])
            if custom is not None:
                target.unrecognized_fields["custom"] = custom
            info = TargetInfo.from_target_file(target)
            with self._lock():
                # The file goes first: metadata naming it must never be published before it.
                destination = self.targets_dir / info.filename
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, destination)
                backend = self._backend()
                with backend.edit_targets() as targets:
                    if targets.targets.get(name) == target:
                        raise AbortEdit("target unchanged")
                    targets.targets[name] = target
                self._publish_targets(backend)
        finally:
            staged.unlink(missing_ok=True)
        return info

    def remove_target(self, name: str) -> None:
        """Stop offering target ``name``. Its file stays, since clients holding the previous
        snapshot may still fetch it. NotFound if there is no such target."""
        with self._lock():
            backend = self._backend()
            with backend.edit_targets() as targets:
                if targets.targets.pop(name, None) is None:
                    raise NotFound(f"No target {name!r} in {self.product}.")
            self._publish_targets(backend)

    def needs_refresh(self) -> list[str]:
        """Roles whose metadata expires within :data:`REFRESH_MARGIN`. "root" among them means
        the offline root keys are needed (re-sign with :meth:`rotate_root` and the same keys)."""
        deadline = self.clock()
        return [
            role
            for role in (Root.type, *ONLINE_ROLES)
            if Metadata.from_file(str(self.metadata_dir / f"{role}.json")).signed.expires
            <= deadline + REFRESH_MARGIN[role]
        ]

    def refresh_expiring(self) -> list[str]:
        """Re-sign online roles that expire soon (and those that must follow them); return the
        roles re-signed. The server runs this from a periodic job, at least every few hours."""
        with self._lock():
            stale = set(self.needs_refresh())
            if Root.type in stale:
                log.warning(
                    "root of %s expires soon: re-sign it with the offline keys", self.product
                )
            return self._resign(stale)

    def _resign(self, stale: set[str]) -> list[str]:
        """Publish new versions of the stale online roles and of every role that lists them."""
        backend = self._backend()
        resigned: list[str] = []
        if Targets.type in stale:
            with backend.edit_targets():
                pass
            resigned.append(Targets.type)
        if resigned or Snapshot.type in stale:
            backend.do_snapshot(force=True)
            resigned.append(Snapshot.type)
        if resigned or Timestamp.type in stale:
            backend.do_timestamp(force=True)
            resigned.append(Timestamp.type)
        return resigned

    def rotate_root(
        self, new_root_keys_dir: Path, *, old_root_keys_dir: Path, threshold: int | None = None
    ) -> int:
        """Publish a new root version trusting the keys in ``new_root_keys_dir`` (threshold from
        its manifest unless given), signed by the old root's threshold and the new one, so that
        devices trusting the old root follow. The same directory twice just extends root's
        expiry. Returns the new root version."""
        old_signers, _ = load_root_keys(old_root_keys_dir)
        new_signers, new_threshold = load_root_keys(new_root_keys_dir)
        if threshold is None:
            threshold = new_threshold
        if not 1 <= threshold <= len(new_signers):
            raise InvalidInput(f"Root threshold must be between 1 and {len(new_signers)}.")
        with self._lock():
            backend = self._backend(root_signers=_unique([*old_signers, *new_signers]))
            with backend.edit_root() as root:
                for keyid in list(root.roles[Root.type].keyids):
                    root.revoke_key(keyid, Root.type)
                for signer in new_signers:
                    root.add_key(signer.public_key, Root.type)
                root.roles[Root.type].threshold = threshold
            version = root.version
        log.info("%s root is now version %d", self.product, version)
        return version

    def _trust_online_key(self, role: str, signer: Signer, root_signers: Sequence[Signer]) -> None:
        """Make ``signer`` the only key of ``role`` (new root version), then re-sign ``role`` and
        the roles that list it with it."""
        with self._lock():
            if self.root().roles[role].keyids != [signer.public_key.keyid]:
                with self._backend(root_signers).edit_root() as root:
                    for keyid in list(root.roles[role].keyids):
                        root.revoke_key(keyid, role)
                    root.add_key(signer.public_key, role)
            self._resign({role})

    def export(self, dest: Path) -> Path:
        """Copy ``metadata/`` and ``targets/`` to ``dest/<product>/``; return that directory."""
        out = dest / self.product
        with self._lock():
            # Staging files (.tmp-*) stay behind; timestamp.json goes last, so a server already
            # serving ``dest`` never names a file that is not there yet.
            hidden = shutil.ignore_patterns(".*")
            shutil.copytree(self.targets_dir, out / "targets", dirs_exist_ok=True, ignore=hidden)
            shutil.copytree(
                self.metadata_dir,
                out / "metadata",
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".*", "timestamp.json"),
            )
            shutil.copy2(self.metadata_dir / "timestamp.json", out / "metadata" / "timestamp.json")
        return out


def _unique(signers: Sequence[Signer]) -> list[Signer]:
    return list({s.public_key.keyid: s for s in signers}.values())


def rotate_online_key(
    role: str, *, tuf_dir: Path, keys_dir: Path, root_keys_dir: Path, clock: Clock = utc_now
) -> str:
    """Replace the online key of ``role`` in every product's repository; return the new keyid.

    Also the revocation procedure for a leaked online key: each root stops trusting the old key
    and the old private key file is deleted. The new key waits in ``<role>.next.pem`` until every
    repository trusts it, so an interrupted rotation can simply be run again.
    """
    if role not in ONLINE_ROLES:
        raise InvalidInput(f"Online roles are {', '.join(ONLINE_ROLES)}; got {role!r}.")
    root_signers, _ = load_root_keys(root_keys_dir)
    with _file_lock(keys_dir / ".lock"):
        pending = keys_dir / f"{role}.next.pem"
        if not pending.exists():
            _write_private(pending, CryptoSigner.generate_ed25519().private_bytes)
        signer = _load_signer(pending)
        for product in product_names(tuf_dir):
            TufRepository.open(product, tuf_dir, keys_dir, clock=clock)._trust_online_key(
                role, signer, root_signers
            )
        os.replace(pending, keys_dir / f"{role}.pem")
    return signer.public_key.keyid


def refresh_all(tuf_dir: Path, keys_dir: Path) -> dict[str, list[str]]:
    """Run :meth:`TufRepository.refresh_expiring` for every product; return what was re-signed."""
    return {
        product: TufRepository.open(product, tuf_dir, keys_dir).refresh_expiring()
        for product in product_names(tuf_dir)
    }
