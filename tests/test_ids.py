"""Every route with an id in its path bounds it (issue 22): a huge id is a 4xx, never a 500 from
a database that cannot compare it (SQLite's 64-bit integers, PostgreSQL's 32-bit ``integer``).
Walks every route of the app, the pages' as well as the API's."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import annotated_types
import pytest
from conftest import UserFactory
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from canyu.accounts.models import Role, User
from canyu.db import MAX_ID

HUGE = ("99999999999999999999", str(MAX_ID + 1), "0")
PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")
OTHER_VALUES = {"action": "pause", "key": "canyu-1s", "product": "canyu-1s"}


def _routes(app: FastAPI) -> Iterator[tuple[str, set[str], Any]]:
    """(path, methods, dependant) of every route, those of included routers too."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                yield context.path, set(context.methods or ()), context.dependant
        elif isinstance(route, APIRoute):
            yield route.path, set(route.methods or ()), route.dependant


def _int_params(dependant: Any) -> list[Any]:
    return [f for f in dependant.path_params if f.field_info.annotation is int]


def _id_routes(app: FastAPI) -> list[tuple[str, set[str], Any]]:
    return [(p, m, d) for p, m, d in _routes(app) if _int_params(d)]


def test_every_id_in_a_path_is_bounded(app: FastAPI) -> None:
    routes = _id_routes(app)
    assert len(routes) > 20  # the walk found the pages' routes, not only the API's
    unbounded = []
    for path, methods, dependant in routes:
        for field in _int_params(dependant):
            metadata = field.field_info.metadata
            le = [m.le for m in metadata if isinstance(m, annotated_types.Le)]
            ge = [m.ge for m in metadata if isinstance(m, annotated_types.Ge)]
            if not (le and le[0] <= MAX_ID and ge and ge[0] >= 1):
                unbounded.append(f"{sorted(methods)} {path} {field.name}")
    assert unbounded == []


@pytest.mark.parametrize("huge", HUGE)
def test_every_route_answers_a_huge_id_without_a_500(
    app: FastAPI,
    client: TestClient,
    make_user: UserFactory,
    auth: Callable[[User], dict[str, str]],
    huge: str,
) -> None:
    admin = auth(make_user(Role.ADMIN))
    seen = 0
    for path, methods, _dependant in _id_routes(app):
        url = PARAM.sub(
            lambda m: OTHER_VALUES.get(m.group(1), huge) if not m.group(1).endswith("id") else huge,
            path,
        )
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            for headers in ({}, admin):
                response = client.request(method, url, headers=headers, follow_redirects=False)
                assert response.status_code < 500, f"{method} {url}: {response.text[:200]}"
                seen += 1
    assert seen > 40
