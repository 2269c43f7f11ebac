"""`canyu calls ...` and the calls benchmarks, from a shell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SHARED_DATA
from sqlalchemy import select
from typer.testing import CliRunner

from calls.conftest import FriendFactory
from canyu.accounts.models import User
from canyu.calls.models import CallMark, Number
from canyu.calls.settings import get_calls_settings
from canyu.cli import app
from canyu.db import Database
from canyu.releases.settings import get_release_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CANYU_CALLS_PACK_DIR", str(tmp_path / "packs"))
    monkeypatch.setenv("CANYU_CALLS_SMS_MODEL_PATH", str(tmp_path / "sms.skops"))
    monkeypatch.setenv("CANYU_RELEASE_KEYS_DIR", str(tmp_path / "no-keys"))
    get_calls_settings.cache_clear()
    get_release_settings.cache_clear()
    yield
    get_calls_settings.cache_clear()
    get_release_settings.cache_clear()


def test_import_marks_loads_a_csv_and_reports_bad_rows(
    tmp_path: Path, database: Database, database_url: str, friend: FriendFactory
) -> None:
    known = [friend() for _ in range(7)]
    rows = ["number,reporter,category,time"]
    from datetime import timedelta

    from canyu.db import utcnow

    hour_ago = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    rows += [f"+8613800138000,{u.email},fraud,{hour_ago}:0{i}Z" for i, u in enumerate(known)]
    rows += [
        f"+8613800138000,{known[0].id},fraud,{utcnow().timestamp():.0f}",  # by id: a change
        "+861380013800,x@example.com,fraud,",  # invalid number
        f"+8613800138001,{known[0].email},spam,",  # unknown category
        "+8613800138002,stranger@example.com,telemarketing,",  # created with the flag
        "+8613800138003,new@example.com,telemarketing,2026-11-01",  # created with the flag
    ]
    path = tmp_path / "marks.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["calls", "import-marks", str(path), "--create-reporters", "--database-url", database_url],
    )
    assert result.exit_code == 0, result.output
    assert "10 marks from 12 rows" in result.output
    assert "not a valid phone number" in result.output
    assert "Unknown category" in result.output
    with database.session() as s:
        number = s.scalar(select(Number).where(Number.e164 == "+8613800138000"))
        assert number is not None
        assert number.label == "fraud"
        assert number.marks_count == 7
        assert s.scalar(select(User).where(User.email == "new@example.com")) is not None
        # Rows that fail are not half-written: no account for the invalid number's reporter.
        assert s.scalar(select(User).where(User.email == "x@example.com")) is None
        assert len(s.scalars(select(CallMark)).all()) == 9
    path.write_text("number,reporter,category,time\n+8613800138005,nobody@example.com,fraud,\n")
    plain = runner.invoke(app, ["calls", "import-marks", str(path), "--database-url", database_url])
    assert "unknown reporter 'nobody@example.com'" in plain.output


def test_import_marks_refuses_a_file_without_the_columns(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("phone,who\n1,2\n", encoding="utf-8")
    result = runner.invoke(
        app, ["calls", "import-marks", str(path), "--database-url", database_url]
    )
    assert result.exit_code == 2
    assert "missing columns" in result.output


def test_pack_command_builds_due_regions(
    tmp_path: Path, database: Database, database_url: str, friend: FriendFactory
) -> None:
    from canyu.accounts.models import Role
    from canyu.calls import service

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
            settings=get_calls_settings(),
        )
    result = runner.invoke(app, ["calls", "pack", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "+86" in result.output
    assert "no TUF keys" in result.output
    assert (tmp_path / "packs" / "86" / "pack.cyp").exists()
    again = runner.invoke(app, ["calls", "pack", "--database-url", database_url])
    assert "nothing to build" in again.output
    bad = runner.invoke(app, ["calls", "pack", "--country", "XX", "--database-url", database_url])
    assert bad.exit_code == 2
    assert "Unknown zone" in bad.output


def test_train_sms_saves_a_model(tmp_path: Path) -> None:
    lines = [f"spam\tWIN £{i}00 cash now, call 0906{i}" for i in range(30)]
    lines += [f"ham\tsee you at {i} tonight" for i in range(90)]
    data = tmp_path / "sms.tsv"
    data.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(app, ["calls", "train-sms", str(data)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sms.skops").exists()
    missing = runner.invoke(app, ["calls", "train-sms", str(tmp_path / "nope.tsv")])
    assert missing.exit_code == 2


def test_bench_pack_prints_the_figures_as_json() -> None:
    result = runner.invoke(app, ["bench", "pack", "--numbers", "20000", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["bits_per_number"] < 20  # sparser than at a million, so a few bits more
    assert 0 < figures["delta_share"] < 0.05
    assert figures["lookup_us"] > 0
    assert figures["lookup_hits"] == 1000


def test_bench_calls_abuse_small_meets_its_goals() -> None:
    result = runner.invoke(app, ["bench", "calls-abuse", "--small", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["goals"]["met"] is True


def test_bench_sms_reports_the_keys(tmp_path: Path) -> None:
    if not (SHARED_DATA / "sms" / "SMSSpamCollection").exists():
        pytest.skip("needs ../shared/data/sms/SMSSpamCollection")
    # A 600-message slice keeps this quick; the full run is `canyu bench sms`.
    lines = (SHARED_DATA / "sms" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    spam = [line for line in lines if line.startswith("spam")][:100]
    ham = [line for line in lines if line.startswith("ham")][:500]
    data = tmp_path / "slice.tsv"
    data.write_text("\n".join(spam + ham), encoding="utf-8")
    # --heldout takes messages the model never saw (in the real run, another language's).
    held = tmp_path / "held.tsv"
    held.write_text("\n".join(lines[-300:]), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "bench",
            "sms",
            "--dataset",
            str(data),
            "--folds",
            "3",
            "--no-baseline",
            "--json",
            "--heldout",
            str(held),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert {"precision", "recall", "f1", "ham_fpr"} <= set(figures)
    assert figures["recall"] > 0.8
    assert figures["heldout"]["messages"] == 300
    assert {"ham_fpr", "recall"} <= set(figures["heldout"])


def test_bench_calls_replay_publishes_every_tipped_number() -> None:
    """A small replay through a real server: every mark accepted, every number the friends
    tipped over the threshold ends up in a published pack, within the first pack run."""
    result = runner.invoke(
        app,
        [
            "bench",
            "calls-replay",
            "--marks",
            "300",
            "--friends",
            "40",
            "--concurrency",
            "2",
            "--pack-interval",
            "0.05",
            "--max-minutes",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["statuses"] == {"201": 300}
    assert figures["extrapolated"] is False
    assert figures["numbers_labelled"] == figures["spam_numbers"] == 10
    assert figures["numbers_not_yet_published"] == 0
    # The pack job first runs 30 s after the server starts, then every 3 s.
    assert 0 < figures["tip_to_published_max_s"] < 60
