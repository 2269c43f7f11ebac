"""Accounts through the JSON API: sign-up, sign-in tokens, the profile, rate limits and CSRF."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from conftest import PASSWORD, Response, UserFactory, assert_error
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from canyu.accounts import service as accounts
from canyu.accounts.deps import SESSION_COOKIE
from canyu.accounts.models import ApiToken, Role, User
from canyu.app import create_app
from canyu.config import Settings
from canyu.db import Database
from canyu.web.csrf import CSRF_COOKIE, CSRF_HEADER, issue_token

SIGNUP = "/api/v1/accounts/signup"
TOKENS = "/api/v1/accounts/tokens"
ME = "/api/v1/me"
AuthHeaders = Callable[[User], dict[str, str]]


def signup_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "ann@example.com",
        "password": "a long passphrase",
        "display_name": "Ann",
        "locale": "en",
        "country": "IN",
    }
    body.update(overrides)
    return body


def user_count(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    return client.post(TOKENS, json={"email": email, "password": password, "name": "laptop"})


# --- sign-up --------------------------------------------------------------------------------


def test_sign_up_creates_a_friend_with_a_normalised_email_and_an_argon2_hash(
    client: TestClient, database: Database
) -> None:
    response = client.post(SIGNUP, json=signup_body(email="Ann.Lee@Example.COM"))
    assert response.status_code == 201, response.text
    me = response.json()
    assert me["email"] == "ann.lee@example.com"
    assert me["role"] == "friend"
    assert me["country"] == "IN"
    assert me["display_name"] == "Ann"
    assert "password" not in response.text
    assert "argon2" not in response.text

    with database.session() as s:
        user = s.scalar(select(User).where(User.id == me["id"]))
        assert user is not None
        assert user.email == "ann.lee@example.com"
        assert user.password_hash != "a long passphrase"
        assert "a long passphrase" not in user.password_hash
        assert user.password_hash.startswith("$argon2id$")
        assert PasswordHasher().verify(user.password_hash, "a long passphrase")


def test_the_new_account_can_sign_in_with_any_case_of_its_email(client: TestClient) -> None:
    assert client.post(SIGNUP, json=signup_body()).status_code == 201
    response = sign_in(client, "ANN@example.com", "a long passphrase")
    assert response.status_code == 201, response.text


def test_a_duplicate_email_is_a_conflict_whatever_its_case(
    client: TestClient, database: Database
) -> None:
    assert client.post(SIGNUP, json=signup_body()).status_code == 201
    error = assert_error(
        client.post(SIGNUP, json=signup_body(email="ANN@EXAMPLE.com", display_name="Other")),
        409,
        "conflict",
    )
    assert "already exists" in error["message"]
    assert user_count(database) == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "China"}, "country"),
        ({"locale": "fr"}, "locale"),
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"password": "x" * 1025}, "password"),
        ({"display_name": "Ann\x00"}, "display_name"),
        ({"email": "ann\x00@example.com"}, "email"),
    ],
)
def test_bad_sign_up_input_is_refused_with_a_reason(
    client: TestClient, database: Database, overrides: dict[str, Any], reason: str
) -> None:
    error = assert_error(client.post(SIGNUP, json=signup_body(**overrides)), 422, "invalid_input")
    assert reason in (error["message"] + str(error["details"])).lower().replace(" ", "_")
    assert user_count(database) == 0


def test_a_blank_display_name_is_refused(client: TestClient, database: Database) -> None:
    error = assert_error(
        client.post(SIGNUP, json=signup_body(display_name="   ")), 422, "invalid_input"
    )
    assert "display name" in error["message"]
    assert user_count(database) == 0


def test_sign_up_needs_a_json_body(client: TestClient) -> None:
    assert_error(client.post(SIGNUP, content=b"{not json", headers=JSON), 422, "invalid_input")
    assert_error(client.post(SIGNUP, json={}), 422, "invalid_input")


JSON = {"content-type": "application/json"}


# --- tokens (sign-in) ----------------------------------------------------------------------


def test_creating_a_token_is_signing_in_and_the_token_works_as_bearer(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user()
    response = sign_in(client, user.email)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "laptop"
    assert created["revoked_at"] is None
    raw = created["token"]
    assert raw.startswith("cy_")

    me = client.get(ME, headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user.id
    assert me.json()["email"] == user.email


@pytest.mark.parametrize("name", ["", "   ", "n" * 81, "laptop\x00"])
def test_a_bad_token_name_is_refused(
    client: TestClient, make_user: UserFactory, database: Database, name: str
) -> None:
    user = make_user()
    body = {"email": user.email, "password": PASSWORD, "name": name}
    assert_error(client.post(TOKENS, json=body), 422, "invalid_input")
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 0


@pytest.mark.parametrize("email", ["friend1@example.com\x00", "not an email"])
def test_signing_in_with_a_malformed_email_is_refused(client: TestClient, email: str) -> None:
    response = sign_in(client, email)
    assert response.status_code in (401, 422), response.text


def test_only_the_hash_of_a_token_is_stored(
    client: TestClient, make_user: UserFactory, database: Database
) -> None:
    user = make_user()
    raw = sign_in(client, user.email).json()["token"]
    with database.session() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert len(stored) == 1
    assert raw not in stored[0]
    listed = client.get(TOKENS, headers={"Authorization": f"Bearer {raw}"})
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()] == ["laptop"]
    assert raw not in listed.text
    assert "token" not in listed.json()[0]


@pytest.mark.parametrize("email_of", ["known", "unknown"])
def test_a_wrong_password_or_unknown_email_is_unauthorized(
    client: TestClient, make_user: UserFactory, database: Database, email_of: str
) -> None:
    user = make_user()
    email = user.email if email_of == "known" else "nobody@example.com"
    response = sign_in(client, email, "wrong password")
    error = assert_error(response, 401, "unauthorized")
    assert error["message"] == "Wrong email or password."
    assert response.headers["www-authenticate"] == "Bearer"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_revoked_token_no_longer_works(client: TestClient, make_user: UserFactory) -> None:
    user = make_user()
    created = sign_in(client, user.email).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    spare = {"Authorization": f"Bearer {sign_in(client, user.email).json()['token']}"}
    assert client.get(ME, headers=headers).status_code == 200

    assert client.delete(f"{TOKENS}/{created['id']}", headers=spare).status_code == 204
    error = assert_error(client.get(ME, headers=headers), 401, "unauthorized")
    assert "revoked" in error["message"]
    assert client.get(ME, headers=spare).status_code == 200
    revoked = [t for t in client.get(TOKENS, headers=spare).json() if t["id"] == created["id"]]
    assert revoked[0]["revoked_at"] is not None


def test_nobody_revokes_someone_elses_token(
    client: TestClient, make_user: UserFactory, auth: AuthHeaders
) -> None:
    owner, other = make_user(), make_user()
    created = sign_in(client, owner.email).json()
    assert_error(client.delete(f"{TOKENS}/{created['id']}", headers=auth(other)), 404, "not_found")
    owner_headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get(ME, headers=owner_headers).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token",
        "Bearer cy_short",
        "Bearer " + "cy_" + "A" * 42 + "!",
        "Bearer " + "xx_" + "A" * 43,
    ],
)
def test_a_malformed_token_is_unauthorized_and_says_so(client: TestClient, header: str) -> None:
    error = assert_error(client.get(ME, headers={"Authorization": header}), 401, "unauthorized")
    assert "Malformed" in error["message"]


def test_a_well_formed_but_unknown_token_is_unauthorized(client: TestClient) -> None:
    headers = {"Authorization": "Bearer cy_" + "A" * 43}
    error = assert_error(client.get(ME, headers=headers), 401, "unauthorized")
    assert "Unknown" in error["message"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc"])
def test_other_authorization_schemes_are_unauthorized(client: TestClient, header: str) -> None:
    error = assert_error(client.get(ME, headers={"Authorization": header}), 401, "unauthorized")
    assert "Bearer" in error["message"]


def test_me_needs_authentication(client: TestClient) -> None:
    response = client.get(ME)
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


# --- profile ----------------------------------------------------------------------------------


def test_a_friend_updates_their_profile(
    client: TestClient, make_user: UserFactory, auth: AuthHeaders
) -> None:
    user = make_user(country="CN")
    headers = auth(user)
    response = client.patch(
        ME, headers=headers, json={"display_name": "  Lin  ", "locale": "zh", "country": "id"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Lin"
    assert response.json()["locale"] == "zh"
    assert response.json()["country"] == "ID"
    me = client.get(ME, headers=headers).json()
    assert (me["display_name"], me["locale"], me["country"]) == ("Lin", "zh", "ID")
    assert me["role"] == "friend"


def test_patch_leaves_omitted_fields_alone(
    client: TestClient, make_user: UserFactory, auth: AuthHeaders
) -> None:
    user = make_user(locale="zh", country="IN")
    headers = auth(user)
    response = client.patch(ME, headers=headers, json={"display_name": "New name"})
    assert response.status_code == 200
    assert (response.json()["locale"], response.json()["country"]) == ("zh", "IN")


@pytest.mark.parametrize(
    "body",
    [
        {"country": "XX"},
        {"locale": "de"},
        {"display_name": ""},
        {"display_name": "   "},
        {"country": "C\x00"},
        {"display_name": "Lin\x00"},
    ],
)
def test_a_bad_profile_update_changes_nothing(
    client: TestClient, make_user: UserFactory, auth: AuthHeaders, body: dict[str, str]
) -> None:
    user = make_user()
    headers = auth(user)
    # The valid name must not be half-written when another field is refused.
    error = assert_error(
        client.patch(ME, headers=headers, json={"display_name": "Changed", **body}),
        422,
        "invalid_input",
    )
    assert error["message"]
    assert client.get(ME, headers=headers).json()["display_name"] == user.display_name


def test_a_friend_cannot_make_themselves_team(
    client: TestClient, make_user: UserFactory, auth: AuthHeaders
) -> None:
    user = make_user()
    headers = auth(user)
    client.patch(ME, headers=headers, json={"role": "admin"})
    assert client.get(ME, headers=headers).json()["role"] == "friend"


# --- rate limits ------------------------------------------------------------------------------


@pytest.fixture
def strict_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    strict = settings.model_copy(update={"signup_rate": "3/minute", "signin_rate": "3/minute"})
    with TestClient(create_app(strict, database)) as test_client:
        yield test_client


def test_sign_up_is_rate_limited(strict_client: TestClient, database: Database) -> None:
    for n in range(3):
        response = strict_client.post(SIGNUP, json=signup_body(email=f"f{n}@example.com"))
        assert response.status_code == 201, response.text
    error = assert_error(
        strict_client.post(SIGNUP, json=signup_body(email="f4@example.com")), 429, "rate_limited"
    )
    assert "sign-up" in error["message"]
    assert error["details"]["limit"]
    assert user_count(database) == 3


def test_sign_in_is_rate_limited_even_for_the_right_password(
    strict_client: TestClient, make_user: UserFactory
) -> None:
    user = make_user()
    for _ in range(3):
        assert sign_in(strict_client, user.email, "wrong password").status_code == 401
    error = assert_error(sign_in(strict_client, user.email), 429, "rate_limited")
    assert "sign-in" in error["message"]


def test_default_limits_let_ordinary_use_through(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user()
    for _ in range(4):
        assert sign_in(client, user.email).status_code == 201


# --- CSRF on cookie-authenticated API calls --------------------------------------------------


@pytest.fixture
def cookie_user(client: TestClient, make_user: UserFactory, database: Database) -> User:
    user = make_user()
    with database.session() as s:
        raw = accounts.start_web_session(s, user=s.get(User, user.id) or user, days=1)
    client.cookies.set(SESSION_COOKIE, raw)
    return user


def csrf_pair(client: TestClient) -> str:
    app = client.app
    token = issue_token(app.state.secret_key, client.cookies.get(SESSION_COOKIE))  # type: ignore[attr-defined]
    client.cookies.set(CSRF_COOKIE, token)
    return token


def test_a_browser_session_authenticates_safe_api_calls(
    client: TestClient, cookie_user: User
) -> None:
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["id"] == cookie_user.id


def test_a_cookie_authenticated_unsafe_call_without_the_csrf_header_is_refused(
    client: TestClient, cookie_user: User
) -> None:
    csrf_pair(client)  # the cookie alone is not enough: a forged form would send it too
    error = assert_error(client.patch(ME, json={"display_name": "Forged"}), 403, "forbidden")
    assert "reload" in error["message"]
    assert client.get(ME).json()["display_name"] == cookie_user.display_name


def test_a_mismatched_or_forged_csrf_token_is_refused(
    client: TestClient, cookie_user: User
) -> None:
    token = csrf_pair(client)
    other = URLSafeSerializer("not our key", salt="csrf").dumps("nonce")
    assert_error(
        client.patch(ME, json={"display_name": "X"}, headers={CSRF_HEADER: token + "x"}),
        403,
        "forbidden",
    )
    client.cookies.set(CSRF_COOKIE, other)
    assert_error(
        client.patch(ME, json={"display_name": "X"}, headers={CSRF_HEADER: other}),
        403,
        "forbidden",
    )
    assert client.get(ME).json()["display_name"] == cookie_user.display_name


def test_a_cookie_authenticated_call_with_the_csrf_header_goes_through(
    client: TestClient, cookie_user: User
) -> None:
    token = csrf_pair(client)
    response = client.patch(ME, json={"display_name": "Mine"}, headers={CSRF_HEADER: token})
    assert response.status_code == 200, response.text
    assert client.get(ME).json()["display_name"] == "Mine"


def test_bearer_calls_need_no_csrf_token(
    client: TestClient, make_user: UserFactory, auth: AuthHeaders
) -> None:
    user = make_user(Role.TEAM)
    response = client.patch(ME, headers=auth(user), json={"display_name": "Script"})
    assert response.status_code == 200, response.text
