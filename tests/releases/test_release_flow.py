"""Products, builds and payloads through the API; the weekly train; release, shipped posts and
notifications; changelog credits and the opt-out; rollouts and the team's controls."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from canyu.accounts.models import Role, User
from canyu.community import service as community
from canyu.community.models import Notification, Post
from canyu.db import Database
from canyu.releases import service as releases
from canyu.releases.settings import ReleaseSettings
from canyu.releases.tuf_repo import TufRepository

from .fixtures import Shop, UserMaker, payload_bytes

Auth = Callable[[User], dict[str, str]]


@pytest.fixture
def team_headers(shop: Shop, auth: Auth) -> dict[str, str]:
    return auth(shop.team)


def _planned_post(database: Database, team: User, author: User, title: str) -> Post:
    with database.session() as s:
        post = community.create_post(s, author=author, kind="bug", title=title, body="It breaks.")
        community.change_status(s, actor=team, post_id=post.id, status="planned")
        return post


def test_builds_need_valid_strictly_increasing_versions(
    api: TestClient, shop: Shop, team_headers: dict[str, str]
) -> None:
    shop.product()
    made = api.post(
        "/api/v1/builds",
        json={"product": "canyu-1s", "channel": "beta", "version": "4.11.022"},
        headers=team_headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["version"] == "4.11.22"  # normalised
    for version, status, words in [
        ("4.11.x", 422, "not a valid version"),
        ("4.11.22", 409, "does not come after"),
        ("4.11.21", 409, "does not come after"),
        ("4.11.22+local", 422, "Local version"),
    ]:
        response = api.post(
            "/api/v1/builds",
            json={"product": "canyu-1s", "channel": "beta", "version": version},
            headers=team_headers,
        )
        assert response.status_code == status, (version, response.text)
        assert words in response.json()["error"]["message"]
    # Each channel has its own sequence; another product too.
    other = api.post(
        "/api/v1/builds",
        json={"product": "canyu-1s", "channel": "stable", "version": "4.11.20"},
        headers=team_headers,
    )
    assert other.status_code == 201
    missing = api.post(
        "/api/v1/builds",
        json={"product": "no-such", "channel": "stable", "version": "1.0"},
        headers=team_headers,
    )
    assert missing.status_code == 404


def test_only_the_team_makes_builds(
    api: TestClient, shop: Shop, make_user: UserMaker, auth: Auth
) -> None:
    shop.product()
    response = api.post(
        "/api/v1/builds",
        json={"product": "canyu-1s", "version": "1.0"},
        headers=auth(make_user()),
    )
    assert response.status_code == 403


def test_payload_upload_becomes_a_signed_target(
    api: TestClient,
    shop: Shop,
    team_headers: dict[str, str],
    release_settings: ReleaseSettings,
) -> None:
    shop.product()
    build = shop.build("4.11.22", payload=False)
    content = payload_bytes("4.11.22")
    digest = hashlib.sha256(content).hexdigest()
    url = f"/api/v1/builds/{build.id}/payloads"

    wrong = api.post(
        url,
        files={"file": ("update.zip", content)},
        data={"sha256": hashlib.sha256(b"other").hexdigest()},
        headers=team_headers,
    )
    assert wrong.status_code == 422
    assert "does not match the declared sha256" in wrong.json()["error"]["message"]

    too_big = api.post(
        url,
        files={"file": ("update.zip", b"x" * (release_settings.max_payload_bytes + 1))},
        data={"sha256": digest},
        headers=team_headers,
    )
    assert too_big.status_code == 413

    bad_name = api.post(
        url, files={"file": ("../../etc", content)}, data={"sha256": digest}, headers=team_headers
    )
    assert bad_name.status_code == 422
    # Nothing was published by the refused uploads.
    assert (
        not TufRepository.exists("canyu-1s", release_settings.tuf_dir)
        or not TufRepository.open(
            "canyu-1s", release_settings.tuf_dir, release_settings.keys_dir
        ).targets()
    )

    ok = api.post(
        url, files={"file": ("update.zip", content)}, data={"sha256": digest}, headers=team_headers
    )
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["target_name"] == "stable/4.11.22/update.zip"
    assert body["sha256"] == digest
    assert body["length"] == len(content)
    repo = TufRepository.open("canyu-1s", release_settings.tuf_dir, release_settings.keys_dir)
    target = repo.target("stable/4.11.22/update.zip")
    assert target is not None
    assert target.sha256 == digest
    assert repo.target_path(target.filename).read_bytes() == content
    # Served over HTTP as TUF expects: metadata and the hash-prefixed target.
    assert api.get("/tuf/canyu-1s/metadata/timestamp.json").status_code == 200
    assert api.get(f"/tuf/canyu-1s/targets/{target.filename}").content == content
    root = api.get("/api/v1/products/canyu-1s/root.json")
    assert root.status_code == 200
    assert root.json()["signed"]["_type"] == "root"

    detail = api.get(f"/api/v1/builds/{build.id}").json()
    assert [p["filename"] for p in detail["payloads"]] == ["update.zip"]


def test_cut_ships_planned_posts_and_notifies_authors_and_voters(
    api: TestClient,
    shop: Shop,
    team_headers: dict[str, str],
    make_user: UserMaker,
    database: Database,
) -> None:
    shop.product()
    author, voter, shy = make_user(), make_user(locale="zh"), make_user()
    first = _planned_post(database, shop.team, author, "Wi-Fi drops on wake")
    second = _planned_post(database, shop.team, voter, "相机启动很慢")
    with database.session() as s:
        community.vote(s, user=voter, post_id=first.id)
        community.vote(s, user=shy, post_id=first.id)
        s.add(Post(author_id=author.id, kind="bug", title="not planned", body="x", language="en"))
    with database.session() as s:
        releases.set_credit_optout(s, user=s.get(User, shy.id) or shy, opted_out=True)
    for post in (first, second):
        assert (
            api.put(f"/api/v1/products/canyu-1s/train/{post.id}", headers=team_headers).status_code
            == 200
        )
    assert [p["id"] for p in api.get("/api/v1/products/canyu-1s/train").json()] == [
        first.id,
        second.id,
    ]

    cut = api.post("/api/v1/products/canyu-1s/train/cut", json={}, headers=team_headers)
    assert cut.status_code == 201, cut.text
    build = cut.json()
    assert build["channel"] == "developer"
    assert build["version"] == "1.0.0"
    log = build["changelog"]
    assert [e["post_id"] for e in log["fixed"]] == [first.id, second.id]
    entry = log["fixed"][0]
    # The reporter and the voter who did not opt out are named; the shy voter is counted.
    assert entry["credit"] == {
        "reporter": author.display_name,
        "voters": [voter.display_name],
        "other_voters": 1,
    }
    assert log["fixed"][1]["title"] == "相机启动很慢"
    assert log["fixed"][1]["language"] == "zh"
    assert shy.display_name not in log["text"]
    assert author.display_name in log["text"]
    assert api.get("/api/v1/products/canyu-1s/train").json() == []
    # Nothing on the train: no empty build unless asked for.
    again = api.post("/api/v1/products/canyu-1s/train/cut", json={}, headers=team_headers)
    assert again.status_code == 409

    # Releasing (starting the rollout) ships the posts and tells authors and voters.
    with database.session() as s:
        b = releases.get_build(s, build_id=build["id"])
        releases.add_payload_bytes(
            s,
            actor=shop.team,
            build=b,
            filename="ota.bin",
            content=b"ota",
            declared_sha256=hashlib.sha256(b"ota").hexdigest(),
            settings=shop.settings,
            spool_dir=shop.settings.tuf_dir.parent / "spool",
        )
    started = api.post("/api/v1/rollouts", json={"build_id": build["id"]}, headers=team_headers)
    assert started.status_code == 201, started.text
    with database.session() as s:
        statuses = {
            p.id: p.status
            for p in s.scalars(select(Post).where(Post.id.in_([first.id, second.id])))
        }
        notified = {
            (n.user_id, n.post_id)
            for n in s.scalars(select(Notification).where(Notification.kind == "status"))
            if n.payload.get("to") == "shipped"
        }
    assert statuses == {first.id: "shipped", second.id: "shipped"}
    assert {
        (author.id, first.id),
        (voter.id, first.id),
        (shy.id, first.id),
        (voter.id, second.id),
    } <= notified


def test_credit_opt_out_is_the_friends_choice(
    api: TestClient, shop: Shop, make_user: UserMaker, auth: Auth
) -> None:
    friend = make_user()
    headers = auth(friend)
    assert api.get("/api/v1/me/release-credit", headers=headers).json() == {"opted_out": False}
    assert api.put(
        "/api/v1/me/release-credit", json={"opted_out": True}, headers=headers
    ).json() == {"opted_out": True}
    assert api.get("/api/v1/me/release-credit", headers=headers).json() == {"opted_out": True}
    assert api.get("/api/v1/me/release-credit").status_code == 401


def test_rollout_input_is_checked(
    api: TestClient, shop: Shop, team_headers: dict[str, str]
) -> None:
    shop.product()
    build = shop.build("2.0")
    bare = shop.build("2.1", payload=False)
    cases = [
        ({"build_id": 999_999}, 404, "No build"),
        ({"build_id": build.id, "stages": [5, 5, 100]}, 422, "must grow"),
        ({"build_id": build.id, "stages": [50, 20]}, 422, "must grow"),
        ({"build_id": build.id, "stages": [0, 100]}, 422, "(0, 100]"),
        ({"build_id": build.id, "stages": [10, 120]}, 422, "(0, 100]"),
        ({"build_id": build.id, "countries": ["XX"]}, 422, "Unknown country"),
        ({"build_id": bare.id}, 409, "no payload"),
    ]
    for body, status, words in cases:
        response = api.post("/api/v1/rollouts", json=body, headers=team_headers)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"]["message"], response.text
    ok = api.post(
        "/api/v1/rollouts",
        json={"build_id": build.id, "stages": [1, 10, 100]},
        headers=team_headers,
    )
    assert ok.status_code == 201
    # One live rollout per product and channel.
    clash = api.post("/api/v1/rollouts", json={"build_id": build.id}, headers=team_headers)
    assert clash.status_code == 409


def test_team_controls_pause_resume_halt_and_roll_back(
    api: TestClient, shop: Shop, team_headers: dict[str, str]
) -> None:
    shop.product()
    first = shop.build("1.0")
    rollout = shop.rollout(first, stages=(100,))
    with shop.database.session() as s:
        row = releases.get_rollout(s, rollout_id=rollout.id)
        row.status = "completed"  # as if its gates had completed it
    second = shop.build("1.1")
    started = api.post(
        "/api/v1/rollouts", json={"build_id": second.id}, headers=team_headers
    ).json()
    rid = started["id"]
    assert started["previous_build_id"] == first.id

    def act(action: str, reason: str | None = None) -> tuple[int, dict[str, object]]:
        response = api.post(
            f"/api/v1/rollouts/{rid}/{action}", json={"reason": reason}, headers=team_headers
        )
        return response.status_code, response.json()

    assert act("resume")[0] == 409  # not paused
    code, body = act("pause", "checking the camera reports")
    assert code == 200
    assert body["status"] == "paused"
    assert body["reason"] == "checking the camera reports"
    assert act("pause")[0] == 409
    code, body = act("resume")
    assert code == 200
    assert body["status"] == "active"
    assert body["reason"] is None
    code, body = act("halt", "bad modem firmware")
    assert code == 200
    assert body["status"] == "halted"
    code, body = act("rollback")
    assert code == 200
    assert body["status"] == "rolled_back"
    assert act("halt")[0] == 409
    kinds = [e["kind"] for e in api.get(f"/api/v1/rollouts/{rid}").json()["events"]]
    assert kinds == ["started", "paused", "resumed", "halted", "rolled_back"]
    assert api.post(f"/api/v1/rollouts/{rid}/explode", headers=team_headers).status_code == 422


def test_roll_back_needs_a_previous_build(
    api: TestClient, shop: Shop, team_headers: dict[str, str]
) -> None:
    shop.product()
    rollout = shop.rollout(shop.build("1.0"))
    response = api.post(f"/api/v1/rollouts/{rollout.id}/rollback", headers=team_headers)
    assert response.status_code == 409
    assert "no earlier completed build" in response.json()["error"]["message"]


def test_friends_cannot_steer_rollouts(
    api: TestClient, shop: Shop, make_user: UserMaker, auth: Auth
) -> None:
    shop.product()
    rollout = shop.rollout(shop.build("1.0"))
    response = api.post(f"/api/v1/rollouts/{rollout.id}/pause", headers=auth(make_user()))
    assert response.status_code == 403
    assert make_user(Role.TEAM)  # the team still can (covered above)
