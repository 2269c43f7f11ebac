"""A bounded schemathesis run over every calls route: valid and invalid input alike gets an
answer below 500 (signed in as a team member, with a labelled number in place)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from calls.conftest import FriendFactory
from canyu.accounts.models import Role, User
from canyu.calls import service
from canyu.calls.settings import CallsSettings
from canyu.db import Database

EXAMPLES = 5
ROUTES = [
    ("post", "/api/v1/calls/marks"),
    ("get", "/api/v1/calls/marks"),
    ("delete", "/api/v1/calls/marks/{number}"),
    ("get", "/api/v1/calls/lookup"),
    ("get", "/api/v1/calls/lookup/{prefix}"),
    ("get", "/api/v1/calls/numbers/{number}"),
    ("post", "/api/v1/calls/numbers/{number}/decision"),
    ("post", "/api/v1/calls/appeals/code"),
    ("post", "/api/v1/calls/appeals/verify"),
    ("post", "/api/v1/calls/appeals"),
    ("get", "/api/v1/calls/appeals"),
    ("post", "/api/v1/calls/appeals/{appeal_id}/decision"),
    ("post", "/api/v1/calls/sms/reports"),
]


def test_every_calls_route_is_fuzzed(calls_app: FastAPI) -> None:
    paths = calls_app.openapi()["paths"]
    listed = {
        (method, path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "calls" in operation.get("tags", []) and path != "/api/v1/calls/packs/{region}"
    }
    assert listed == set(ROUTES)


NO_INPUT = {("get", "/api/v1/calls/lookup")}


def test_no_server_errors(
    calls_app: FastAPI,
    database: Database,
    friend: FriendFactory,
    auth: Callable[[User], dict[str, str]],
    calls_settings: CallsSettings,
) -> None:
    """One app for every route and mode (set-up dominates the run time on two cores)."""
    calls_app.state.calls_settings = calls_settings.model_copy(
        update={"mark_rate": "100000/minute", "code_rate": "100000/minute"}
    )
    team = friend(role=Role.TEAM)
    with database.session() as s:
        actor = s.get(User, team.id)
        assert actor is not None
        service.decide_number(
            s,
            actor=actor,
            number="+8613800138000",
            decision="label",
            category="fraud",
            settings=calls_settings,
        )
    headers = auth(team)
    schema = schemathesis.openapi.from_asgi("/openapi.json", calls_app)
    for method, path in ROUTES:
        modes = [GenerationMode.POSITIVE]
        if (method, path) not in NO_INPUT:
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            _fuzz(schema[path][method.upper()], mode, headers)


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )

    check()
