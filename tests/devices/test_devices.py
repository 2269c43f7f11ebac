"""Devices: registration and tokens, check-ins offered by cohort, idempotent reports, health gates
pausing by themselves, roll back, the "on your phone now" notice, and cheap check-ins."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import MarketOpener
from fastapi.testclient import TestClient
from releases.fixtures import Shop, UserMaker
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.community import service as community
from canyu.community.models import Notification, Post
from canyu.db import Database
from canyu.devices import identity
from canyu.devices.models import Device
from canyu.releases import cohort, health
from canyu.releases import service as releases
from canyu.releases.models import Build, Rollout
from canyu.releases.offers import OfferBook

Auth = Callable[[User], dict[str, str]]
GATES = health.Thresholds(min_successes=5, min_sample=10, alpha=0.01)
# Stages soak for an hour: feedback has time to arrive before a stage can advance.
SOAK = dataclasses.replace(GATES, min_stage_seconds=3600)
LATER = datetime.now(UTC) + timedelta(hours=2)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def fleet(
    database: Database,
    n: int,
    *,
    country: str = "CN",
    channel: str = "stable",
    version: str = "1.0",
    owner: User | None = None,
    prefix: str = "sn",
) -> list[str]:
    """Register ``n`` devices through the service; return their tokens."""
    with database.session() as s:
        return [
            releases.enrol_device(
                s,
                product_key="canyu-1s",
                hardware_id=f"{prefix}-{country}-{i}",
                country=country,
                channel=channel,
                owner=owner,
                version=version,
            ).token
            for i in range(n)
        ]


def checkin(api: TestClient, token: str, version: str | None = None) -> dict[str, Any] | None:
    response = api.post("/api/v1/devices/checkin", json={"version": version}, headers=bearer(token))
    assert response.status_code == 200, response.text
    offer: dict[str, Any] | None = response.json()["offer"]
    return offer


def install(api: TestClient, token: str, version: str, *, ok: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": uuid.uuid4().hex,
        "kind": "install",
        "version": version,
        "success": ok,
        "failure_code": None if ok else "E_VERIFY",
    }
    response = api.post("/api/v1/devices/reports", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def status_of(shop: Shop, rollout: Rollout) -> Rollout:
    return shop.reload(rollout)


# --- registration and tokens -----------------------------------------------------------------


def test_register_hashes_the_serial_and_sets_the_owner(
    api: TestClient, shop: Shop, make_user: UserMaker, auth: Auth, database: Database
) -> None:
    shop.product()
    friend = make_user()
    body = {"product": "canyu-1s", "hardware_id": "SN-0001", "country": "in", "channel": "beta"}
    first = api.post("/api/v1/devices", json=body, headers=auth(friend))
    assert first.status_code == 201, first.text
    data = first.json()
    assert data["token"].startswith("cyd_")
    assert data["owner_id"] == friend.id
    assert data["push"]["topic"] == "canyu/canyu-1s/beta/IN"
    assert data["tuf"]["metadata_url"].endswith("/tuf/canyu-1s/metadata/")
    with database.session() as s:
        device = s.scalars(select(Device)).one()
        assert "SN-0001" not in (device.hardware_hash, device.token_hash)
        assert device.hardware_hash == identity.hardware_hash("canyu-1s", "SN-0001")
    # Registering again (with the token it holds, its proof): same device, same owner, a new
    # token; the old one is dead.
    again = api.post("/api/v1/devices", json={**body, "device_token": data["token"]})
    assert again.status_code == 201, again.text
    assert again.json()["device_id"] == data["device_id"]
    assert again.json()["owner_id"] == friend.id
    assert checkin(api, again.json()["token"]) is None
    stale = api.post("/api/v1/devices/checkin", json={}, headers=bearer(data["token"]))
    assert stale.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product": "no-such", "hardware_id": "x", "country": "CN"}, None),
        ({"product": "canyu-1s", "hardware_id": "x", "country": "XX"}, None),
        ({"product": "canyu-1s", "hardware_id": "x", "country": "CN", "channel": "nightly"}, None),
        ({"product": "canyu-1s", "hardware_id": "", "country": "CN"}, None),
        ({"product": "canyu-1s", "hardware_id": "x", "country": "CN", "version": "v1!!"}, None),
    ],
)
def test_bad_registrations_are_refused(
    api: TestClient, shop: Shop, body: dict[str, str], field: str | None
) -> None:
    shop.product()
    response = api.post("/api/v1/devices", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["message"]


def test_unknown_malformed_and_revoked_tokens_get_401(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    (token,) = fleet(database, 1)
    cases = [
        ({}, "Send the device token"),
        (bearer("nonsense"), "Malformed device token"),
        (bearer("cyd_" + "A" * 43), "Unknown device token"),
    ]
    for headers, words in cases:
        response = api.post("/api/v1/devices/checkin", json={}, headers=headers)
        assert response.status_code == 401
        assert words in response.json()["error"]["message"]
    assert api.delete("/api/v1/devices/me", headers=bearer(token)).status_code == 204
    revoked = api.post("/api/v1/devices/checkin", json={}, headers=bearer(token))
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]["message"]
    report = api.post(
        "/api/v1/devices/reports",
        json={"report_id": "r" * 10, "kind": "crash", "version": "1.0", "crashes": 1},
        headers=bearer(token),
    )
    assert report.status_code == 401


# --- offers by cohort --------------------------------------------------------------------------


def test_offers_follow_the_cohort_and_grow_with_the_stages(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = fleet(database, 200)
    build = shop.build("2.0")
    rollout = shop.rollout(
        build, stages=(10, 50, 100), thresholds=health.Thresholds(min_successes=1000)
    )
    with database.session() as s:
        keys = {
            t: s.scalar(
                select(Device.hardware_hash).where(Device.token_hash == identity.token_hash(t))
            )
            for t in tokens
        }
    offered_at_10 = {t for t in tokens if checkin(api, t, "1.0")}
    expected = {t for t in tokens if cohort.position(str(keys[t]), "stable/2.0") < 0.10}
    assert offered_at_10 == expected
    assert 5 <= len(offered_at_10) <= 40  # about 20 of 200
    offer = checkin(api, next(iter(offered_at_10)), "1.0")
    assert offer is not None
    assert offer["target"] == "stable/2.0/update.zip"
    assert offer["version"] == "2.0"
    assert offer["rollout_id"] == rollout.id
    assert offer["rollback"] is False

    with database.session() as s:
        row = releases.get_rollout(s, rollout_id=rollout.id)
        row.stage_index = 1
    shop.runtime.offers.invalidate()
    offered_at_50 = {t for t in tokens if checkin(api, t, "1.0")}
    assert offered_at_10 < offered_at_50  # once in, always in
    assert 70 <= len(offered_at_50) <= 130
    # A device already on the build (or newer) is offered nothing.
    assert checkin(api, next(iter(offered_at_10)), "2.0") is None
    assert checkin(api, next(iter(offered_at_10)), "3.0") is None


def test_a_rollout_paused_during_a_reload_of_the_offers_is_not_offered(
    shop: Shop, database: Database
) -> None:
    """A report reloads the rules while the gates pause the rollout in another thread: the
    reload read the rollout still active, so it must not be kept as fresh for the TTL."""
    product = shop.product()
    rollout = shop.rollout(shop.build("2.0"), stages=(100,))
    book = OfferBook(ttl=300.0)

    @contextmanager
    def paused_meanwhile() -> Iterator[Session]:
        with database.session() as session:
            yield session  # the rules are read here, before the pause below commits
        with database.session() as other:
            releases.pause(other, actor=shop.team, rollout_id=rollout.id, runtime=None)
        book.invalidate()  # what the pausing session's commit hook does

    @contextmanager
    def plain() -> Iterator[Session]:
        with database.session() as session:
            yield session

    (stale,) = book.rules_for(paused_meanwhile, product.id)
    assert stale.status == "active"
    (fresh,) = book.rules_for(plain, product.id)
    assert fresh.status == "paused"
    assert book.loads == 2
    book.rules_for(plain, product.id)
    assert book.loads == 2  # and a reload nobody overtook is kept


def test_rollouts_reach_only_their_countries_channels_and_models(
    api: TestClient, shop: Shop, database: Database, open_markets: MarketOpener
) -> None:
    shop.product()
    open_markets("IN")
    india = fleet(database, 5, country="IN")
    china = fleet(database, 5, country="CN")
    beta = fleet(database, 5, country="IN", channel="beta", prefix="beta")
    shop.rollout(shop.build("2.0"), stages=(100,), countries=("IN",))
    assert all(checkin(api, t, "1.0") for t in india)
    assert not any(checkin(api, t, "1.0") for t in china + beta)


def test_paused_rollouts_offer_nothing(api: TestClient, shop: Shop, database: Database) -> None:
    shop.product()
    tokens = fleet(database, 3)
    rollout = shop.rollout(shop.build("2.0"), stages=(100,))
    assert checkin(api, tokens[0], "1.0")
    with database.session() as s:
        releases.pause(s, actor=shop.team, rollout_id=rollout.id, runtime=shop.runtime)
    assert checkin(api, tokens[0], "1.0") is None


# --- reports -------------------------------------------------------------------------------------


def test_reports_are_idempotent_and_checked(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    (token,) = fleet(database, 1)
    rollout = shop.rollout(
        shop.build("2.0"), stages=(100,), thresholds=health.Thresholds(min_successes=100)
    )
    assert checkin(api, token, "1.0") is not None  # offered: its reports count
    body = {
        "report_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "kind": "install",
        "version": "2.0",
        "success": True,
    }
    first = api.post("/api/v1/devices/reports", json=body, headers=bearer(token))
    retry = api.post("/api/v1/devices/reports", json=body, headers=bearer(token))
    assert first.json()["duplicate"] is False
    assert retry.json()["duplicate"] is True
    with database.session() as s:
        assert releases.report_counts(s, rollout_id=rollout.id) == (1, 0, 0)
        device = s.scalars(select(Device)).one()
        assert device.current_version == "2.0"
    crash = {"report_id": "crash-0001", "kind": "crash", "version": "2.0", "crashes": 3}
    assert api.post("/api/v1/devices/reports", json=crash, headers=bearer(token)).status_code == 200
    assert api.post("/api/v1/devices/reports", json=crash, headers=bearer(token)).json()[
        "duplicate"
    ]
    with database.session() as s:
        assert releases.report_counts(s, rollout_id=rollout.id) == (1, 0, 3)
    bad = [
        ({**body, "report_id": "short"}, 422),
        ({**body, "report_id": "install-0002", "success": False}, 422),  # no failure code
        ({**body, "report_id": "install-0003", "success": None}, 422),
        ({**body, "report_id": "install-0004", "kind": "reboot"}, 422),
        ({**body, "report_id": "install-0005", "version": "9.9"}, 404),
        ({**body, "report_id": "install-0006", "version": "nine"}, 422),
        ({**crash, "report_id": "crash-0002", "crashes": 0}, 422),
    ]
    for payload, status in bad:
        response = api.post("/api/v1/devices/reports", json=payload, headers=bearer(token))
        assert response.status_code == status, (payload, response.text)


# --- health gates ---------------------------------------------------------------------------


def _complete(shop: Shop, build: Build, tokens: list[str], api: TestClient) -> Rollout:
    rollout = shop.rollout(build, stages=(100,), thresholds=GATES)
    for token in tokens:
        if checkin(api, token, None):
            install(api, token, build.version)
    shop.runtime.settle()
    shop.evaluate(rollout)  # the gates ran after the reports already; this is idempotent
    assert status_of(shop, rollout).status == "completed"
    return rollout


def test_install_failures_pause_the_rollout_by_itself(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = fleet(database, 120)
    rollout = shop.rollout(shop.build("2.0"), stages=(25, 100), thresholds=GATES)
    offered = [t for t in tokens if checkin(api, t, "1.0")]
    for i, token in enumerate(offered):
        install(api, token, "2.0", ok=i % 3 != 0)  # a third fail
    after = status_of(shop, rollout)  # gates also ran after the reports
    assert after.status == "paused"
    assert after.auto_paused
    assert after.reason is not None
    assert after.reason.startswith("install failures")
    assert after.stage_index == 0
    assert not any(checkin(api, t, "1.0") for t in tokens)
    with database.session() as s:
        kinds = [e.kind for e in releases.rollout_events(s, rollout_id=rollout.id)]
    assert kinds[-1] == "auto_paused"


def test_healthy_rollouts_advance_and_complete(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = fleet(database, 60)
    rollout = shop.rollout(shop.build("2.0"), stages=(10, 50, 100), thresholds=GATES)
    for _ in range(3):  # devices poll; the gates run after each report
        for token in tokens:
            if checkin(api, token, None):
                install(api, token, "2.0")
        shop.runtime.settle()
    after = status_of(shop, rollout)
    assert (after.status, after.percent) == ("completed", 100.0)
    with database.session() as s:
        events = releases.rollout_events(s, rollout_id=rollout.id)
        assert releases.fleet(s) == [("canyu-1s", "stable", "2.0", 60)]
    assert [(e.kind, e.stage_index) for e in events] == [
        ("started", 0),
        ("advanced", 1),
        ("advanced", 2),
        ("completed", 2),
    ]
    assert events[1].signals["stage_successes"] >= events[1].signals["stage_needs"] >= 3


def test_crashes_pause_the_rollout(api: TestClient, shop: Shop, database: Database) -> None:
    shop.product()
    tokens = fleet(database, 60)
    rollout = shop.rollout(shop.build("2.0"), stages=(50, 100), thresholds=GATES)
    for n, token in enumerate(t for t in tokens if checkin(api, t, "1.0")):
        install(api, token, "2.0")
        body = {"report_id": f"crash-{n:04d}", "kind": "crash", "version": "2.0", "crashes": 2}
        api.post("/api/v1/devices/reports", json=body, headers=bearer(token))
    after = status_of(shop, rollout)
    assert after.status == "paused"
    assert after.reason is not None
    assert after.reason.startswith("crashes")


def _post_about(database: Database, author: User, version: str, n: int) -> None:
    with database.session() as s:
        for i in range(n):
            community.create_post(
                s,
                author=author,
                kind="bug",
                title=f"Problem {i} on {version}",
                body="It broke.",
                software_build=version,
                device_model="canyu 1S",
                language="en",
            )


def test_a_feedback_spike_against_the_previous_build_pauses(
    api: TestClient, shop: Shop, database: Database, make_user: UserMaker
) -> None:
    shop.product()
    friend = make_user()
    tokens = fleet(database, 120)
    _complete(shop, shop.build("2.0"), tokens, api)
    _post_about(database, friend, "2.0", 2)  # 2 posts on 120 installs
    rollout = shop.rollout(shop.build("2.1"), stages=(25, 100), thresholds=SOAK)
    offered = [t for t in tokens if checkin(api, t, "2.0")]
    for token in offered:
        install(api, token, "2.1")
    # The gates the reports started in the background finish first: one of them running after
    # the posts below would pause the rollout before the evaluation this test reads.
    shop.runtime.settle()
    _post_about(database, friend, "2.1", 12)  # 12 posts on ~30 installs
    decision = shop.evaluate(rollout, now=LATER)
    assert decision.action == health.Action.PAUSE, decision
    after = status_of(shop, rollout)
    assert after.status == "paused"
    assert after.reason is not None
    assert after.reason.startswith("feedback spike")
    assert "2.0" in after.reason
    assert decision.signals["feedback_p"] < GATES.alpha
    # The team looks, decides it is fine and resumes: only new signals count from now on.
    with database.session() as s:
        releases.resume(s, actor=shop.team, rollout_id=rollout.id, runtime=shop.runtime)
    assert shop.evaluate(rollout, now=LATER).action == health.Action.ADVANCE


def test_feedback_at_the_usual_rate_does_not_pause(
    api: TestClient, shop: Shop, database: Database, make_user: UserMaker
) -> None:
    shop.product()
    friend = make_user()
    tokens = fleet(database, 120)
    _complete(shop, shop.build("2.0"), tokens, api)
    _post_about(database, friend, "2.0", 12)
    rollout = shop.rollout(shop.build("2.1"), stages=(25, 100), thresholds=SOAK)
    for token in [t for t in tokens if checkin(api, t, "2.0")]:
        install(api, token, "2.1")
    _post_about(database, friend, "2.1", 3)
    assert shop.evaluate(rollout).action == health.Action.HOLD  # soaking
    decision = shop.evaluate(rollout, now=LATER)
    assert decision.action == health.Action.ADVANCE, decision
    assert decision.signals["feedback_p"] > GATES.alpha


def test_roll_back_offers_the_previous_build_to_the_cohort(
    api: TestClient, shop: Shop, database: Database
) -> None:
    shop.product()
    tokens = fleet(database, 40)
    _complete(shop, shop.build("2.0"), tokens, api)
    bad = shop.rollout(
        shop.build("2.1"), stages=(50, 100), thresholds=health.Thresholds(min_successes=1000)
    )
    took = [t for t in tokens if checkin(api, t, "2.0")]
    for token in took:
        install(api, token, "2.1")
    with database.session() as s:
        releases.roll_back(
            s, actor=shop.team, rollout_id=bad.id, reason="modem", runtime=shop.runtime
        )
    for token in took:
        offer = checkin(api, token, "2.1")
        assert offer is not None
        assert offer["version"] == "2.0"
        assert offer["rollback"] is True
    others = [t for t in tokens if t not in took]
    assert all(checkin(api, t, "2.0") is None for t in others)


# --- the friend is told ------------------------------------------------------------------------


def test_the_friend_hears_their_fix_is_on_their_phone(
    api: TestClient,
    shop: Shop,
    database: Database,
    make_user: UserMaker,
    auth: Callable[[User], dict[str, str]],
) -> None:
    shop.product()
    friend, stranger = make_user(), make_user()
    with database.session() as s:
        post = community.create_post(
            s, author=friend, kind="bug", title="GPS drifts", body="Off by 100 m."
        )
        community.change_status(s, actor=shop.team, post_id=post.id, status="planned")
    mine = fleet(database, 2, owner=friend, prefix="mine")
    theirs = fleet(database, 1, owner=stranger, prefix="theirs")
    shop.rollout(
        shop.build("2.0", post_ids=(post.id,)),
        stages=(100,),
        thresholds=health.Thresholds(min_successes=1000),
    )
    for token in mine + theirs:
        assert checkin(api, token, "1.0")
        install(api, token, "2.0")
    with database.session() as s:
        notices = s.scalars(select(Notification).where(Notification.kind == "installed")).all()
        shipped = s.get(Post, post.id)
        assert shipped is not None
        assert shipped.status == "shipped"
    assert [(n.user_id, n.post_id) for n in notices] == [(friend.id, post.id)]  # once, to the owner
    assert notices[0].payload == {
        "event": "installed",
        "post_id": post.id,
        "post_title": "GPS drifts",
        "build": "2.0",
        "product": "canyu 1S",
    }
    # The friend reads it in their notifications, in their own language.
    with database.session() as s:
        zh = s.get(User, friend.id)
        assert zh is not None
        zh.locale = "zh"
    found = api.get("/api/v1/notifications", headers=auth(friend)).json()
    installed = [n for n in found if n["kind"] == "installed"]
    text = "已在版本 2.0 中修复——现在已经在你的手机上：“GPS drifts”。"
    assert [n["text"] for n in installed] == [text]


# --- cheap check-ins ---------------------------------------------------------------------------


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", record)
    yield seen
    event.remove(database.engine, "before_cursor_execute", record)


def test_a_check_in_is_one_indexed_lookup(
    shop: Shop, database: Database, statements: list[str]
) -> None:
    shop.product()
    tokens = fleet(database, 50)
    shop.rollout(shop.build("2.0"), stages=(50, 100))
    shop.runtime.offers.ttl = 60.0
    with database.session() as s:  # warm the offers once
        releases.check_in(
            s,
            token_digest=identity.token_hash(tokens[0]),
            version="1.0",
            offers=shop.runtime.offers,
        )
    statements.clear()
    for token in tokens[1:]:
        with database.session() as s:
            releases.check_in(
                s,
                token_digest=identity.token_hash(token),
                version="1.0",
                offers=shop.runtime.offers,
            )
    selects = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len(tokens) - 1  # one per check-in, never a scan
    assert all("WHERE devices.token_hash =" in q for q in selects)
    assert not any("FROM builds" in q or "FROM rollouts" in q for q in statements)
