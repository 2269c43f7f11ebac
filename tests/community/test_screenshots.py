"""Screenshots on posts and comments: EXIF and location stripped, turned upright, resized, limits
enforced (not an image, decompression bombs, oversize, too many), nothing half-written on a
refusal, and served with the right headers only to those who may read the post."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import UserFactory, assert_error
from fastapi.testclient import TestClient
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select
from typer.testing import CliRunner

from canyu.accounts.models import Role, User
from canyu.cli import app
from canyu.community import images
from canyu.community.team_models import Attachment
from canyu.db import Database
from canyu.errors import InvalidInput

Auth = Callable[[User], dict[str, str]]
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_with_location(size: tuple[int, int] = (400, 300), orientation: int = 1) -> bytes:
    """A JPEG as a phone camera writes it: maker, GPS position, orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 2.0), 3: "E", 4: (121.0, 28.0, 5.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the sample has a location"
    return data


def png(size: tuple[int, int] = (300, 200), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang Wei, +86 138 0000 0000")
    Image.new(mode, size).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def upload(
    client: TestClient, headers: dict[str, str], url: str, *files: tuple[str, bytes, str]
) -> Any:
    return client.post(
        url, files=[("files", (name, data, kind)) for name, data, kind in files], headers=headers
    )


def new_post(client: TestClient, headers: dict[str, str]) -> int:
    body = {"kind": "bug", "title": "Settings crash", "body": "See the screenshot."}
    response = client.post("/api/v1/feedback", json=body, headers=headers)
    assert response.status_code == 201, response.text
    post_id: int = response.json()["id"]
    return post_id


def stored(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(Attachment)) or 0)


def test_exif_and_location_are_gone_and_the_photo_is_upright(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    friend = make_user()
    pid = new_post(client, auth(friend))
    # Orientation 6: the camera held sideways; the pixels must be turned before EXIF goes.
    sent = photo_with_location((400, 300), orientation=6)
    response = upload(
        client, auth(friend), f"/api/v1/feedback/{pid}/screenshots", ("p.jpg", sent, "image/jpeg")
    )
    assert response.status_code == 201, response.text
    [meta] = response.json()
    assert (meta["width"], meta["height"], meta["content_type"]) == (300, 400, "image/jpeg")
    image = client.get(meta["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["cache-control"] == "private, max-age=3600"
    assert image.headers["content-disposition"].startswith("inline")
    served = Image.open(io.BytesIO(image.content))
    assert not served.getexif()
    assert b"Exif" not in image.content
    assert b"PhoneMaker" not in image.content
    assert served.size == (300, 400)
    again = client.get(meta["url"], headers={"If-None-Match": image.headers["etag"]})
    assert again.status_code == 304


def test_png_text_is_dropped_and_large_images_are_resized() -> None:
    cleaned = images.clean(png((4800, 1000)))
    assert cleaned.content_type == "image/png"
    assert (cleaned.width, cleaned.height) == (2400, 500)
    assert b"Zhang Wei" not in cleaned.data
    assert not Image.open(io.BytesIO(cleaned.data)).info.get("Author")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "not a PNG, JPEG or WebP"),
        (b"", "empty"),
        (png()[:200], "damaged"),
        (b"\x89PNG" + b"0" * (images.MAX_UPLOAD_BYTES + 1), "at most 8 MB"),
    ],
    ids=["html", "empty", "truncated", "oversize"],
)
def test_what_is_not_really_an_image_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        images.clean(data)


def test_decompression_bombs_and_animations_are_refused() -> None:
    # 7000 x 7000 one-bit pixels compress to a few kB but would decode to 49 million pixels.
    out = io.BytesIO()
    Image.new("1", (7000, 7000)).save(out, format="PNG")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(InvalidInput, match="million pixels"):
        images.clean(out.getvalue())
    # Beyond Pillow's own bomb limit it refuses before decoding anything.
    huge = io.BytesIO()
    Image.new("1", (20000, 10000)).save(huge, format="PNG")
    with pytest.raises(InvalidInput):
        images.clean(huge.getvalue())
    frames = io.BytesIO()
    first, second = Image.new("RGB", (10, 10), "red"), Image.new("RGB", (10, 10), "blue")
    first.save(frames, format="WEBP", save_all=True, append_images=[second])
    with pytest.raises(InvalidInput, match="Animated"):
        images.clean(frames.getvalue())


def test_one_bad_file_refuses_the_whole_upload_and_limits_hold(
    client: TestClient, make_user: UserFactory, auth: Auth, database: Database
) -> None:
    friend = make_user()
    pid = new_post(client, auth(friend))
    url = f"/api/v1/feedback/{pid}/screenshots"
    good = ("a.png", png(), "image/png")
    bad = ("b.png", b"GIF89a not really", "image/png")
    assert_error(upload(client, auth(friend), url, good, bad), 422, "invalid_input")
    assert stored(database) == 0
    assert_error(upload(client, auth(friend), url, *[good] * 5), 422, "invalid_input")
    assert stored(database) == 0
    assert upload(client, auth(friend), url, *[good] * 3).status_code == 201
    error = assert_error(upload(client, auth(friend), url, good, good), 422, "invalid_input")
    assert "At most 4" in error["message"]
    assert stored(database) == 3


def test_screenshots_follow_the_posts_visibility(
    client: TestClient, make_user: UserFactory, auth: Auth
) -> None:
    author, other, team = make_user(), make_user(), make_user(Role.TEAM)
    pid = new_post(client, auth(author))
    comment = client.post(
        f"/api/v1/feedback/{pid}/comments", json={"body": "Mine too"}, headers=auth(other)
    ).json()
    # Only the author (or the team) adds screenshots to a post or a comment.
    url = f"/api/v1/feedback/{pid}/screenshots"
    assert_error(upload(client, auth(other), url, ("a.png", png(), "image/png")), 403, "forbidden")
    on_post = upload(client, auth(author), url, ("a.png", png(), "image/png")).json()[0]
    on_comment = upload(
        client,
        auth(other),
        f"/api/v1/comments/{comment['id']}/screenshots",
        ("b.png", png(), "image/png"),
    ).json()[0]
    listed = client.get(f"/api/v1/feedback/{pid}/screenshots").json()
    assert [a["id"] for a in listed] == [on_post["id"], on_comment["id"]]
    assert client.get(on_post["url"]).status_code == 200
    hidden = client.post(
        f"/api/v1/moderation/posts/{pid}",
        json={"action": "hide", "reason": "Private data"},
        headers=auth(team),
    )
    assert hidden.status_code == 200
    # Signed out and another friend: nothing; the author and the team: the image.
    assert client.get(on_post["url"]).status_code == 404
    assert client.get(on_post["url"], headers=auth(other)).status_code == 404
    assert client.get(on_post["url"], headers=auth(author)).status_code == 200
    assert client.get(on_post["url"], headers=auth(team)).status_code == 200
    assert client.get("/screenshots/99999").status_code == 404


def test_the_bench_prints_the_cost_per_image() -> None:
    result = CliRunner().invoke(app, ["bench", "screenshots", "--rounds", "1", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["screenshot_png_cpu_ms"] > 0
    assert 0 < figures["photo_jpeg_bytes_out"] < figures["photo_jpeg_bytes_in"]
    refused = CliRunner().invoke(app, ["bench", "screenshots", "--rounds", "0"])
    assert refused.exit_code != 0
