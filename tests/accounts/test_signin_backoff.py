"""Sign-in: wrong passwords slow an account down, they never lock its owner out (issue 22)."""

from __future__ import annotations

from conftest import PASSWORD, UserFactory
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.ratelimit import RateLimiter

TOKENS = "/api/v1/accounts/tokens"


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    body = {"email": email, "password": password, "name": "laptop"}
    return client.post(TOKENS, json=body).status_code


def test_a_stranger_guessing_does_not_lock_the_owner_out(
    app: FastAPI, make_user: UserFactory
) -> None:
    owner = make_user()
    with TestClient(app, client=("203.0.113.9", 5000)) as stranger:
        answers = [_sign_in(stranger, owner.email, "wrong password!") for _ in range(12)]
    assert answers[:4] == [401] * 4  # three free, then a wait of 1, 2, 4 ... s after each
    assert answers[4] == 429
    assert answers.count(401) <= 6  # slowed down: one guess per growing wait
    with TestClient(app, client=("198.51.100.20", 5000)) as home:
        assert _sign_in(home, owner.email) == 201  # the right password, from another network


def test_the_wait_doubles_after_each_failure_up_to_a_cap() -> None:
    limiter = RateLimiter()
    waits = [limiter.backoff_failed("signin", "a@x", free=3, cap=30.0) for _ in range(12)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert 29 < limiter.backoff_wait("signin", "a@x") <= 30
    assert limiter.backoff_wait("signin", "b@x") == 0
    limiter.backoff_clear("signin", "a@x")
    assert limiter.backoff_wait("signin", "a@x") == 0
