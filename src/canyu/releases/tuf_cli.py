"""`canyu keys ...` and `canyu release export-tuf`: the operator's side of the TUF repositories.

Plain functions with Typer signatures; the releases CLI registers them as commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from canyu.errors import CanyuError
from canyu.releases.settings import get_release_settings
from canyu.releases.tuf_repo import (
    ONLINE_ROLES,
    TufRepository,
    init_keys,
    init_root_keys,
    product_names,
    rotate_online_key,
)

console = Console(stderr=True)

KeysDir = Annotated[
    Path | None,
    typer.Option("--keys-dir", help="Online keys; default CANYU_RELEASE_KEYS_DIR."),
]
RootKeysDir = Annotated[
    Path | None,
    typer.Option("--root-keys-dir", help="Offline root keys; default CANYU_RELEASE_ROOT_KEYS_DIR."),
]
TufDir = Annotated[
    Path | None,
    typer.Option("--tuf-dir", help="The repositories; default CANYU_RELEASE_TUF_DIR."),
]
Product = Annotated[
    str | None, typer.Option("--product", help="Only this product (default: every product).")
]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _products(tuf_dir: Path, product: str | None) -> list[str]:
    if product is not None:
        if not TufRepository.exists(product, tuf_dir):
            raise _fail(f"product {product!r} has no TUF repository under {tuf_dir}")
        return [product]
    products = product_names(tuf_dir)
    if not products:
        raise _fail(f"no TUF repositories under {tuf_dir}")
    return products


def keys_init(
    keys_dir: KeysDir = None,
    root_keys_dir: RootKeysDir = None,
    threshold: Annotated[int, typer.Option(help="Root keys needed to sign a root.")] = 2,
    count: Annotated[int, typer.Option(help="Root keys to create.")] = 3,
    force: Annotated[bool, typer.Option(help="Replace existing keys.")] = False,
    root_only: Annotated[
        bool, typer.Option(help="Only create root keys (new keys for `keys rotate-root`).")
    ] = False,
) -> None:
    """Create the offline root keys and the online targets/snapshot/timestamp keys."""
    settings = get_release_settings()
    keys_dir = keys_dir or settings.keys_dir
    root_keys_dir = root_keys_dir or settings.root_keys_dir
    try:
        if root_only:
            init_root_keys(root_keys_dir, threshold=threshold, count=count, force=force)
        else:
            init_keys(
                keys_dir,
                root_keys_dir=root_keys_dir,
                root_threshold=threshold,
                root_key_count=count,
                force=force,
            )
    except CanyuError as e:
        raise _fail(e.message) from e
    console.print(f"root keys ({threshold} of {count}) in {root_keys_dir}: move them offline")
    if not root_only:
        console.print(f"online keys in {keys_dir}")


def keys_rotate_root(
    new_root_keys_dir: Annotated[
        Path, typer.Option("--new-root-keys-dir", help="Root keys from `keys init --root-only`.")
    ],
    product: Product = None,
    root_keys_dir: RootKeysDir = None,
    tuf_dir: TufDir = None,
    keys_dir: KeysDir = None,
) -> None:
    """Publish a new root trusting the new root keys, signed by the old and the new keys."""
    settings = get_release_settings()
    tuf_dir = tuf_dir or settings.tuf_dir
    old_root_keys_dir = root_keys_dir or settings.root_keys_dir
    try:
        for name in _products(tuf_dir, product):
            repo = TufRepository.open(name, tuf_dir, keys_dir or settings.keys_dir)
            version = repo.rotate_root(new_root_keys_dir, old_root_keys_dir=old_root_keys_dir)
            console.print(f"{name}: root version {version}")
    except CanyuError as e:
        raise _fail(e.message) from e
    console.print(f"the keys in {new_root_keys_dir} are now the root keys; retire the old ones")


def keys_rotate_online(
    role: Annotated[str, typer.Argument(help=f"One of {', '.join(ONLINE_ROLES)}.")],
    root_keys_dir: RootKeysDir = None,
    tuf_dir: TufDir = None,
    keys_dir: KeysDir = None,
) -> None:
    """Replace (and so revoke) an online key in every product's root."""
    settings = get_release_settings()
    try:
        keyid = rotate_online_key(
            role,
            tuf_dir=tuf_dir or settings.tuf_dir,
            keys_dir=keys_dir or settings.keys_dir,
            root_keys_dir=root_keys_dir or settings.root_keys_dir,
        )
    except CanyuError as e:
        raise _fail(e.message) from e
    console.print(f"{role} key is now {keyid}; the old key is revoked")


def export_tuf(
    dest: Annotated[Path, typer.Argument(help="Writes DEST/<product>/metadata and targets.")],
    product: Product = None,
    tuf_dir: TufDir = None,
) -> None:
    """Write each product's whole TUF repository for a plain static file server."""
    settings = get_release_settings()
    tuf_dir = tuf_dir or settings.tuf_dir
    try:
        for name in _products(tuf_dir, product):
            out = TufRepository.open(name, tuf_dir, settings.keys_dir).export(dest)
            console.print(f"{name}: {out}")
    except CanyuError as e:
        raise _fail(e.message) from e
