"""Screenshots made safe to keep and serve (Pillow): only real PNG, JPEG or WebP images, never
a decompression bomb, turned upright, stripped of EXIF, location and every other metadata by
re-encoding the pixels alone, and resized to a readable width."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from canyu.errors import InvalidInput

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# A phone screenshot is about 1080 x 2400 (2.6 MP); 40 MP leaves room for tablets and stitched
# long screenshots, and refuses files whose small size hides an enormous canvas.
MAX_PIXELS = 40_000_000
# The longer side after resizing: a phone's screenshot (1080 x 2400) keeps every pixel of its
# text; camera photos and tablet screens are scaled down.
MAX_SIDE = 2400
MAX_STORED_BYTES = 2 * 1024 * 1024
ACCEPTED = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
JPEG_QUALITY = 85


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, details={"field": "screenshot"})


def clean(raw: bytes) -> CleanImage:
    """Check and re-encode an uploaded screenshot; refuses anything else with a clear reason."""
    if not raw:
        raise _refuse("The screenshot is empty.")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _refuse(f"A screenshot has at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse it all.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=list(ACCEPTED)) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise _refuse(
                        f"The image is {width} × {height} pixels; at most "
                        f"{MAX_PIXELS // 1_000_000} million pixels are accepted."
                    )
                if getattr(opened, "n_frames", 1) > 1:
                    raise _refuse("Animated images are not accepted; send a still screenshot.")
                source_format = str(opened.format)
                # JPEG decodes at 1/2, 1/4 or 1/8 scale when that is still large enough: a
                # camera photo costs a fraction of a full decode.
                opened.draft("RGB", (MAX_SIDE, MAX_SIDE))
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except InvalidInput:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise _refuse("This is not a PNG, JPEG or WebP image.") from None
    except (OSError, SyntaxError, ValueError):
        raise _refuse("The image is damaged or cut short.") from None
    return _encode(image, keep_png=source_format == "PNG")


def _encode(image: Image.Image, *, keep_png: bool) -> CleanImage:
    """Pixels only: no ``exif``, ``icc_profile`` or text chunks are passed on."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    pixels = image.convert("RGBA" if has_alpha else "RGB")
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if keep_png or has_alpha:
        # Screenshots are text and flat colour: PNG keeps them sharp.
        pixels.save(out, format="PNG")
        content_type = "image/png"
        if out.tell() > MAX_STORED_BYTES and not has_alpha:
            out = io.BytesIO()
            pixels.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
            content_type = "image/jpeg"
    else:
        pixels.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        content_type = "image/jpeg"
    data = out.getvalue()
    if len(data) > MAX_STORED_BYTES:
        raise _refuse("The image is too detailed to keep; crop it to the part that matters.")
    return CleanImage(data, content_type, pixels.width, pixels.height)
