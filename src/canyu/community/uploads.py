"""Reading uploaded screenshots from a request, bounded (routes' helper; the rules are in
community.attachments and community.images)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import UploadFile

from canyu.community.attachments import MAX_PER_ITEM
from canyu.community.images import MAX_UPLOAD_BYTES
from canyu.errors import InvalidInput


def read(files: Sequence[UploadFile]) -> list[bytes]:
    """The files' bytes; an empty file input (no file chosen) is no file. Never reads more than
    one byte past the limit, so an oversize upload is refused without being held whole."""
    chosen = [f for f in files if f.filename or (f.size or 0) > 0]
    if len(chosen) > MAX_PER_ITEM:
        raise InvalidInput(
            f"At most {MAX_PER_ITEM} screenshots per post or comment.",
            details={"field": "screenshot"},
        )
    out = []
    for upload in chosen:
        data = upload.file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidInput(
                f"A screenshot has at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
                details={"field": "screenshot"},
            )
        out.append(data)
    return out
