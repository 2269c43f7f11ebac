"""The team's week without curl: the train from a post and from the week's page, the cut,
payloads, the rollout's start and its stages, weighty controls, health against limits, and a
history written in the reader's language."""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from canyu.accounts.models import Role
from canyu.community import service as community
from canyu.community.models import Status
from canyu.db import Database
from canyu.releases import chart, health, wording
from canyu.releases import service as releases
from canyu.releases.models import DeviceReport, Rollout

from .fixtures import Shop, UserMaker, payload_bytes
from .test_pages import CSRF, HTML, sign_in
from .world import ReleaseWorld, seed

WEEK = "/console/releases"


def token_of(client: TestClient, url: str) -> str:
    found = CSRF.search(client.get(url, headers=HTML).text)
    assert found, url
    return found.group(1)


def planned_post(
    shop: Shop, database: Database, make_user: UserMaker, device_model: str | None = None
) -> int:
    """An accepted post (the team plans it by boarding it, or by its status)."""
    friend = make_user()
    with database.session() as s:
        post = community.create_post(
            s,
            author=friend,
            kind="bug",
            title="Wi-Fi forgets the password",
            body="Daily.",
            device_model=device_model,
        )
        community.change_status(s, actor=shop.team, post_id=post.id, status="accepted")
        return post.id


def test_a_planned_post_is_on_its_products_next_train(
    shop: Shop, database: Database, make_user: UserMaker, api: TestClient
) -> None:
    shop.product()
    shop.product(key="canyu-pad", name="canyu Pad")
    for_pad = planned_post(shop, database, make_user, device_model="canyu Pad")
    unknown = planned_post(shop, database, make_user)
    with database.session() as s:
        for post_id in (for_pad, unknown):
            community.change_status(s, actor=shop.team, post_id=post_id, status="planned")
    with database.session() as s:
        assert [p.id for p in releases.train_posts(s, product_key="canyu-pad")] == [for_pad]
        # Two products and no model named: the post's page asks the team which train.
        assert releases.trains_of(s, post_id=unknown) == []
    calendar = api.get("/releases", headers=HTML).text
    assert "Wi-Fi forgets the password" in calendar


def test_the_team_boards_and_takes_off_from_the_posts_page(
    shop: Shop, database: Database, make_user: UserMaker, api: TestClient
) -> None:
    shop.product()
    post_id = planned_post(shop, database, make_user)  # accepted, not planned
    sign_in(api, shop.team)
    page = api.get(f"/posts/{post_id}", headers=HTML).text
    assert 'id="post-train"' in page
    assert "Put on the next train" in page
    token = token_of(api, f"/posts/{post_id}")
    boarded = api.post(
        f"{WEEK}/board",
        data={"csrf_token": token, "product": "canyu-1s", "post": str(post_id),
              "back": f"/posts/{post_id}"},
        headers=HTML,
    )  # fmt: skip
    assert boarded.status_code == 200
    assert str(boarded.url).endswith(f"/posts/{post_id}?done=boarded")
    assert "On the next train of canyu 1S." in boarded.text
    with database.session() as s:
        assert community.get_post(s, post_id=post_id).status == Status.PLANNED.value
    off = api.post(
        f"{WEEK}/leave",
        data={"csrf_token": token, "product": "canyu-1s", "post": str(post_id),
              "back": f"/posts/{post_id}"},
        headers=HTML,
    )  # fmt: skip
    assert "The post is off the train." in off.text
    with database.session() as s:
        assert releases.train_posts(s, product_key="canyu-1s") == []
    # A refusal comes back to the post with its reason, not as an error page.
    bad = api.post(
        f"{WEEK}/board",
        data={"csrf_token": token, "product": "canyu-1s", "post": "abc",
              "back": f"/posts/{post_id}"},
        headers=HTML,
    )  # fmt: skip
    assert bad.status_code == 200
    assert "Give a post by its number" in bad.text


def test_the_week_from_the_train_to_the_second_stage(
    shop: Shop, database: Database, make_user: UserMaker, api: TestClient
) -> None:
    shop.product()
    post_id = planned_post(shop, database, make_user)
    sign_in(api, shop.team)
    token = token_of(api, WEEK)
    api.post(
        f"{WEEK}/board", data={"csrf_token": token, "product": "canyu-1s", "post": f"#{post_id}"}
    )
    week = api.get(WEEK, headers=HTML).text
    assert "Wi-Fi forgets the password" in week
    assert "The post is on the next train." not in week
    cut = api.post(
        f"{WEEK}/train/canyu-1s/cut",
        data={"csrf_token": token, "version": "5.0.1", "notes": "Week 49"},
        headers=HTML,
    )
    assert cut.status_code == 200
    assert "The build is cut" in cut.text
    build_url = str(cut.url).split("?")[0]
    assert "Wi-Fi forgets the password" in cut.text  # in its changelog
    assert "Upload a payload first" in cut.text
    content = payload_bytes("5.0.1")
    wrong = api.post(
        f"{build_url}/payloads",
        data={"csrf_token": token, "sha256": "0" * 64},
        files={"file": ("update.zip", content)},
        headers=HTML,
    )
    assert "does not match the declared sha256" in wrong.text
    uploaded = api.post(
        f"{build_url}/payloads",
        data={"csrf_token": token, "sha256": hashlib.sha256(content).hexdigest()},
        files={"file": ("update.zip", content)},
        headers=HTML,
    )
    assert "The payload is uploaded and signed." in uploaded.text
    assert "developer/5.0.1/update.zip" in uploaded.text
    bad_stages = api.post(
        f"{build_url}/rollout",
        data={"csrf_token": token, "stages": "5, twenty", "channels": ["developer"]},
        headers=HTML,
    )
    assert "Stages are percentages" in bad_stages.text
    started = api.post(
        f"{build_url}/rollout",
        data={"csrf_token": token, "stages": "5, 20, 100", "channels": ["developer", "beta"]},
        headers=HTML,
    )
    assert "The rollout has started." in started.text
    rollout_url = str(started.url).split("?")[0]
    rollout_id = int(rollout_url.rsplit("/", 1)[1])
    with database.session() as s:
        rollout = releases.get_rollout(s, rollout_id=rollout_id)
        assert (rollout.channels, rollout.stages, rollout.countries) == (
            ["beta", "developer"], [5.0, 20.0, 100.0], []
        )  # fmt: skip
        assert community.get_post(s, post_id=post_id).status == Status.SHIPPED.value
    advanced = api.post(f"{rollout_url}/advance", data={"csrf_token": token}, headers=HTML)
    assert "The rollout moved on to its next stage." in advanced.text
    assert "From 5% to 20%." in advanced.text
    with database.session() as s:
        events = releases.rollout_events(s, rollout_id=rollout_id)
    assert [(e.kind, e.signals.get("from"), e.signals.get("to")) for e in events] == [
        ("started", None, 5.0),
        ("advanced", 5.0, 20.0),
    ]
    assert events[-1].actor_id == shop.team.id
    assert "Wi-Fi forgets the password" not in api.get(WEEK, headers=HTML).text  # left the train


@pytest.fixture
def world(shop: Shop, database: Database, make_user: UserMaker) -> ReleaseWorld:
    return seed(shop, database, make_user)


def test_halt_and_roll_back_need_a_reason_and_a_confirmation(
    api: TestClient, world: ReleaseWorld, database: Database
) -> None:
    url = f"/releases/rollouts/{world.rollout.id}"
    sign_in(api, world.team)
    token = token_of(api, url)
    for action in ("halt", "rollback"):
        bare = api.post(f"{url}/{action}", data={"csrf_token": token}, headers=HTML)
        assert "Say why" in bare.text
        unconfirmed = api.post(
            f"{url}/{action}", data={"csrf_token": token, "reason": "battery drain"}, headers=HTML
        )
        assert "Tick the box to confirm" in unconfirmed.text
    with database.session() as s:
        assert releases.get_rollout(s, rollout_id=world.rollout.id).status == "active"
    halted = api.post(
        f"{url}/halt",
        data={"csrf_token": token, "reason": "battery drain", "confirm": "yes"},
        headers=HTML,
    )
    assert "The rollout is halted for good." in halted.text
    assert f"By {world.team.display_name}: battery drain" in halted.text


def test_health_shows_rates_against_their_limits(api: TestClient, world: ReleaseWorld) -> None:
    page = api.get(f"/releases/rollouts/{world.rollout.id}", headers=HTML).text
    # The latest sample: 1 failed of 11 attempts, 9.1% against the 5.0% allowed, the limit
    # drawn across the chart as a line.
    failures = page.split('data-rate="failures"')[1].split("</figure>")[0]
    assert '<span class="rel-rate-value" data-value>9.1%</span>' in failures
    assert "limit 5.0%" in failures
    assert 'class="rel-rate over"' in page
    assert page.count('class="limit"') == 2
    assert 'data-limit="0.05"' in failures
    assert 'data-limit="0.1"' in page


def failed_installs(database: Database, rollout_id: int, failed: int, of: int) -> None:
    """Install reports within the rollout, as devices that were offered it send them."""
    with database.session() as s:
        build_id = releases.get_rollout(s, rollout_id=rollout_id).build_id
        for i in range(of):
            device = releases.enrol_device(
                s, product_key="canyu-1s", hardware_id=f"gate-{i}", country="CN",
                channel="stable",
            ).device  # fmt: skip
            s.add(
                DeviceReport(
                    device_id=device.id, report_id=f"gate-{i}", kind="install",
                    build_id=build_id, rollout_id=rollout_id, success=i >= failed,
                )
            )  # fmt: skip


def test_a_chinese_page_has_no_english_reason(
    api: TestClient, world: ReleaseWorld, database: Database
) -> None:
    with database.session() as s:
        row = s.get(Rollout, world.rollout.id)
        assert row is not None
        # Gates that pause on a small sample: 2 failures in 12 installs is enough here.
        row.thresholds = health.Thresholds(min_sample=5, alpha=0.5).as_dict()
    failed_installs(database, world.rollout.id, failed=2, of=12)
    with database.session() as s:
        decision = releases.evaluate(s, rollout_id=world.rollout.id)
    assert decision.action == health.Action.PAUSE
    page = api.get(
        f"/releases/rollouts/{world.rollout.id}", headers={**HTML, "Accept-Language": "zh-CN"}
    ).text
    assert "12 次安装中 2 次失败（16.7%），高于允许的 5.0%。" in page
    assert "install failures" not in page
    assert "binomial" not in page
    reason = page.split('id="rollout-reason"')[1].split("</div>")[0]
    assert not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]+>", "", reason))


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (f"{WEEK}/board", {"product": "canyu-1s", "post": "1"}),
        (f"{WEEK}/leave", {"product": "canyu-1s", "post": "1"}),
        (f"{WEEK}/train/canyu-1s/cut", {}),
        ("/releases/builds/1/payloads", {"sha256": "0" * 64}),
        ("/releases/builds/1/rollout", {"stages": "100"}),
        ("/releases/rollouts/1/advance", {}),
    ],
)
def test_only_the_team_uses_the_weeks_forms(
    api: TestClient, shop: Shop, make_user: UserMaker, url: str, data: dict[str, str]
) -> None:
    """Signed out: sent to sign in; a friend or an admin-less device: refused; no CSRF token:
    refused."""
    shop.product()
    signed_out = api.post(url, data={"csrf_token": token_of(api, "/"), **data},
                          headers=HTML, follow_redirects=False)  # fmt: skip
    assert signed_out.status_code == 303
    assert "/signin" in signed_out.headers["location"]
    assert api.get(WEEK, headers=HTML, follow_redirects=False).status_code == 303
    for role in (Role.FRIEND,):
        api.cookies.clear()
        sign_in(api, make_user(role))
        token = token_of(api, "/")
        assert api.post(url, data={"csrf_token": token, **data}, headers=HTML).status_code == 403
        assert api.get(WEEK, headers=HTML).status_code == 403
    api.cookies.clear()
    sign_in(api, make_user(Role.ADMIN))
    assert api.get(WEEK, headers=HTML).status_code == 200
    assert api.post(url, data=data, headers=HTML).status_code == 403  # no CSRF token


def test_a_device_token_does_not_open_the_week(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    with database.session() as s:
        token = releases.enrol_device(
            s, product_key="canyu-1s", hardware_id="week-1", country="CN", channel="stable"
        ).token
    response = api.get(
        WEEK, headers={**HTML, "Authorization": f"Bearer {token}"}, follow_redirects=False
    )
    assert response.status_code == 401  # a device's token is nobody's sign-in: refused


def test_wording_and_rate_charts_are_pure() -> None:
    _ = str
    assert wording.event_text(
        "advanced", reason=None, signals={"from": 5.0, "to": 20.0}, actor=None,
        thresholds={}, _=_,
    ) == "From 5% to 20%. Healthy: the gates moved it on."  # fmt: skip
    assert (
        wording.event_text(
            "paused", reason="paused by Ana", signals={}, actor="Ana", thresholds={}, _=_
        )
        == "By Ana."
    )
    assert chart.nice_ceiling(0.0625) == 0.1
    assert chart.nice_ceiling(0.125) == 0.2
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    points = [
        chart.Point(t0, 0, 0, 0, 0, 5.0),
        chart.Point(t0 + timedelta(hours=1), 18, 2, 0, 0, 20.0),
    ]
    failures = chart.rate_chart(points, "failures", 0.05)
    assert failures.value == pytest.approx(0.1)
    assert failures.over
    assert failures.points.count(",") == 1  # no attempts yet: no point
    assert [pct for _x, pct in failures.stage_marks] == [5.0, 20.0]
    _l, top, _r, bottom = failures.plot
    assert top < failures.limit_y < bottom
    assert chart.rate_chart([], "crashes", 0.1).empty
