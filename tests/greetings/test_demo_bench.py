"""The demo's greetings and the benchmark's small run."""

from __future__ import annotations

import json
from datetime import date

from conftest import UserFactory
from sqlalchemy import select
from typer.testing import CliRunner

from canyu.accounts.models import Role, User
from canyu.cli import app as cli_app
from canyu.db import Database
from canyu.demo.greetings import add_demo_greetings
from canyu.greetings import service
from canyu.greetings.models import Greeting, GreetingStatus


def test_demo_greetings_for_the_next_festivals_of_cn_in_us(
    make_user: UserFactory, database: Database
) -> None:
    team = make_user(Role.TEAM)
    for country in ("CN", "CN", "IN", "IN", "US", "US"):
        make_user(country=country)
    # A day before Diwali 2027 (India), within 90 days of Christmas and the Spring Festival.
    today = date(2027, 10, 27)
    with database.session() as s:
        friends = list(s.scalars(select(User).where(User.role == "friend")))
        actor = s.get(User, team.id)
        assert actor is not None
        summary = add_demo_greetings(s, team=actor, friends=friends, today=today)
    assert summary.pending == 1
    assert summary.approved > 10
    assert "diwali" in summary.festivals["IN"]
    assert "christmas" in summary.festivals["US"]
    assert "double_ninth" not in summary.festivals["CN"]  # 2027-10-08: already past
    with database.session() as s:
        diwali = service.top_greetings(s, festivals=["diwali"], language="hi")["diwali"]
        assert diwali
        assert all(g.status == GreetingStatus.APPROVED.value for g in diwali)
        assert s.scalar(select(Greeting).where(Greeting.language == "zh")) is not None
        assert service.honour_roll(s)


def test_bench_small_run_prints_one_json_object() -> None:
    result = CliRunner().invoke(
        cli_app, ["bench", "greetings", "--per-pack", "20", "--no-publish", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["countries"] >= 245
    assert body["packs"] >= body["countries"]
    assert body["bytes_per_pack_20_greetings"] <= 8 * 1024
    assert set(body["goals_met"]) == {"seconds", "bytes_per_pack_20_greetings", "lookup_ms"}
