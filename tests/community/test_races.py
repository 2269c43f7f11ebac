"""Concurrent identical votes: an idempotent answer each, never a 500 (issue 22)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from conftest import UserFactory
from fastapi.testclient import TestClient

from canyu.accounts.models import User
from canyu.app import create_app
from canyu.community import service
from canyu.config import Settings
from canyu.db import Database

VOTERS = 30


def _post(database: Database, author: User) -> int:
    with database.session() as s:
        post = service.create_post(s, author=author, kind="bug", title="Crash", body="It crashes.")
        s.flush()
        return post.id


def _at_once(work: Callable[[], None]) -> None:
    start = threading.Barrier(VOTERS)

    def run() -> None:
        start.wait()
        work()

    threads = [threading.Thread(target=run) for _ in range(VOTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_the_same_vote_thirty_times_at_once_in_the_service(
    make_user: UserFactory, database: Database
) -> None:
    author, voter = make_user(), make_user()
    post_id = _post(database, author)
    failures: list[BaseException] = []
    counts: list[int] = []

    def vote() -> None:
        try:
            with database.session() as s:
                user = s.get(User, voter.id)
                assert user is not None
                counts.append(service.vote(s, user=user, post_id=post_id).vote_count)
        except BaseException as exc:
            failures.append(exc)

    _at_once(vote)
    assert failures == []
    assert counts == [1] * VOTERS
    with database.session() as s:
        assert service.get_post(s, post_id=post_id).vote_count == 1


def test_the_same_vote_thirty_times_at_once_through_the_api(
    settings: Settings,
    database: Database,
    make_user: UserFactory,
    auth: Callable[[User], dict[str, str]],
) -> None:
    """As many at once as the pool serves (the admission limit): none is a 500; a vote the
    server had no room for is a 503 with Retry-After, never an error."""
    app = create_app(settings.model_copy(update={"max_concurrent_requests": 11}), database)
    author, voter = make_user(), make_user()
    post_id = _post(database, author)
    headers = auth(voter)
    answers: list[tuple[int, int | None]] = []
    with TestClient(app) as client:

        def vote() -> None:
            response = client.put(f"/api/v1/feedback/{post_id}/vote", headers=headers)
            count = response.json()["vote_count"] if response.status_code == 200 else None
            answers.append((response.status_code, count))

        _at_once(vote)
        again = client.put(f"/api/v1/feedback/{post_id}/vote", headers=headers)
    assert {status for status, _ in answers} <= {200, 503}
    assert {count for status, count in answers if status == 200} == {1}
    assert again.status_code == 200
    assert again.json()["vote_count"] == 1
