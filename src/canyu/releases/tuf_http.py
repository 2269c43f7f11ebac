"""Serves every product's TUF repository as static files, the layout any TUF client expects.

``GET /tuf/{product}/metadata/{filename}`` and ``GET /tuf/{product}/targets/{path}``. Unknown
products, unknown files and any path that tries to leave the repository get the same 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from canyu.errors import InvalidInput, NotFound
from canyu.releases.settings import ReleaseSettings, get_release_settings
from canyu.releases.tuf_repo import TufRepository

router = APIRouter(prefix="/tuf", tags=["tuf"])

SettingsDep = Annotated[ReleaseSettings, Depends(get_release_settings)]

# Versioned files and hash-named targets never change; the plain names change with every update.
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


def _repository(product: str, settings: ReleaseSettings) -> TufRepository:
    try:
        exists = TufRepository.exists(product, settings.tuf_dir)
    except InvalidInput:
        exists = False
    if not exists:
        raise NotFound(f"No TUF repository for product {product!r}.")
    return TufRepository(product, settings.tuf_dir, settings.keys_dir)


@router.get("/{product}/metadata/{filename}", summary="A TUF metadata file")
def metadata_file(product: str, filename: str, settings: SettingsDep) -> FileResponse:
    path = _repository(product, settings).metadata_path(filename)
    versioned = filename.split(".", 1)[0].isdigit()
    return FileResponse(
        path,
        media_type="application/json",
        headers={"Cache-Control": _IMMUTABLE if versioned else _REVALIDATE},
    )


@router.get("/{product}/targets/{filename:path}", summary="A TUF target file (hash-prefixed)")
def target_file(product: str, filename: str, settings: SettingsDep) -> FileResponse:
    path = _repository(product, settings).target_path(filename)
    return FileResponse(
        path, media_type="application/octet-stream", headers={"Cache-Control": _IMMUTABLE}
    )
