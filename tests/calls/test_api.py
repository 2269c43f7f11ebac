"""Marks, labels, lookups and appeals through the HTTP API."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from calls.conftest import DeviceFactory, FriendFactory
from canyu.accounts.models import Role, User
from canyu.calls import numbers
from canyu.calls.models import LabelEvent, Number
from canyu.calls.sender import LoggingSender
from canyu.client.calls import CallsClient
from canyu.db import Database

Auth = Callable[[User], dict[str, str]]
SPAMMER = "+86 138 0013 8000"
E164 = "+8613800138000"


def mark(
    client: TestClient,
    headers: dict[str, str],
    number: str = SPAMMER,
    category: str = "fraud",
    **extra: str,
) -> dict[str, object]:
    response = client.post(
        "/api/v1/calls/marks",
        json={"number": number, "category": category, **extra},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def label_number(
    client: TestClient,
    friend: FriendFactory,
    auth: Auth,
    number: str = SPAMMER,
    category: str = "fraud",
    n: int = 7,
) -> None:
    """Seven seasoned friends without devices (trust 0.5 each): evidence 3.5 > 3."""
    for _ in range(n):
        mark(client, auth(friend()), number, category)


def test_friends_mark_change_and_withdraw(
    calls_client: TestClient, friend: FriendFactory, auth: Auth
) -> None:
    me = auth(friend())
    body = mark(calls_client, me, "138 0013 8000", "telemarketing")  # region from the profile
    assert body["number"] == E164
    assert body["region"] == "CN"
    assert body["label"] is None
    body = mark(calls_client, me, E164, "fraud")  # a change, not a second mark
    assert body["category"] == "fraud"
    listed = calls_client.get("/api/v1/calls/marks", headers=me).json()
    assert listed["total"] == 1
    assert listed["marks"][0]["category"] == "fraud"
    gone = calls_client.delete(f"/api/v1/calls/marks/{E164}", headers=me)
    assert gone.status_code == 204
    assert calls_client.get("/api/v1/calls/marks", headers=me).json()["total"] == 0
    again = calls_client.delete(f"/api/v1/calls/marks/{E164}", headers=me)
    assert again.status_code == 404


def test_enough_trusted_friends_label_a_number_and_withdrawals_unlabel_it(
    calls_client: TestClient, friend: FriendFactory, auth: Auth, database: Database
) -> None:
    people = [auth(friend()) for _ in range(7)]
    for headers in people[:5]:
        assert mark(calls_client, headers)["label"] is None  # 5 x 0.5 (no devices): not yet
    mark(calls_client, people[5])
    assert mark(calls_client, people[6])["label"] == "fraud"
    with database.session() as s:
        number = s.scalar(select(Number).where(Number.e164 == E164))
        assert number is not None
        assert number.label == "fraud"
        events = s.scalars(select(LabelEvent)).all()
        assert [e.category for e in events] == ["fraud"]
    for headers in people[:3]:  # 4 x 0.5 left: under the unlabel score 2.4
        calls_client.delete(f"/api/v1/calls/marks/{E164}", headers=headers)
    with database.session() as s:
        number = s.scalar(select(Number).where(Number.e164 == E164))
        assert number is not None
        assert number.label is None
        assert [e.category for e in s.scalars(select(LabelEvent))] == ["fraud", None]


def test_new_accounts_alone_do_not_label(
    calls_client: TestClient, friend: FriendFactory, auth: Auth
) -> None:
    for _ in range(12):
        body = mark(calls_client, auth(friend(age_days=0)), "+86 21 6288 1234", "harassment")
    assert body["label"] is None


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"number": "+86 138 0013 800", "category": "fraud"}, "number", "not a valid number in CN"),
        ({"number": "banana", "category": "fraud"}, "number", "does not look like"),
        ({"number": SPAMMER, "category": "scam-ish"}, "category", "Unknown category"),
        ({"number": SPAMMER, "category": "fraud", "region": "XX"}, "region", "Unknown region"),
        ({"number": "1" * 80, "category": "fraud"}, "body.number", "at most 64"),
        ({"category": "fraud"}, "body.number", "required"),
    ],
)
def test_bad_marks_get_a_clear_4xx(
    calls_client: TestClient,
    friend: FriendFactory,
    auth: Auth,
    payload: dict[str, str],
    field: str,
    reason: str,
) -> None:
    response = calls_client.post("/api/v1/calls/marks", json=payload, headers=auth(friend()))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert reason in error["message"] + str(error["details"])
    assert field in str(error["details"])


def test_marks_need_an_account(calls_client: TestClient) -> None:
    response = calls_client.post(
        "/api/v1/calls/marks", json={"number": SPAMMER, "category": "fraud"}
    )
    assert response.status_code == 401


def test_a_flood_of_marks_from_one_account_gets_429(
    calls_client: TestClient, friend: FriendFactory, auth: Auth
) -> None:
    me = auth(friend())
    statuses = []
    for i in range(25):
        response = calls_client.post(
            "/api/v1/calls/marks",
            json={"number": f"+86 138 0013 {8000 + i}", "category": "telemarketing"},
            headers=me,
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [201] * 20
    assert set(statuses[20:]) == {429}
    assert "Too many marking" in response.json()["error"]["message"]
    # Someone else is not affected.
    assert mark(calls_client, auth(friend()), "+86 138 0013 9999")["number"]


def test_device_lookup_finds_labelled_numbers_and_never_sends_or_logs_the_number(
    calls_client: TestClient,
    friend: FriendFactory,
    auth: Auth,
    device: DeviceFactory,
    caplog: pytest.LogCaptureFixture,
    tmp_path: object,
) -> None:
    label_number(calls_client, friend, auth)
    label_number(calls_client, friend, auth, "+86 139 0000 1111", "delivery")
    token = device(friend())
    sent: list[str] = []
    calls_client.event_hooks = {"request": [lambda r: sent.append(str(r.url))], "response": []}
    phone = CallsClient(
        "http://testserver",
        token,
        data_dir=tmp_path,  # type: ignore[arg-type]
        default_region="CN",
        http=calls_client,  # type: ignore[arg-type]
    )
    caplog.set_level(logging.DEBUG)
    verdict = phone.lookup("13800138000")
    assert (verdict.spam, verdict.category, verdict.reporters) == (True, "fraud", 7)
    assert verdict.action == "block"
    delivery = phone.lookup("+8613900001111")
    assert (delivery.spam, delivery.category) == (False, "delivery")  # labelled, not blocked
    clean = phone.lookup("+8613700001111")
    assert (clean.spam, clean.category) == (False, None)
    digest = numbers.number_hash(E164)
    lookups = [u for u in sent if "/calls/lookup" in u]
    assert lookups
    for url in lookups:  # only the short prefix travels
        assert "13800138000" not in url
        assert digest not in url
        assert "13900001111" not in url
    prefixes = [u.rsplit("/", 1)[1] for u in lookups if re.search(r"/lookup/[0-9a-f]+$", u)]
    assert prefixes
    assert all(len(p) == 2 for p in prefixes)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/calls/lookup/" in logged  # the request log ran...
    for secret in ("13800138000", "13900001111", "13700001111", digest):
        assert secret not in logged  # ...and holds no number nor full hash


def test_lookup_prefix_of_the_wrong_length_gets_422(
    calls_client: TestClient, friend: FriendFactory, auth: Auth, device: DeviceFactory
) -> None:
    headers = {"Authorization": f"Bearer {device(None)}"}
    params = calls_client.get("/api/v1/calls/lookup", headers=headers).json()
    assert params["prefix_length"] == 2
    for bad in ("abc", "a", "zz", "0" * 64):
        response = calls_client.get(f"/api/v1/calls/lookup/{bad}", headers=headers)
        assert response.status_code == 422, bad
        assert response.json()["error"]["details"]["prefix_length"] == 2
    assert calls_client.get("/api/v1/calls/lookup/ab", headers=headers).status_code == 200
    assert calls_client.get("/api/v1/calls/lookup/ab").status_code == 401
    bad_token = {"Authorization": "Bearer cyd_" + "x" * 43}
    assert calls_client.get("/api/v1/calls/lookup/ab", headers=bad_token).status_code == 401


def test_prefix_length_grows_with_labelled_numbers(
    calls_client: TestClient, calls_app: object, device: DeviceFactory, database: Database
) -> None:
    from canyu.calls.settings import CallsSettings

    settings: CallsSettings = calls_app.state.calls_settings  # type: ignore[attr-defined]
    calls_app.state.calls_settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"lookup_min_bucket": 1, "lookup_prefix_min": 1}
    )
    headers = {"Authorization": f"Bearer {device(None)}"}
    assert calls_client.get("/api/v1/calls/lookup", headers=headers).json()["prefix_length"] == 1
    with database.session() as s:  # 256 labelled numbers, written directly for speed
        for i in range(256):
            e164 = f"+86138{i:08d}"
            s.add(
                Number(
                    e164=e164,
                    region="CN",
                    number_type="mobile",
                    label="fraud",
                    hash_bucket=numbers.bucket_of(numbers.number_hash(e164)),
                )
            )
    assert calls_client.get("/api/v1/calls/lookup", headers=headers).json()["prefix_length"] == 2


def test_team_looks_up_any_number_friends_cannot(
    calls_client: TestClient, friend: FriendFactory, auth: Auth
) -> None:
    label_number(calls_client, friend, auth)
    mark(calls_client, auth(friend()), SPAMMER, "telemarketing")
    team = auth(friend(role=Role.TEAM))
    body = calls_client.get(f"/api/v1/calls/numbers/{E164}", headers=team).json()
    assert body["label"] == "fraud"
    assert body["by_category"] == {"fraud": 7, "telemarketing": 1}
    assert body["score"] > 3
    assert (
        calls_client.get(f"/api/v1/calls/numbers/{E164}", headers=auth(friend())).status_code == 403
    )
    unknown = calls_client.get("/api/v1/calls/numbers/+8613700001111", headers=team).json()
    assert unknown["known"] is False
    assert unknown["label"] is None
    assert calls_client.get("/api/v1/calls/numbers/12", headers=team).status_code == 422


def test_appeal_needs_a_verified_code_and_protects_a_business_after_the_team_upholds(
    calls_client: TestClient,
    friend: FriendFactory,
    auth: Auth,
    sender: LoggingSender,
    database: Database,
) -> None:
    business = "+86 10 6552 9988"
    label_number(calls_client, friend, auth, business, "telemarketing")
    owner = auth(friend())
    appeal = {
        "number": business,
        "business_name": "Beijing Bakery",
        "reason": "We call customers back.",
    }
    refused = calls_client.post("/api/v1/calls/appeals", json=appeal, headers=owner)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_verified"
    sent = calls_client.post("/api/v1/calls/appeals/code", json={"number": business}, headers=owner)
    assert sent.status_code == 202
    to, code = sender.sent[-1]
    assert to == "+861065529988"
    wrong = "000000" if code != "000000" else "111111"
    bad = calls_client.post(
        "/api/v1/calls/appeals/verify", json={"number": business, "code": wrong}, headers=owner
    )
    assert bad.status_code == 422
    assert "attempts left" in bad.json()["error"]["message"]
    # Someone else cannot use the owner's code.
    other = auth(friend())
    stolen = calls_client.post(
        "/api/v1/calls/appeals/verify", json={"number": business, "code": code}, headers=other
    )
    assert stolen.status_code == 422
    ok = calls_client.post(
        "/api/v1/calls/appeals/verify", json={"number": business, "code": code}, headers=owner
    )
    assert ok.status_code == 200
    assert ok.json()["verified"] is True
    filed = calls_client.post("/api/v1/calls/appeals", json=appeal, headers=owner)
    assert filed.status_code == 201, filed.text
    assert filed.json()["label_at_appeal"] == "telemarketing"
    twice = calls_client.post("/api/v1/calls/appeals", json=appeal, headers=owner)
    assert twice.status_code == 409
    team_user = friend(role=Role.TEAM)
    team = auth(team_user)
    assert calls_client.get("/api/v1/calls/appeals", headers=owner).status_code == 403
    queue = calls_client.get("/api/v1/calls/appeals", headers=team).json()
    assert [a["business_name"] for a in queue] == ["Beijing Bakery"]
    decided = calls_client.post(
        f"/api/v1/calls/appeals/{queue[0]['id']}/decision",
        json={"uphold": True, "note": "Verified bakery."},
        headers=team,
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "upheld"
    told = calls_client.get("/api/v1/notifications", headers=owner).json()
    assert [n["text"] for n in told] == [
        "Your appeal for +861065529988 was upheld: the label is gone. "
        "Note from the team: Verified bakery."
    ]
    again = calls_client.post(
        f"/api/v1/calls/appeals/{queue[0]['id']}/decision", json={"uphold": True}, headers=team
    )
    assert again.status_code == 409
    summary = calls_client.get("/api/v1/calls/numbers/+861065529988", headers=team).json()
    assert summary["label"] is None
    assert summary["protected"] is True
    # The crowd can no longer label it; strong new evidence goes to the team instead.
    label_number(calls_client, friend, auth, business, "fraud", n=6)
    summary = calls_client.get("/api/v1/calls/numbers/+861065529988", headers=team).json()
    assert summary["label"] is None
    assert summary["needs_review"] is True
    decided_label = calls_client.post(
        "/api/v1/calls/numbers/+861065529988/decision",
        json={"decision": "label", "category": "fraud"},
        headers=team,
    )
    assert decided_label.json()["label"] == "fraud"
    assert decided_label.json()["needs_review"] is False


def test_rejected_appeal_keeps_the_label(
    calls_client: TestClient, friend: FriendFactory, auth: Auth, sender: LoggingSender
) -> None:
    label_number(calls_client, friend, auth)
    owner = auth(friend())
    calls_client.post("/api/v1/calls/appeals/code", json={"number": SPAMMER}, headers=owner)
    calls_client.post(
        "/api/v1/calls/appeals/verify",
        json={"number": SPAMMER, "code": sender.sent[-1][1]},
        headers=owner,
    )
    appeal = calls_client.post(
        "/api/v1/calls/appeals",
        json={"number": SPAMMER, "business_name": "x", "reason": "y"},
        headers=owner,
    ).json()
    team = auth(friend(role=Role.TEAM))
    calls_client.post(
        f"/api/v1/calls/appeals/{appeal['id']}/decision",
        json={"uphold": False, "note": "Many reports of fraud."},
        headers=team,
    )
    assert (
        calls_client.get(f"/api/v1/calls/numbers/{E164}", headers=team).json()["label"] == "fraud"
    )
    # The friend who appealed is told the decision, with the team's note and a link.
    [told] = calls_client.get("/api/v1/notifications", headers=owner).json()
    assert told["kind"] == "appeal"
    assert told["post_id"] is None
    assert told["text"] == (
        f"Your appeal for {E164} was rejected: the label stays. "
        "Note from the team: Many reports of fraud."
    )
    assert told["payload"]["link"] == f"/calls/numbers/{E164.replace('+', '%2B')}"
    assert calls_client.get("/api/v1/notifications", headers=team).json() == []


def test_codes_expire_and_run_out_of_attempts(
    calls_client: TestClient,
    friend: FriendFactory,
    auth: Auth,
    sender: LoggingSender,
    database: Database,
) -> None:
    from datetime import timedelta

    from canyu.calls.models import OwnershipCode

    owner = auth(friend())
    calls_client.post("/api/v1/calls/appeals/code", json={"number": SPAMMER}, headers=owner)
    code = sender.sent[-1][1]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        calls_client.post(
            "/api/v1/calls/appeals/verify", json={"number": SPAMMER, "code": wrong}, headers=owner
        )
    late = calls_client.post(
        "/api/v1/calls/appeals/verify", json={"number": SPAMMER, "code": code}, headers=owner
    )
    assert late.status_code == 422
    assert "Too many wrong codes" in late.json()["error"]["message"]
    calls_client.post("/api/v1/calls/appeals/code", json={"number": SPAMMER}, headers=owner)
    with database.session() as s:
        for row in s.scalars(select(OwnershipCode)):
            row.expires_at = row.created_at - timedelta(seconds=1)
    expired = calls_client.post(
        "/api/v1/calls/appeals/verify",
        json={"number": SPAMMER, "code": sender.sent[-1][1]},
        headers=owner,
    )
    assert expired.status_code == 422
    assert "No valid code" in expired.json()["error"]["message"]
    for _ in range(2):
        calls_client.post("/api/v1/calls/appeals/code", json={"number": SPAMMER}, headers=owner)
    flood = calls_client.post("/api/v1/calls/appeals/code", json={"number": SPAMMER}, headers=owner)
    assert flood.status_code == 429


def test_marks_from_a_phone_count_for_its_owner_and_a_registered_device_adds_trust(
    calls_client: TestClient,
    friend: FriendFactory,
    auth: Auth,
    device: DeviceFactory,
    database: Database,
) -> None:
    owners = [friend(age_days=20) for _ in range(3)]
    for owner in owners:
        headers = {"Authorization": f"Bearer {device(owner)}"}
        body = mark(calls_client, headers, "+86 21 6288 1234", "harassment")
    without = [friend(age_days=20) for _ in range(3)]
    for user in without:
        mark(calls_client, auth(user), "+86 21 6288 5678", "harassment")
    team = auth(friend(role=Role.TEAM))
    with_devices = calls_client.get("/api/v1/calls/numbers/+862162881234", headers=team).json()
    no_devices = calls_client.get("/api/v1/calls/numbers/+862162885678", headers=team).json()
    assert with_devices["score"] == pytest.approx(2 * no_devices["score"], rel=0.01)
    marks = calls_client.get("/api/v1/calls/marks", headers=auth(owners[0])).json()
    assert marks["total"] == 1
    assert body["category"] == "harassment"
    orphan = {"Authorization": f"Bearer {device(None)}"}
    response = calls_client.post(
        "/api/v1/calls/marks", json={"number": SPAMMER, "category": "fraud"}, headers=orphan
    )
    assert response.status_code == 403


def test_demo_calls_fill_labels_marks_and_an_appeal(
    database: Database, make_user: Callable[..., User]
) -> None:
    from canyu.calls.models import Appeal
    from canyu.calls.settings import CallsSettings
    from canyu.demo.calls import add_demo_calls

    make_user(Role.FRIEND)
    with database.session() as s:
        summary = add_demo_calls(s, settings=CallsSettings(mark_rate="1000/second"))
    assert summary.reporters == 40
    assert sum(summary.labelled.values()) >= 15
    assert {"fraud", "telemarketing", "delivery"} <= set(summary.labelled)
    with database.session() as s:
        regions = set(s.scalars(select(Number.region).where(Number.label.is_not(None))))
        assert {"CN", "IN", "US", "ES"} <= regions
        lone = s.scalars(select(Number).where(Number.marks_count == 1)).all()
        assert lone
        assert all(n.label is None for n in lone)
        assert len(s.scalars(select(Appeal)).all()) == summary.appeals == 1


def test_agreement_with_the_crowd_is_counted_per_friend(
    calls_client: TestClient, friend: FriendFactory, auth: Auth, database: Database
) -> None:
    from datetime import timedelta

    from canyu.calls import service
    from canyu.calls.models import CallMark, ReporterStats
    from canyu.calls.settings import CallsSettings
    from canyu.db import utcnow

    agreeing = friend()
    label_number(calls_client, friend, auth)  # seven others label it fraud
    mark(calls_client, auth(agreeing), SPAMMER, "fraud")
    mark(calls_client, auth(agreeing), "+8613700001111", "fraud")  # nobody else: unconfirmed
    with database.session() as s:
        for row in s.scalars(select(CallMark).where(CallMark.user_id == agreeing.id)):
            row.created_at = utcnow() - timedelta(days=8)
        assert service.recompute_reporter_stats(s, settings=CallsSettings()) == 8
        stats = s.get(ReporterStats, agreeing.id)
        assert stats is not None
        assert (stats.agreed, stats.disagreed, stats.unconfirmed) == (1, 0, 1)
