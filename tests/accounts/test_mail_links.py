"""Password reset and email confirmation by mail, over a real SMTP exchange: the tests read the
mail the app sent and follow its link. Links are signed, expire and work once; a reset request
never tells whether an address has an account, and is rate-limited."""

from __future__ import annotations

import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import itsdangerous.timed
import pytest
from conftest import PASSWORD, UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal.test_pages import csrf_from, sign_in, token
from smtp_inbox import MAIL_BASE_URL, Inbox, links_in

from canyu.accounts.models import User
from canyu.db import Database
from canyu.web.templating import FLASH_COOKIE

HTML = {"Accept": "text/html"}
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def web(mail_app: tuple[FastAPI, TestClient]) -> TestClient:
    client = mail_app[1]
    client.headers.update(HTML)
    return client


def _path(url: str) -> str:
    assert url.startswith(MAIL_BASE_URL + "/"), url
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _ask_reset(client: TestClient, email: str) -> tuple[int, str]:
    page = client.get("/password/forgot")
    response = client.post("/password/forgot", data={"csrf_token": csrf_from(page), "email": email})
    return response.status_code, response.text


def _reset_link(mailbox: Inbox, user: User, count: int = 1) -> str:
    message = mailbox.last_to(user.email, count=count)
    assert message["Subject"] == "canyu: reset your password"
    return _path(next(u for u in links_in(message) if "/password/reset" in u))


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    web: TestClient,
    app: FastAPI,
    inbox: tuple[Inbox, int],
    make_user: UserFactory,
    database: Database,
) -> None:
    mailbox, _port = inbox
    friend = make_user()
    # A browser signed in elsewhere is signed out by the reset.
    with TestClient(app) as elsewhere:
        elsewhere.headers.update(HTML)
        sign_in(elsewhere, friend)
        assert elsewhere.get("/profile", follow_redirects=False).status_code == 200

        status, text = _ask_reset(web, friend.email.upper())
        assert status == 200
        assert f"If an account uses {friend.email.upper()}" in text
        link = _reset_link(mailbox, friend)

        form = web.get(link)
        assert form.status_code == 200
        assert 'name="token"' in form.text
        reset_token = link.split("token=", 1)[1]
        short = web.post(
            "/password/reset",
            data={"csrf_token": csrf_from(form), "token": reset_token, "password": "short"},
        )
        assert short.status_code == 422
        assert "A password has 8 to 1024 characters." in short.text
        assert 'name="token"' in short.text  # the form stays usable
        done = web.post(
            "/password/reset",
            data={"csrf_token": csrf_from(form), "token": reset_token, "password": NEW_PASSWORD},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/"
        assert FLASH_COOKIE in done.cookies
        home = web.get("/")
        assert "Your password is changed, and you are signed in." in home.text
        assert "Your password is changed" not in web.get("/").text  # shown once
        assert elsewhere.get("/profile", follow_redirects=False).status_code == 303

    # The old password is gone, the new one works, and the link is spent.
    web.post("/signout", data={"csrf_token": csrf_from(web.get("/profile"))})
    wrong = web.post(
        "/signin",
        data={"csrf_token": token(web), "email": friend.email, "password": PASSWORD},
    )
    assert wrong.status_code == 401
    right = web.post(
        "/signin",
        data={"csrf_token": token(web), "email": friend.email, "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert right.status_code == 303
    again = web.get(link)
    assert again.status_code == 422
    assert "This link is not valid or was already used" in again.text
    with database.session() as s:
        user = s.get(User, friend.id)
        assert user is not None
        assert user.email_verified_at is not None  # the link reached the address


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    web: TestClient, inbox: tuple[Inbox, int], make_user: UserFactory
) -> None:
    mailbox, _port = inbox
    friend = make_user()
    known = _ask_reset(web, friend.email)
    unknown = _ask_reset(web, "nobody@example.com")
    assert known[0] == unknown[0] == 200
    assert known[1].replace(friend.email, "X") == unknown[1].replace("nobody@example.com", "X")
    mailbox.wait_for(1)
    time.sleep(0.3)
    assert mailbox.recipients() == [friend.email]


def test_reset_requests_are_rate_limited_per_address_and_per_network(
    web: TestClient, inbox: tuple[Inbox, int], make_user: UserFactory
) -> None:
    friend = make_user()
    # Three links an hour to one address, whoever asks; then 429, for unknown addresses too.
    assert [_ask_reset(web, friend.email)[0] for _ in range(4)] == [200, 200, 200, 429]
    assert _ask_reset(web, "someone@example.com")[0] == 200
    # Five requests a minute from one network, whatever the addresses.
    assert _ask_reset(web, "third@example.com")[0] == 429
    assert "Too many password reset attempts" in _ask_reset(web, "fourth@example.com")[1]
    assert len(inbox[0].wait_for(3)) == 3


def test_bad_reset_links_and_forms_are_refused(
    web: TestClient, app: FastAPI, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from canyu.accounts.tokens import Purpose, issue

    friend = make_user()
    for bad in ("", "nonsense", issue(app.state.secret_key, Purpose.VERIFY, friend), "x" * 600):
        page = web.get("/password/reset", params={"token": bad})
        assert page.status_code == 422, bad
        assert 'href="/password/forgot"' in page.text
    genuine = issue(app.state.secret_key, Purpose.RESET, friend)
    assert web.get("/password/reset", params={"token": genuine}).status_code == 200
    later = time.time() + 2 * 3600
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    expired = web.get("/password/reset", params={"token": genuine})
    assert expired.status_code == 422
    assert "This link has expired; ask for a new one." in expired.text
    monkeypatch.undo()
    page = web.get("/password/forgot")
    for data in ({}, {"csrf_token": "forged", "token": genuine, "password": NEW_PASSWORD}):
        assert web.post("/password/reset", data=data).status_code == 403
        assert web.post("/password/forgot", data={"email": friend.email}).status_code == 403
    not_an_address = web.post(
        "/password/forgot", data={"csrf_token": csrf_from(page), "email": "no-at-sign"}
    )
    assert not_an_address.status_code == 422


def test_sign_up_welcomes_and_the_mailed_link_confirms_the_address(
    web: TestClient, inbox: tuple[Inbox, int], database: Database
) -> None:
    mailbox, _port = inbox
    page = web.get("/signup")
    response = web.post(
        "/signup",
        data={
            "csrf_token": csrf_from(page),
            "email": "mei@example.com",
            "password": "long enough",
            "display_name": "Mei",
            "country": "CN",
            "locale": "zh",
        },
    )
    assert response.status_code == 200
    assert "欢迎来到 canyu，Mei！我们已向 mei@example.com 发送了一个链接" in response.text
    welcome = mailbox.last_to("mei@example.com")
    assert welcome["Subject"] == "欢迎来到 canyu，Mei"
    link = _path(next(u for u in links_in(welcome) if "/verify-email" in u))
    profile = web.get("/profile")
    assert "尚未确认" in profile.text

    confirmed = web.get(link, follow_redirects=False)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/profile"
    assert "你的邮箱地址已确认" in web.get("/profile").text
    assert web.get(link).status_code == 422  # spent
    with database.session() as s:
        mei = s.query(User).filter_by(email="mei@example.com").one()
        assert mei.email_verified_at is not None
    # Confirmed: asking for another link sends nothing.
    again = web.post("/verify-email/resend", data={"csrf_token": csrf_from(web.get("/profile"))})
    assert "你的邮箱地址已经确认过了" in again.text
    time.sleep(0.3)
    assert len(mailbox.messages) == 1


def test_a_new_confirmation_link_on_request(
    web: TestClient,
    inbox: tuple[Inbox, int],
    make_user: UserFactory,
    mail_app: tuple[FastAPI, TestClient],
) -> None:
    mailbox, _port = inbox
    friend = make_user(locale="en")
    # Signed out, or without the form's token: nothing is sent.
    assert (
        web.post(
            "/verify-email/resend", data={"csrf_token": token(web)}, follow_redirects=False
        ).headers["location"]
        == "/signin?next=%2Fprofile"
    )
    sign_in(web, friend)
    assert web.post("/verify-email/resend", data={}).status_code == 403
    sent = web.post(
        "/verify-email/resend",
        data={"csrf_token": csrf_from(web.get("/profile"))},
    )
    assert f"We sent a new link to {friend.email}." in sent.text
    message = mailbox.last_to(friend.email)
    assert message["Subject"] == "canyu: confirm your email address"
    link = _path(next(u for u in links_in(message) if "/verify-email" in u))
    assert "Thanks, your email address is confirmed." in web.get(link).text
    # The API's sign-up welcomes too.
    api = mail_app[1].post(
        "/api/v1/accounts/signup",
        json={"email": "li@example.com", "password": "long enough", "display_name": "Li"},
        headers={"Accept": "application/json"},
    )
    assert api.status_code == 201
    assert api.json()["email_verified_at"] is None
    assert mailbox.last_to("li@example.com")["Subject"] == "Welcome to canyu, Li"
