"""Concurrent guesses of one appeal code: the attempt counter loses no update (issue 22)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi.testclient import TestClient

from calls.conftest import FriendFactory
from canyu.accounts.models import User
from canyu.calls import service
from canyu.calls.models import OwnershipCode
from canyu.calls.sender import LoggingSender
from canyu.calls.settings import CallsSettings
from canyu.db import Database
from canyu.errors import InvalidInput

Auth = Callable[[User], dict[str, str]]
NUMBER = "+86 138 0013 8000"
GUESSES = 31


def test_concurrent_wrong_guesses_are_all_counted(
    calls_client: TestClient,
    friend: FriendFactory,
    auth: Auth,
    sender: LoggingSender,
    database: Database,
    calls_settings: CallsSettings,
) -> None:
    owner = friend()
    sent = calls_client.post(
        "/api/v1/calls/appeals/code", json={"number": NUMBER}, headers=auth(owner)
    )
    assert sent.status_code == 202, sent.text
    code = sender.sent[-1][1]
    wrong = "000000" if code != "000000" else "111111"
    start = threading.Barrier(GUESSES)
    answers: list[str] = []

    def guess() -> None:
        start.wait()
        with database.session() as s:
            user = s.get(User, owner.id)
            assert user is not None
            try:
                service.verify_code(
                    s, user=user, number=NUMBER, code=wrong, settings=calls_settings
                )
            except InvalidInput as exc:
                answers.append(exc.message)
            except Exception as exc:
                answers.append(f"error: {exc!r}")

    threads = [threading.Thread(target=guess) for _ in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wrong_code = [a for a in answers if a.startswith("Wrong code")]
    too_many = [a for a in answers if a.startswith("Too many")]
    assert len(answers) == GUESSES
    assert len(wrong_code) == calls_settings.code_attempts, answers
    assert len(too_many) == GUESSES - calls_settings.code_attempts, answers
    with database.session() as s:
        (row,) = s.query(OwnershipCode).all()
        assert row.attempts == calls_settings.code_attempts
    # The right code after the limit is refused too.
    late = calls_client.post(
        "/api/v1/calls/appeals/verify", json={"number": NUMBER, "code": code}, headers=auth(owner)
    )
    assert late.status_code == 422
