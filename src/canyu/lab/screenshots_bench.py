"""``canyu bench screenshots``: the server's cost of one uploaded screenshot (community.images:
open, check, turn upright, strip metadata, resize, re-encode), for a phone screenshot (PNG,
1080 x 2400, flat colours and text-like marks) and a camera photo (JPEG, 4000 x 3000, with EXIF
and a location); milliseconds per image, wall clock and this thread's CPU (medians of
``--rounds``), and bytes in and out.

The images are made here (random text-like marks on flat colour; noise for the photo), so no
data set is needed.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import time
from typing import Annotated

import typer
from PIL import Image, ImageDraw
from rich.console import Console
from rich.table import Table

from canyu.commands import JsonFlag, fail
from canyu.community import images

# CPU per image: an upload should not hold a worker noticeably; a 12 MP photo may cost more.
GOALS = {"screenshot_png_cpu_ms": "< 300", "photo_jpeg_cpu_ms": "< 1000"}


def _screenshot(rng: random.Random) -> bytes:
    image = Image.new("RGB", (1080, 2400), (246, 246, 248))
    draw = ImageDraw.Draw(image)
    for row in range(60):
        y = 80 + row * 38
        x = 40
        while x < 1000:
            width = rng.randint(12, 90)
            draw.rectangle((x, y, x + width, y + 18), fill=(rng.randint(20, 90),) * 3)
            x += width + rng.randint(8, 20)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _photo(rng: random.Random) -> bytes:
    noise = Image.frombytes("L", (1000, 750), rng.randbytes(1000 * 750)).resize((4000, 3000))
    photo = Image.merge("RGB", (noise, noise.rotate(90, expand=False), noise))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 2.0), 3: "E", 4: (121.0, 28.0, 5.0)}
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def screenshots(
    rounds: Annotated[int, typer.Option(help="Times each image is cleaned.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed of the made-up images.")] = 1,
    json_output: JsonFlag = False,
) -> None:
    """Milliseconds to clean one screenshot and one camera photo, and their sizes."""
    if not 1 <= rounds <= 100:
        raise fail("--rounds must be between 1 and 100")
    rng = random.Random(seed)
    figures: dict[str, float | int] = {}
    for name, raw in (("screenshot_png", _screenshot(rng)), ("photo_jpeg", _photo(rng))):
        times, cpu = [], []
        for _ in range(rounds):
            started, started_cpu = time.perf_counter(), time.thread_time()
            cleaned = images.clean(raw)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        figures[f"{name}_ms"] = round(statistics.median(times), 1)
        # CPU time of this thread: the same figure on a busy machine as on a quiet one.
        figures[f"{name}_cpu_ms"] = round(statistics.median(cpu), 1)
        figures[f"{name}_bytes_in"] = len(raw)
        figures[f"{name}_bytes_out"] = len(cleaned.data)
    if json_output:
        typer.echo(json.dumps(figures))
        return
    table = Table(title=f"cleaning an uploaded image (median of {rounds})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    for key, value in figures.items():
        table.add_row(key, str(value), GOALS.get(key, ""))
    Console().print(table)
