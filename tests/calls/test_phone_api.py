"""The phone's routes: SMS reports (calls), the device's notices and feedback (releases). Roles
and ownership: signed out, friend, another friend, team, admin, a device with and without an
owner."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from conftest import assert_error
from fastapi.testclient import TestClient
from sqlalchemy import select

from calls.conftest import DeviceFactory, FriendFactory
from canyu.accounts.models import Role, User
from canyu.calls import service
from canyu.calls.models import SmsReport
from canyu.community import service as community
from canyu.db import Database

Auth = Callable[[User], dict[str, str]]
REPORTS = "/api/v1/calls/sms/reports"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sms_reports_by_role_and_from_the_phone(
    calls_client: TestClient,
    friend: FriendFactory,
    device: DeviceFactory,
    auth: Auth,
    database: Database,
) -> None:
    owner = friend()
    body = {"text": "You won a prize, call 0906", "label": "spam", "language": "en"}
    assert_error(calls_client.post(REPORTS, json=body), 401, "unauthorized")
    assert_error(
        calls_client.post(REPORTS, json=body, headers=bearer(device(None))), 403, "forbidden"
    )
    from_phone = calls_client.post(REPORTS, json=body, headers=bearer(device(owner)))
    assert from_phone.status_code == 201, from_phone.text
    assert from_phone.json()["label"] == "spam"
    for role in (Role.FRIEND, Role.TEAM, Role.ADMIN):
        answer = calls_client.post(
            REPORTS,
            json={**body, "label": "ham", "text": f"lunch at 12? {role}"},
            headers=auth(friend(role=role)),
        )
        assert answer.status_code == 201, answer.text
    for bad in (
        {**body, "label": "maybe"},
        {**body, "text": ""},
        {**body, "text": "x" * 1001},
        {**body, "language": "english!"},
        {**body, "model_version": -1},
    ):
        assert_error(
            calls_client.post(REPORTS, json=bad, headers=auth(owner)), 422, "invalid_input"
        )
    with database.session() as s:
        rows = s.scalars(select(SmsReport).order_by(SmsReport.id)).all()
        assert next((r.user_id, r.label) for r in rows) == (owner.id, "spam")
        texts, labels = service.reports_for_training(s, language="en")
    assert len(texts) == 4
    assert sorted(labels) == [0, 0, 0, 1]


def test_the_next_training_run_learns_from_reports() -> None:
    from canyu.calls import sms
    from canyu.calls.service.sms import publish_sms_model

    published: list[tuple[str, bytes]] = []

    class Capture:
        def publish(self, files: Sequence[tuple[str, bytes]]) -> None:
            published.extend(files)

    texts = [f"see you at {i}" for i in range(60)] + [f"WIN cash {i} now" for i in range(20)]
    labels = np.array([0] * 60 + [1] * 20, dtype=np.int8)
    missed = "Parcel held: pay the customs fee at http://dhl-fee.example"
    result = publish_sms_model(
        texts=texts,
        labels=labels,
        language="en",
        publisher=Capture(),
        report_texts=[missed] * 5,
        report_labels=[1] * 5,
        target_fpr=0.0,
        version=7,
    )
    assert [name for name, _ in published] == ["sms/en/model-7.cysms", "sms/en/index.json"]
    assert result.reports == 5
    model = sms.SmsWeights.from_bytes(published[0][1])
    assert model.version == 7
    assert model.is_spam(missed)[0]


def test_a_device_reads_only_its_owners_notices(
    calls_client: TestClient,
    friend: FriendFactory,
    device: DeviceFactory,
    auth: Auth,
    database: Database,
) -> None:
    owner, other = friend(), friend()
    with database.session() as s:
        mine = community.create_post(s, author=owner, kind="bug", title="Alarm silent", body="!")
        theirs = community.create_post(s, author=other, kind="bug", title="Wi-Fi drops", body="!")
        community.tell(s, user_id=owner.id, posts=[mine], event="installed", build="2.0")
        community.tell(s, user_id=other.id, posts=[theirs], event="installed", build="2.0")
    path = "/api/v1/devices/notices"
    assert_error(calls_client.get(path), 401, "unauthorized")
    assert_error(calls_client.get(path, headers=auth(owner)), 401, "unauthorized")
    assert calls_client.get(path, headers=bearer(device(None))).json() == {
        "notices": [],
        "last_id": 0,
    }
    phone = bearer(device(owner))
    got = calls_client.get(path, headers=phone).json()
    assert [n["text"] for n in got["notices"]] == [
        "Fixed in build 2.0 — it is on your phone now: “Alarm silent”."
    ]
    again = calls_client.get(path, params={"after": got["last_id"]}, headers=phone).json()
    assert again == {"notices": [], "last_id": got["last_id"]}
    for bad in ({"after": -1}, {"limit": 0}, {"limit": 1000}):
        assert_error(calls_client.get(path, params=bad, headers=phone), 422, "invalid_input")


def test_feedback_from_a_device_carries_its_build_and_a_log_excerpt(
    calls_client: TestClient,
    friend: FriendFactory,
    device: DeviceFactory,
    auth: Auth,
    database: Database,
) -> None:
    owner = friend()
    path = "/api/v1/devices/feedback"
    body = {"title": "Camera freezes", "body": "When zooming.", "log": "boot ok\ncamera: ANR"}
    assert_error(calls_client.post(path, json=body), 401, "unauthorized")
    assert_error(calls_client.post(path, json=body, headers=auth(owner)), 401, "unauthorized")
    orphan = calls_client.post(path, json=body, headers=bearer(device(None)))
    assert_error(orphan, 403, "forbidden")
    phone = bearer(device(owner))
    for bad in ({**body, "title": ""}, {**body, "kind": "rant"}, {**body, "log": "x" * 100_001}):
        assert_error(calls_client.post(path, json=bad, headers=phone), 422, "invalid_input")
    made = calls_client.post(path, json=body, headers=phone)
    assert made.status_code == 201, made.text
    post_id = made.json()["id"]
    assert made.json()["device_model"] == "canyu-1s"
    with database.session() as s:
        post = community.get_post(s, post_id=post_id)
        assert post.author_id == owner.id
        assert "Sent from the device: canyu 1S, model canyu-1s" in post.body
        assert "stable channel" in post.body
        assert "camera: ANR" in post.body
