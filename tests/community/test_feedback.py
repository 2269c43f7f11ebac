"""Feedback through the JSON API: posts, ranking, votes, comments, statuses, notifications,
merges, bulk moves, similar posts, the honour roll and notification emails."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest import Response, UserFactory, assert_error
from fastapi import FastAPI
from fastapi.testclient import TestClient
from smtp_inbox import Inbox, parse
from sqlalchemy import func, select

from canyu.accounts.models import Role, User
from canyu.community import credits, service
from canyu.community.models import Post, StatusChange
from canyu.community.similar import MAX_QUERY
from canyu.db import Database, utcnow

FEEDBACK = "/api/v1/feedback"
NOTIFICATIONS = "/api/v1/notifications"
AuthHeaders = Callable[[User], dict[str, str]]
CJK = re.compile(r"[\u4e00-\u9fff]")


class Api:
    """Small helpers over the client, each asserting the call worked."""

    def __init__(self, client: TestClient, auth: AuthHeaders) -> None:
        self.client = client
        self._auth = auth
        self._headers: dict[int, dict[str, str]] = {}

    def h(self, user: User) -> dict[str, str]:
        if user.id not in self._headers:
            self._headers[user.id] = self._auth(user)
        return self._headers[user.id]

    def post(self, user: User, **fields: Any) -> dict[str, Any]:
        body = {"kind": "bug", "title": "Battery drains fast", "body": "Lost 40% overnight."}
        body.update(fields)
        response = self.client.post(FEEDBACK, json=body, headers=self.h(user))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def get(self, post_id: int) -> dict[str, Any]:
        response = self.client.get(f"{FEEDBACK}/{post_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def vote(self, user: User, post_id: int) -> dict[str, Any]:
        response = self.client.put(f"{FEEDBACK}/{post_id}/vote", headers=self.h(user))
        assert response.status_code == 200, response.text
        voted: dict[str, Any] = response.json()
        return voted

    def status(self, user: User, post_id: int, status: str, reason: str | None = None) -> Response:
        return self.client.post(
            f"{FEEDBACK}/{post_id}/status",
            json={"status": status, "reason": reason},
            headers=self.h(user),
        )

    def move(self, user: User, post_id: int, status: str, reason: str | None = None) -> None:
        response = self.status(user, post_id, status, reason)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status

    def merge(self, user: User, source: int, target: int) -> Response:
        return self.client.post(
            f"{FEEDBACK}/{source}/merge", json={"target_id": target}, headers=self.h(user)
        )

    def comment(self, user: User, post_id: int, body: str) -> dict[str, Any]:
        response = self.client.post(
            f"{FEEDBACK}/{post_id}/comments", json={"body": body}, headers=self.h(user)
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def comments(self, post_id: int) -> list[dict[str, Any]]:
        response = self.client.get(f"{FEEDBACK}/{post_id}/comments")
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def ids(self, **params: Any) -> list[int]:
        response = self.client.get(FEEDBACK, params=params)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()]

    def notifications(self, user: User, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(NOTIFICATIONS, headers=self.h(user), params=params)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def similar(self, q: str, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(f"{FEEDBACK}/similar", params={"q": q, **params})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found


@pytest.fixture
def api(client: TestClient, auth: AuthHeaders) -> Api:
    return Api(client, auth)


@pytest.fixture
def team(make_user: UserFactory) -> User:
    return make_user(Role.TEAM)


@pytest.fixture
def friend(make_user: UserFactory) -> User:
    return make_user()


# --- posting ----------------------------------------------------------------------------------


def test_a_friend_posts_feedback(api: Api, friend: User) -> None:
    created = api.post(
        friend,
        kind="idea",
        title="  Dark mode for the dialer  ",
        body="Please add a dark theme.",
        device_model="Canyu 1",
        software_build="1.2.3",
    )
    assert created["kind"] == "idea"
    assert created["title"] == "Dark mode for the dialer"
    assert created["status"] == "new"
    assert created["vote_count"] == 0
    assert created["comment_count"] == 0
    assert created["duplicate_of_id"] is None
    assert created["author"]["id"] == friend.id
    assert "email" not in created["author"]
    assert (created["device_model"], created["software_build"]) == ("Canyu 1", "1.2.3")
    assert api.get(created["id"]) == created


@pytest.mark.parametrize(
    ("title", "body", "language"),
    [
        ("Battery drains fast", "My phone loses forty percent overnight.", "en"),
        ("电池耗电太快", "手机晚上放着不用也掉电百分之四十。", "zh"),
    ],
)
def test_the_language_is_detected_when_not_given(
    api: Api, friend: User, title: str, body: str, language: str
) -> None:
    assert api.post(friend, title=title, body=body)["language"] == language


def test_a_given_language_is_respected(api: Api, friend: User) -> None:
    created = api.post(friend, title="Battery drains fast", body="Overnight.", language="hi")
    assert created["language"] == "hi"
    assert api.ids(language="hi") == [created["id"]]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"body": ""}, "body"),
        ({"body": " \n "}, "body"),
        ({"body": "b" * 10_001}, "body"),
        ({"kind": "rant"}, "kind"),
        ({"kind": None}, "kind"),
        ({"language": "xx"}, "language"),
        ({"device_model": "d" * 65}, "device_model"),
        # PostgreSQL cannot store NUL: refused on every backend, never a server error.
        ({"title": "Battery\x00drains"}, "title"),
        ({"body": "Lost 40%\x00"}, "body"),
        ({"device_model": "Canyu\x001"}, "device_model"),
        ({"software_build": "1.2\x00"}, "software_build"),
    ],
)
def test_bad_posts_are_refused_with_a_reason_and_nothing_is_written(
    api: Api, friend: User, database: Database, fields: dict[str, Any], field: str
) -> None:
    body = {"kind": "bug", "title": "Battery drains fast", "body": "Overnight."}
    body.update(fields)
    response = api.client.post(FEEDBACK, json=body, headers=api.h(friend))
    error = assert_error(response, 422, "invalid_input")
    text = (error["message"] + " " + str(error["details"])).lower()
    assert field.replace("_", " ") in text.replace("_", " ")
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 0


def test_posting_needs_an_account(api: Api) -> None:
    body = {"kind": "bug", "title": "t", "body": "b"}
    assert_error(api.client.post(FEEDBACK, json=body), 401, "unauthorized")


def test_a_missing_post_is_not_found(api: Api) -> None:
    for path in ("", "/comments", "/history"):
        assert_error(api.client.get(f"{FEEDBACK}/999999{path}"), 404, "not_found")


# --- listing ----------------------------------------------------------------------------------


def test_list_sorts_by_hot_top_new_and_trending(
    api: Api, make_user: UserFactory, database: Database
) -> None:
    author = make_user()
    voters = [make_user() for _ in range(9)]
    now = utcnow()
    with database.session() as s:
        writer = s.get(User, author.id)
        assert writer is not None

        def make(days_ago: int, title: str, votes: int, votes_days_ago: float) -> int:
            post = service.create_post(
                s,
                author=writer,
                kind="bug",
                title=title,
                body="details",
                created_at=now - timedelta(days=days_ago),
            )
            for voter in voters[:votes]:
                service.vote(
                    s,
                    user=s.get(User, voter.id) or voter,
                    post_id=post.id,
                    created_at=now - timedelta(days=votes_days_ago),
                )
            return post.id

        # hot: log10(1 + votes) + age / 30 days
        popular_old = make(20, "Popular but old", 9, 15)  # 1.0 - 0.667 = 0.333
        rising = make(10, "Rising this week", 2, 0.5)  # 0.477 - 0.333 = 0.144
        fresh = make(0, "Fresh", 1, 0)  # 0.301
    assert api.ids(sort="hot") == [popular_old, fresh, rising]
    assert api.ids() == [popular_old, fresh, rising]  # hot is the default
    # Top: the most votes of all time, whatever their age.
    assert api.ids(sort="top") == [popular_old, rising, fresh]
    assert api.ids(sort="new") == [fresh, rising, popular_old]
    # Trending counts the votes of the last week only.
    assert api.ids(sort="trending") == [rising, fresh, popular_old]
    assert api.get(popular_old)["vote_count"] == 9


def test_list_pages_with_limit_and_offset(api: Api, friend: User) -> None:
    ids = [api.post(friend, title=f"Post {n}")["id"] for n in range(5)]
    assert api.ids(sort="new", limit=2) == ids[::-1][:2]
    assert api.ids(sort="new", limit=2, offset=2) == ids[::-1][2:4]
    assert api.ids(sort="new", offset=5) == []


def test_list_filters_by_kind_status_language_and_device(
    api: Api, friend: User, team: User
) -> None:
    bug_en = api.post(friend, kind="bug", device_model="Canyu 1")["id"]
    idea_zh = api.post(
        friend,
        kind="idea",
        title="希望增加深色模式",
        body="晚上看屏幕太亮了。",
        device_model="Canyu 2",
    )["id"]
    idea_en = api.post(friend, kind="idea", title="Add a dark mode", body="Too bright at night.")[
        "id"
    ]
    api.move(team, idea_en, "accepted")

    assert sorted(api.ids(kind="bug")) == [bug_en]
    assert sorted(api.ids(kind="idea")) == sorted([idea_zh, idea_en])
    assert api.ids(status="accepted") == [idea_en]
    assert sorted(api.ids(status="new")) == sorted([bug_en, idea_zh])
    assert api.ids(language="zh") == [idea_zh]
    assert sorted(api.ids(language="en")) == sorted([bug_en, idea_en])
    assert api.ids(device_model="Canyu 2") == [idea_zh]
    assert api.ids(device_model="Canyu 9") == []
    assert api.ids(kind="idea", language="en", status="accepted") == [idea_en]


def test_merged_duplicates_are_listed_only_when_asked_for(
    api: Api, friend: User, team: User
) -> None:
    source = api.post(friend, title="Battery dies")["id"]
    target = api.post(friend, title="Battery drains")["id"]
    assert api.merge(team, source, target).status_code == 200
    assert api.ids() == [target]
    assert api.ids(status="duplicate") == [source]


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "rant"},
        {"status": "done"},
        {"sort": "best"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"limit": "ten"},
        {"language": "e\x00"},
        {"device_model": "Canyu\x00"},
    ],
)
def test_bad_list_parameters_are_refused(api: Api, params: dict[str, Any]) -> None:
    error = assert_error(api.client.get(FEEDBACK, params=params), 422, "invalid_input")
    assert next(iter(params)).replace("_", " ") in error["message"].replace("_", " ")


# --- votes ------------------------------------------------------------------------------------


def test_one_vote_per_friend(api: Api, make_user: UserFactory, friend: User) -> None:
    post_id = api.post(friend)["id"]
    first, second = make_user(), make_user()
    assert api.vote(first, post_id)["vote_count"] == 1
    assert api.vote(first, post_id)["vote_count"] == 1
    assert api.vote(second, post_id)["vote_count"] == 2
    assert api.get(post_id)["vote_count"] == 2

    unvoted = api.client.delete(f"{FEEDBACK}/{post_id}/vote", headers=api.h(first))
    assert unvoted.status_code == 200
    assert unvoted.json()["vote_count"] == 1
    again = api.client.delete(f"{FEEDBACK}/{post_id}/vote", headers=api.h(first))
    assert again.json()["vote_count"] == 1
    assert api.vote(first, post_id)["vote_count"] == 2


def test_votes_raise_a_post_in_hot_and_top(api: Api, make_user: UserFactory, friend: User) -> None:
    older = api.post(friend, title="Older")["id"]
    newer = api.post(friend, title="Newer")["id"]
    assert api.ids(sort="hot") == api.ids(sort="top") == [newer, older]
    api.vote(make_user(), older)
    assert api.ids(sort="hot") == api.ids(sort="top") == [older, newer]


def test_voting_on_a_missing_post_is_not_found(api: Api, friend: User) -> None:
    for method in ("PUT", "DELETE"):
        response = api.client.request(method, f"{FEEDBACK}/424242/vote", headers=api.h(friend))
        assert "424242" in assert_error(response, 404, "not_found")["message"]


def test_voting_needs_an_account(api: Api, friend: User) -> None:
    post_id = api.post(friend)["id"]
    assert_error(api.client.put(f"{FEEDBACK}/{post_id}/vote"), 401, "unauthorized")
    assert api.get(post_id)["vote_count"] == 0


def test_voting_on_a_merged_duplicate_names_the_canonical_post(
    api: Api, friend: User, team: User, make_user: UserFactory
) -> None:
    first = api.post(friend, title="Battery dies")["id"]
    middle = api.post(friend, title="Battery drains")["id"]
    last = api.post(friend, title="Battery empty by noon")["id"]
    assert api.merge(team, first, middle).status_code == 200
    voter = make_user()

    response = api.client.put(f"{FEEDBACK}/{first}/vote", headers=api.h(voter))
    error = assert_error(response, 409, "conflict")
    assert error["details"] == {"canonical_id": middle}
    assert f"post {middle}" in error["message"]

    # Merging the canonical post onwards makes the last one canonical for both.
    assert api.merge(team, middle, last).status_code == 200
    for duplicate in (first, middle):
        response = api.client.put(f"{FEEDBACK}/{duplicate}/vote", headers=api.h(voter))
        assert assert_error(response, 409, "conflict")["details"] == {"canonical_id": last}
    assert api.get(first)["vote_count"] == 0


# --- comments ---------------------------------------------------------------------------------


def test_comments_are_added_and_listed_oldest_first(
    api: Api, friend: User, make_user: UserFactory
) -> None:
    post_id = api.post(friend)["id"]
    other = make_user()
    first = api.comment(other, post_id, "  Same here on Canyu 1.  ")
    second = api.comment(friend, post_id, "手机也一样")
    assert first["body"] == "Same here on Canyu 1."
    assert first["author"]["id"] == other.id
    assert first["post_id"] == post_id
    assert [c["id"] for c in api.comments(post_id)] == [first["id"], second["id"]]
    assert api.comments(post_id)[1]["body"] == "手机也一样"
    assert api.get(post_id)["comment_count"] == 2


@pytest.mark.parametrize("body", ["", "   ", "c" * 5_001, "nul\x00"])
def test_bad_comments_are_refused(api: Api, friend: User, body: str) -> None:
    post_id = api.post(friend)["id"]
    response = api.client.post(
        f"{FEEDBACK}/{post_id}/comments", json={"body": body}, headers=api.h(friend)
    )
    assert "comment" in str(assert_error(response, 422, "invalid_input")).lower().replace(
        "body", "comment"
    )
    assert api.comments(post_id) == []
    assert api.get(post_id)["comment_count"] == 0


def test_commenting_on_a_missing_post_is_not_found(api: Api, friend: User) -> None:
    response = api.client.post(
        f"{FEEDBACK}/31337/comments", json={"body": "hello"}, headers=api.h(friend)
    )
    assert_error(response, 404, "not_found")


# --- statuses ---------------------------------------------------------------------------------


def test_only_the_team_changes_statuses(api: Api, friend: User, make_user: UserFactory) -> None:
    post_id = api.post(friend)["id"]
    for user in (friend, make_user()):
        assert_error(api.status(user, post_id, "accepted"), 403, "forbidden")
    assert_error(
        api.client.post(f"{FEEDBACK}/{post_id}/status", json={"status": "accepted"}),
        401,
        "unauthorized",
    )
    assert api.get(post_id)["status"] == "new"


def test_admins_are_team_too(api: Api, friend: User, make_user: UserFactory) -> None:
    post_id = api.post(friend)["id"]
    api.move(make_user(Role.ADMIN), post_id, "accepted")


def test_declining_needs_a_reason(api: Api, friend: User, team: User) -> None:
    post_id = api.post(friend)["id"]
    for reason in (None, "", "   "):
        error = assert_error(api.status(team, post_id, "declined", reason), 422, "invalid_input")
        assert "reason" in error["message"]
    assert_error(api.status(team, post_id, "declined", "No\x00"), 422, "invalid_input")
    assert api.get(post_id)["status"] == "new"
    api.move(team, post_id, "declined", "  Not for this phone.  ")
    declined = api.get(post_id)
    assert declined["status_reason"] == "Not for this phone."


def test_illegal_transitions_conflict_and_list_what_is_allowed(
    api: Api, friend: User, team: User
) -> None:
    post_id = api.post(friend)["id"]
    error = assert_error(api.status(team, post_id, "shipped"), 409, "conflict")
    assert "allowed: accepted, declined, planned" in error["message"]
    assert_error(api.status(team, post_id, "new"), 409, "conflict")
    assert_error(api.status(team, post_id, "duplicate"), 409, "conflict")
    assert api.get(post_id)["status"] == "new"


def test_an_unknown_status_is_invalid_input(api: Api, friend: User, team: User) -> None:
    post_id = api.post(friend)["id"]
    error = assert_error(api.status(team, post_id, "done"), 422, "invalid_input")
    assert "status" in error["message"]
    assert_error(api.status(team, 999999, "accepted"), 404, "not_found")


def test_history_records_each_move(api: Api, friend: User, team: User) -> None:
    post_id = api.post(friend)["id"]
    api.move(team, post_id, "accepted")
    api.move(team, post_id, "planned")
    api.move(team, post_id, "declined", "Hardware cannot do it.")
    response = api.client.get(f"{FEEDBACK}/{post_id}/history")
    assert response.status_code == 200
    history = [(h["from_status"], h["to_status"], h["reason"]) for h in response.json()]
    assert history == [
        ("new", "accepted", None),
        ("accepted", "planned", None),
        ("planned", "declined", "Hardware cannot do it."),
    ]


# --- notifications ----------------------------------------------------------------------------


def test_a_status_change_notifies_author_and_voters_but_not_the_actor(
    api: Api, make_user: UserFactory, team: User
) -> None:
    author, voter, bystander = make_user(), make_user(), make_user()
    post_id = api.post(author, title="Battery drains fast")["id"]
    api.vote(voter, post_id)
    api.vote(team, post_id)  # the team member who acts also voted
    api.move(team, post_id, "accepted")

    for user in (author, voter):
        found = api.notifications(user)
        assert len(found) == 1, found
        notice = found[0]
        assert notice["post_id"] == post_id
        assert notice["kind"] == "status"
        assert notice["payload"]["from"] == "new"
        assert notice["payload"]["to"] == "accepted"
        assert notice["read_at"] is None
        assert notice["text"] == "“Battery drains fast” is now Accepted."
    assert api.notifications(team) == []
    assert api.notifications(bystander) == []


def test_a_decline_notice_carries_the_reason(api: Api, friend: User, team: User) -> None:
    post_id = api.post(friend, title="Battery drains fast")["id"]
    api.move(team, post_id, "declined", "Fixed by the new battery.")
    [notice] = api.notifications(friend)
    assert notice["payload"]["reason"] == "Fixed by the new battery."
    assert notice["text"].endswith("Reason: Fixed by the new battery.")


def test_a_chinese_speaking_friend_reads_notices_in_chinese(
    api: Api, make_user: UserFactory, team: User
) -> None:
    author, zh_voter = make_user(), make_user(locale="zh")
    post_id = api.post(author, title="Battery drains fast")["id"]
    api.vote(zh_voter, post_id)
    api.move(team, post_id, "planned")

    [notice] = api.notifications(zh_voter)
    assert "Battery drains fast" in notice["text"]
    assert CJK.search(notice["text"]), notice["text"]
    assert "is now" not in notice["text"]
    [english] = api.notifications(author)
    assert not CJK.search(english["text"])


def test_merges_and_undos_notify_the_source_posts_people(
    api: Api, make_user: UserFactory, team: User
) -> None:
    author, voter = make_user(), make_user()
    source = api.post(author, title="Battery dies")["id"]
    target = api.post(make_user(), title="Battery drains")["id"]
    api.vote(voter, source)
    assert api.merge(team, source, target).status_code == 200
    for user in (author, voter):
        [notice] = api.notifications(user)
        assert notice["kind"] == "merged"
        assert notice["payload"]["target_id"] == target
        assert f"#{target}" in notice["text"]
    assert api.client.delete(f"{FEEDBACK}/{source}/merge", headers=api.h(team)).status_code == 200
    assert [n["kind"] for n in api.notifications(author)] == ["unmerged", "merged"]
    assert api.notifications(team) == []


def test_notifications_are_marked_read(api: Api, friend: User, team: User) -> None:
    first = api.post(friend, title="First")["id"]
    second = api.post(friend, title="Second")["id"]
    api.move(team, first, "accepted")
    api.move(team, second, "accepted")
    api.move(team, second, "planned")
    notices = api.notifications(friend)
    assert len(notices) == 3
    newest = notices[0]["id"]

    marked = api.client.post(f"{NOTIFICATIONS}/read", json={"ids": [newest]}, headers=api.h(friend))
    assert marked.status_code == 200
    assert marked.json() == {"marked": 1}
    unread = api.notifications(friend, unread="true")
    assert newest not in [n["id"] for n in unread]
    assert len(unread) == 2
    assert [n["read_at"] is not None for n in api.notifications(friend)] == [True, False, False]

    # Someone else's notices are not theirs to mark.
    other = api.client.post(f"{NOTIFICATIONS}/read", json={"ids": [newest]}, headers=api.h(team))
    assert other.json() == {"marked": 0}

    everything = api.client.post(f"{NOTIFICATIONS}/read", json={}, headers=api.h(friend))
    assert everything.json() == {"marked": 2}
    assert api.notifications(friend, unread="true") == []


def test_notifications_need_an_account(api: Api) -> None:
    assert_error(api.client.get(NOTIFICATIONS), 401, "unauthorized")


# --- merges -----------------------------------------------------------------------------------


def test_merge_carries_distinct_voters_and_comments_over_and_undo_restores_exactly(
    api: Api, make_user: UserFactory, team: User
) -> None:
    author = make_user()
    both, source_only, target_only = make_user(), make_user(), make_user()
    source = api.post(author, title="Battery dies by noon")["id"]
    target = api.post(author, title="Battery drains fast")["id"]
    api.move(team, source, "declined", "Could not reproduce.")
    for voter in (both, source_only):
        api.vote(voter, source)
    for voter in (both, target_only):
        api.vote(voter, target)
    source_comment = api.comment(source_only, source, "Mine dies by noon too.")
    target_comment = api.comment(target_only, target, "Same on Canyu 2.")

    merged = api.merge(team, source, target)
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == target
    # both, source_only, target_only: the friend who voted on both posts counts once.
    assert merged.json()["vote_count"] == 3
    assert api.get(target)["vote_count"] == 3
    duplicate = api.get(source)
    assert duplicate["status"] == "duplicate"
    assert duplicate["duplicate_of_id"] == target
    assert {c["id"] for c in api.comments(target)} == {source_comment["id"], target_comment["id"]}

    # A friend who had voted on the source votes on the target: still counted once.
    assert api.vote(source_only, target)["vote_count"] == 3
    api.client.delete(f"{FEEDBACK}/{target}/vote", headers=api.h(source_only))
    assert api.get(target)["vote_count"] == 3  # their vote on the source still counts

    undone = api.client.delete(f"{FEEDBACK}/{source}/merge", headers=api.h(team))
    assert undone.status_code == 200, undone.text
    reopened = undone.json()
    assert reopened["id"] == source
    assert reopened["status"] == "declined"
    assert reopened["status_reason"] == "Could not reproduce."
    assert reopened["duplicate_of_id"] is None
    assert reopened["vote_count"] == 2
    assert api.get(target)["vote_count"] == 2
    assert [c["id"] for c in api.comments(target)] == [target_comment["id"]]
    assert [c["id"] for c in api.comments(source)] == [source_comment["id"]]
    assert source in api.ids()


def test_merge_refuses_bad_targets(api: Api, friend: User, team: User) -> None:
    first = api.post(friend, title="One")["id"]
    second = api.post(friend, title="Two")["id"]
    third = api.post(friend, title="Three")["id"]

    assert_error(api.merge(team, first, first), 422, "invalid_input")
    assert_error(api.merge(team, first, 999999), 404, "not_found")
    assert_error(api.merge(team, 999999, first), 404, "not_found")
    assert_error(api.merge(friend, first, second), 403, "forbidden")
    assert api.merge(team, first, second).status_code == 200
    # Into a duplicate: merge into its canonical post instead.
    error = assert_error(api.merge(team, third, first), 409, "conflict")
    assert f"post {second}" in error["message"]
    # A duplicate cannot be merged again.
    assert_error(api.merge(team, first, third), 409, "conflict")
    assert api.get(third)["status"] == "new"
    assert api.get(first)["duplicate_of_id"] == second


def test_undo_of_a_post_that_is_not_merged_conflicts(api: Api, friend: User, team: User) -> None:
    post_id = api.post(friend)["id"]
    response = api.client.delete(f"{FEEDBACK}/{post_id}/merge", headers=api.h(team))
    assert_error(response, 409, "conflict")
    response = api.client.delete(f"{FEEDBACK}/{post_id}/merge", headers=api.h(friend))
    assert_error(response, 403, "forbidden")


# --- bulk status ------------------------------------------------------------------------------


def test_bulk_status_is_all_or_nothing(
    api: Api, friend: User, team: User, database: Database
) -> None:
    movable = [api.post(friend, title=f"Movable {n}")["id"] for n in range(2)]
    shipped = api.post(friend, title="Already shipped")["id"]
    api.move(team, shipped, "accepted")
    api.move(team, shipped, "shipped")
    with database.session() as s:
        changes_before = s.scalar(select(func.count()).select_from(StatusChange))

    response = api.client.post(
        f"{FEEDBACK}/bulk-status",
        json={"post_ids": [*movable, shipped], "status": "planned"},
        headers=api.h(team),
    )
    error = assert_error(response, 409, "conflict")
    assert set(error["details"]) == {str(shipped)}
    assert "shipped" in error["details"][str(shipped)]
    assert [api.get(p)["status"] for p in movable] == ["new", "new"]
    assert api.get(shipped)["status"] == "shipped"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(StatusChange)) == changes_before

    response = api.client.post(
        f"{FEEDBACK}/bulk-status",
        json={"post_ids": [*movable, 777777], "status": "planned"},
        headers=api.h(team),
    )
    assert assert_error(response, 409, "conflict")["details"] == {"777777": "no such post"}

    response = api.client.post(
        f"{FEEDBACK}/bulk-status",
        json={"post_ids": movable, "status": "planned"},
        headers=api.h(team),
    )
    assert response.status_code == 200, response.text
    assert sorted(p["id"] for p in response.json()) == sorted(movable)
    assert [api.get(p)["status"] for p in movable] == ["planned", "planned"]
    assert len(api.notifications(friend)) == 2 + 2  # two for the shipped post, one each here


def test_bulk_status_checks_its_input(api: Api, friend: User, team: User) -> None:
    post_id = api.post(friend)["id"]
    url = f"{FEEDBACK}/bulk-status"
    assert_error(
        api.client.post(
            url, json={"post_ids": [post_id], "status": "accepted"}, headers=api.h(friend)
        ),
        403,
        "forbidden",
    )
    for body in (
        {"post_ids": [], "status": "accepted"},
        {"post_ids": [post_id], "status": "done"},
        {"post_ids": list(range(1, 102)), "status": "accepted"},
    ):
        assert_error(api.client.post(url, json=body, headers=api.h(team)), 422, "invalid_input")
    response = api.client.post(
        url, json={"post_ids": [post_id], "status": "declined"}, headers=api.h(team)
    )
    assert assert_error(response, 409, "conflict")["details"][str(post_id)]
    assert api.get(post_id)["status"] == "new"


# --- similar posts ----------------------------------------------------------------------------


@pytest.fixture
def similar_posts(api: Api, friend: User) -> dict[str, int]:
    posts = {
        "battery_zh": ("电池耗电太快", "手机晚上待机一夜掉电百分之四十，电池很快就没电了。"),
        "camera": ("Camera app crashes when opening", "The camera closes right after launch."),
        "bluetooth": ("Bluetooth keeps disconnecting", "My headphones drop every few minutes."),
        "wifi": ("Wi-Fi is slow after update", "Pages load slowly since the last build."),
        "dark": ("Add a dark mode to settings", "The settings screen is too bright at night."),
    }
    return {key: api.post(friend, title=t, body=b)["id"] for key, (t, b) in posts.items()}


def test_similar_finds_the_same_problem_across_languages(
    api: Api, similar_posts: dict[str, int]
) -> None:
    found = api.similar("Battery drains too fast overnight")
    assert found, "nothing similar found"
    assert found[0]["post"]["id"] == similar_posts["battery_zh"]
    scores = [item["score"] for item in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert found[0]["post"]["language"] == "zh"
    assert found[0]["likely_duplicate"] is True


def test_nonsense_gets_no_likely_duplicate(api: Api, similar_posts: dict[str, int]) -> None:
    found = api.similar("zzzzqqq xylophone")
    assert all(item["likely_duplicate"] is False for item in found), found
    # The same problem in the same words is likely; an unrelated post is not.
    found = api.similar("Bluetooth keeps disconnecting from my headphones")
    assert found[0]["post"]["id"] == similar_posts["bluetooth"]
    assert found[0]["likely_duplicate"] is True
    assert [item["likely_duplicate"] for item in found[1:]] == [False] * (len(found) - 1)


def test_similar_respects_k_and_exclude(api: Api, similar_posts: dict[str, int]) -> None:
    assert len(api.similar("phone problem after the update", k=2)) <= 2
    assert len(api.similar("Camera crashes", k=1)) == 1
    assert api.similar("Camera crashes", k=1)[0]["post"]["id"] == similar_posts["camera"]
    without = api.similar("Camera crashes", k=5, exclude=similar_posts["camera"])
    assert similar_posts["camera"] not in [item["post"]["id"] for item in without]


def test_similar_with_an_empty_query_is_empty(api: Api, similar_posts: dict[str, int]) -> None:
    assert api.similar("") == []
    assert api.similar("   ") == []


def test_similar_refuses_bad_queries(api: Api) -> None:
    error = assert_error(
        api.client.get(f"{FEEDBACK}/similar", params={"q": "x" * (MAX_QUERY + 1)}),
        422,
        "invalid_input",
    )
    assert "q" in error["message"]
    assert_error(api.client.get(f"{FEEDBACK}/similar"), 422, "invalid_input")
    for k in (0, 51):
        response = api.client.get(f"{FEEDBACK}/similar", params={"q": "battery", "k": k})
        assert_error(response, 422, "invalid_input")


def test_a_post_written_after_startup_is_found_without_a_rebuild(
    api: Api, friend: User, similar_posts: dict[str, int]
) -> None:
    query = "Fingerprint sensor rejects my thumb"
    before = {item["post"]["id"] for item in api.similar(query)}
    created = api.post(
        friend, title="Fingerprint sensor rejects thumb", body="Unlock fails with wet hands."
    )["id"]
    assert created not in before
    assert api.similar(query)[0]["post"]["id"] == created


def test_similar_reports_a_merged_duplicate_as_its_canonical_post(
    api: Api, friend: User, team: User, similar_posts: dict[str, int]
) -> None:
    canonical = api.post(friend, title="Battery drains fast", body="Empty by noon.")["id"]
    assert api.merge(team, similar_posts["battery_zh"], canonical).status_code == 200
    found = api.similar("电池耗电太快，待机一夜掉电")
    ids = [item["post"]["id"] for item in found]
    assert similar_posts["battery_zh"] not in ids
    assert ids[0] == canonical
    assert len(ids) == len(set(ids))
    assert found[0]["post"]["status"] == "new"


# --- honour roll ------------------------------------------------------------------------------


def honour(api: Api) -> dict[int, dict[str, Any]]:
    response = api.client.get("/api/v1/credits/honour-roll")
    assert response.status_code == 200, response.text
    assert response.json()["formula"] == credits.FORMULA
    return {entry["user"]["id"]: entry for entry in response.json()["entries"]}


def test_honour_roll_follows_the_formula_and_never_lowers_points(
    api: Api, make_user: UserFactory, team: User
) -> None:
    author, early, late = make_user(), make_user(), make_user()
    shipped = api.post(author, title="Shipped idea")["id"]
    api.vote(author, shipped)  # voting for your own post earns nothing
    api.vote(early, shipped)
    api.move(team, shipped, "accepted")
    api.vote(late, shipped)  # after acceptance: not early
    api.move(team, shipped, "shipped")
    declined = api.post(author, title="Accepted, then declined")["id"]
    api.vote(early, declined)
    api.move(team, declined, "planned")
    assert honour(api) == {
        author.id: {
            "user": honour(api)[author.id]["user"],
            "points": 2 * credits.POINTS_POST_ACCEPTED + credits.POINTS_POST_SHIPPED,
            "posts_accepted": 2,
            "posts_shipped": 1,
            "early_votes": 0,
        },
        early.id: {
            "user": honour(api)[early.id]["user"],
            "points": 2 * credits.POINTS_EARLY_VOTE,
            "posts_accepted": 0,
            "posts_shipped": 0,
            "early_votes": 2,
        },
    }
    assert list(honour(api)) == [author.id, early.id]  # most points first
    before = {uid: entry["points"] for uid, entry in honour(api).items()}

    # Declined after being planned, a shipped post reopened, an accepted one sent back to new:
    # what happened stays credited.
    api.move(team, declined, "declined", "Turned out impossible.")
    api.move(team, shipped, "accepted")
    reopened = api.post(author, title="Accepted, then back to new")["id"]
    api.move(team, reopened, "accepted")
    api.move(team, reopened, "new")
    # Taking back an early vote after acceptance keeps the credit it earned.
    assert api.client.delete(f"{FEEDBACK}/{shipped}/vote", headers=api.h(early)).status_code == 200
    after = {uid: entry["points"] for uid, entry in honour(api).items()}
    assert after[early.id] == before[early.id]
    assert after[author.id] == before[author.id] + credits.POINTS_POST_ACCEPTED
    assert team.id not in after


def test_the_honour_roll_is_empty_before_anything_is_accepted(
    api: Api, friend: User, make_user: UserFactory
) -> None:
    post_id = api.post(friend)["id"]
    api.vote(make_user(), post_id)
    assert honour(api) == {}


# --- email ------------------------------------------------------------------------------------


@pytest.fixture
def mail_api(mail_app: tuple[FastAPI, TestClient], auth: AuthHeaders) -> Api:
    return Api(mail_app[1], auth)


def test_a_status_change_emails_each_recipient_once_after_commit(
    mail_api: Api, inbox: tuple[Inbox, int], make_user: UserFactory, team: User
) -> None:
    mailbox, _port = inbox
    author, voter = make_user(), make_user(locale="zh")
    post_id = mail_api.post(author, title="Battery drains fast")["id"]
    mail_api.vote(voter, post_id)
    mail_api.vote(team, post_id)
    assert mailbox.messages == []  # posting and voting send nothing

    mail_api.move(team, post_id, "accepted")
    messages = {m.rcpt_tos[0]: parse(m) for m in mailbox.wait_for(2)}
    assert mailbox.recipients() == sorted([author.email, voter.email])
    for message in messages.values():
        assert "Battery drains fast" in message["Subject"]
    english = messages[author.email]
    assert english["To"] == author.email
    assert english.get_content().strip() == "“Battery drains fast” is now Accepted."
    time.sleep(0.3)
    assert len(mailbox.messages) == 2  # one each, and none for the team member who acted


def test_no_email_leaves_when_the_transaction_rolls_back(
    mail_api: Api,
    inbox: tuple[Inbox, int],
    friend: User,
    team: User,
    database: Database,
) -> None:
    mailbox, _port = inbox
    doomed = mail_api.post(friend, title="Doomed change")["id"]
    sentinel = mail_api.post(friend, title="Sentinel")["id"]

    def change_then_fail() -> None:
        with database.session() as s:
            actor = s.get(User, team.id)
            assert actor is not None
            service.change_status(s, actor=actor, post_id=doomed, status="accepted")
            raise RuntimeError("something failed after the change")

    with pytest.raises(RuntimeError, match="after the change"):
        change_then_fail()
    assert mail_api.get(doomed)["status"] == "new"
    assert mail_api.notifications(friend) == []

    # Mail leaves in order through one worker: once the sentinel's email is in, a leaked one
    # from the rolled-back change would have arrived before it.
    mail_api.move(team, sentinel, "accepted")
    mailbox.wait_for(1)
    time.sleep(0.3)
    assert len(mailbox.messages) == 1, mailbox.recipients()
    assert mailbox.recipients() == [friend.email]
    assert "Sentinel" in parse(mailbox.messages[0])["Subject"]
