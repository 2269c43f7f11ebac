"""The calls pages through TestClient: both languages, forms with CSRF, errors, roles."""

from __future__ import annotations

import re
from collections.abc import Callable

from conftest import PASSWORD
from fastapi.testclient import TestClient

from calls.conftest import FriendFactory
from canyu.accounts.models import Role, User
from canyu.calls.sender import LoggingSender
from canyu.web.templating import LOCALE_COOKIE

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
Auth = Callable[[User], dict[str, str]]


def csrf(client: TestClient, path: str) -> str:
    found = _CSRF.search(client.get(path, headers=HTML).text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: TestClient, user: User) -> None:
    response = client.post(
        "/signin",
        data={"csrf_token": csrf(client, "/signin"), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def label(
    client: TestClient, friend: FriendFactory, auth: Auth, number: str, category: str
) -> None:
    for _ in range(7):
        response = client.post(
            "/api/v1/calls/marks",
            json={"number": number, "category": category},
            headers=auth(friend()),
        )
        assert response.status_code == 201


def test_marks_page_needs_sign_in_then_marks_changes_and_withdraws(
    calls_client: TestClient, friend: FriendFactory
) -> None:
    first = calls_client.get("/calls", headers=HTML, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"].startswith("/signin")
    sign_in(calls_client, friend())
    page = calls_client.get("/calls", headers=HTML)
    assert "You have not marked any number yet." in page.text
    token = csrf(calls_client, "/calls")
    done = calls_client.post(
        "/calls/marks",
        data={"csrf_token": token, "number": "138 0013 8000", "category": "telemarketing"},
    )
    assert done.status_code == 200
    assert "your mark is saved" in done.text
    assert "+8613800138000" in done.text
    changed = calls_client.post(
        "/calls/marks", data={"csrf_token": token, "number": "+8613800138000", "category": "fraud"}
    )
    assert '<option value="fraud" selected>' in changed.text
    bad = calls_client.post(
        "/calls/marks", data={"csrf_token": token, "number": "+86 138", "category": "fraud"}
    )
    assert bad.status_code == 422
    assert "not a valid phone number" in bad.text
    assert 'value="+86 138"' in bad.text  # what was typed stays in the form
    forged = calls_client.post(
        "/calls/marks", data={"csrf_token": "nope", "number": "+8613800138001", "category": "fraud"}
    )
    assert forged.status_code == 403
    gone = calls_client.post(
        "/calls/marks/withdraw", data={"csrf_token": token, "number": "+8613800138000"}
    )
    assert "Your mark is withdrawn." in gone.text
    assert "You have not marked" in gone.text


def test_number_page_shows_label_counts_and_appeal_in_both_languages(
    calls_client: TestClient, friend: FriendFactory, auth: Auth
) -> None:
    label(calls_client, friend, auth, "+8613800138000", "fraud")
    calls_client.post(
        "/api/v1/calls/marks",
        json={"number": "+8613800138000", "category": "other"},
        headers=auth(friend()),
    )
    page = calls_client.get("/calls/numbers/+8613800138000", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "+86 138 0013 8000" in text
    assert "Fraud</strong> — marked by 7 friends" in text
    assert "Phones intercept this number." in text
    assert "This is my number — appeal" in text
    assert "/calls/numbers/%2B8613800138000/appeal" in text
    calls_client.cookies.set(LOCALE_COOKIE, "zh")
    zh = calls_client.get("/calls/numbers/%2B8613800138000", headers=HTML).text
    assert "诈骗" in zh
    assert "7 位朋友标记" in zh
    assert "申诉" in zh
    assert "Phones intercept" not in zh
    unknown = calls_client.get("/calls/numbers/+8613700001111", headers=HTML)
    assert unknown.status_code == 200
    assert "没有人标记过这个号码" in unknown.text
    calls_client.cookies.set(LOCALE_COOKIE, "en")
    invalid = calls_client.get("/calls/numbers/12345", headers=HTML)
    assert invalid.status_code == 422
    assert "not a valid phone number" in invalid.text


def test_appeal_steps_and_team_queue(
    calls_client: TestClient, friend: FriendFactory, auth: Auth, sender: LoggingSender
) -> None:
    label(calls_client, friend, auth, "+861065529988", "telemarketing")
    owner = friend()
    sign_in(calls_client, owner)
    url = "/calls/numbers/%2B861065529988/appeal"
    token = csrf(calls_client, url)
    early = calls_client.post(
        url, data={"csrf_token": token, "business_name": "Bakery", "reason": "x"}
    )
    assert early.status_code == 403
    assert "Prove that you control this number" in early.text
    sent = calls_client.post(url + "/code", data={"csrf_token": token})
    assert sent.status_code == 200
    assert "The code you received" in sent.text
    wrong = calls_client.post(url + "/verify", data={"csrf_token": token, "code": "abc"})
    assert wrong.status_code == 422
    assert "Wrong code" in wrong.text
    ok = calls_client.post(url + "/verify", data={"csrf_token": token, "code": sender.sent[-1][1]})
    assert "Business or owner name" in ok.text
    filed = calls_client.post(
        url,
        data={
            "csrf_token": token,
            "business_name": "Beijing Bakery",
            "reason": "We call customers back about orders.",
        },
    )
    assert "Your appeal is with the team" in filed.text
    assert calls_client.get("/calls/appeals", headers=HTML).status_code == 403

    team = friend(role=Role.TEAM)
    calls_client.cookies.clear()
    sign_in(calls_client, team)
    queue = calls_client.get("/calls/appeals", headers=HTML)
    assert "Beijing Bakery" in queue.text
    assert "We call customers back about orders." in queue.text
    appeal_id = re.search(r"/calls/appeals/(\d+)/decide", queue.text)
    assert appeal_id
    token = csrf(calls_client, "/calls/appeals")
    decided = calls_client.post(
        f"/calls/appeals/{appeal_id.group(1)}/decide",
        data={"csrf_token": token, "decision": "uphold", "note": "ok"},
    )
    assert "the number is protected" in decided.text
    assert "No appeals are waiting." in decided.text
    number = calls_client.get("/calls/numbers/+861065529988", headers=HTML).text
    assert "Verified business" in number
    assert "Evidence score" in number
    calls_client.cookies.set(LOCALE_COOKIE, "zh")
    assert "号码申诉" in calls_client.get("/calls/appeals", headers=HTML).text


def test_every_calls_string_has_a_chinese_translation() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from canyu.i18n import LOCALE_DIR
    from canyu.web.templating import TEMPLATE_DIR

    with (LOCALE_DIR / "zh" / "calls.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id and m.string
    }
    missing = []
    method_map = [("**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(
        TEMPLATE_DIR / "calls",
        method_map=method_map,
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        ids = message if isinstance(message, tuple) else (message,)
        missing += [i for i in ids[:1] if i and i not in translated]
    assert not missing, missing
