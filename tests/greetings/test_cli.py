"""`canyu greetings festivals` and `canyu greetings packs`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from canyu.cli import app

runner = CliRunner()


def test_festivals_json_is_the_issue_shape() -> None:
    result = runner.invoke(
        app, ["greetings", "festivals", "--country", "cn", "--year", "2027", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["country"] == "CN"
    assert {
        "date": "2027-02-06",
        "key": "spring_festival",
        "names": {"en": "Spring Festival", "zh": "春节"},
    } in body["festivals"]


def test_festivals_table() -> None:
    result = runner.invoke(app, ["greetings", "festivals", "--country", "IN", "--year", "2025"])
    assert result.exit_code == 0
    assert "diwali" in result.stdout
    assert "2025-10-20" in result.stdout


def test_bad_input_is_a_clear_error() -> None:
    for args, message in (
        (["--country", "XX", "--year", "2027"], "Unknown country"),
        (["--country", "CN", "--year", "1900"], "out of range"),
    ):
        result = runner.invoke(app, ["greetings", "festivals", *args])
        assert result.exit_code == 2
        assert message in result.output


def test_packs_for_one_country_without_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    packs = ["greetings", "packs", "--country", "IN", "--no-publish", "--database-url", url]
    closed = runner.invoke(app, packs)
    assert closed.exit_code == 2  # packs are built for opened markets only
    assert "India (IN) is not an opened market" in closed.output
    opened = runner.invoke(app, ["markets", "open", "IN", "--database-url", url])
    assert opened.exit_code == 0, opened.output
    result = runner.invoke(app, packs)
    assert result.exit_code == 0, result.output
    assert "built 2 packs" in result.output  # Hindi and English
    bad = runner.invoke(
        app, ["greetings", "packs", "--country", "XX", "--no-publish", "--database-url", url]
    )
    assert bad.exit_code == 2
    assert "Unknown country" in bad.output
