"""The cross-language benchmark: pairs read from gettext catalogues, its metrics, its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canyu.cli import app as cli_app
from canyu.lab.dedup_bilingual import BilingualDataError, evaluate, load_pairs

CATALOGUE = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "The camera app crashes when switching to video"
msgstr "切换到视频时相机应用崩溃"

#, python-format
msgid "Cannot find source directory (%s) after the update"
msgstr "更新后无法找到源文件目录（%s）"

msgid "Bluetooth headphones disconnect during calls"
msgstr "打电话时蓝牙耳机断开连接"

#, fuzzy
msgid "Fingerprint sensor does not recognise my finger"
msgstr "指纹识别无法识别我的手指"

msgid "Save"
msgstr "保存"

msgid "Battery drains very fast overnight"
msgstr ""

msgid "The camera app crashes when switching to video"
msgstr "切换视频时相机崩溃"
"""


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "zh.po"
    path.write_text(CATALOGUE, encoding="utf-8")
    return path


def test_pairs_skip_labels_fuzzy_untranslated_and_repeated_messages(catalogue: Path) -> None:
    assert load_pairs([catalogue]) == [
        ("The camera app crashes when switching to video", "切换到视频时相机应用崩溃"),
        ("Cannot find source directory ( ) after the update", "更新后无法找到源文件目录（ ）"),
        ("Bluetooth headphones disconnect during calls", "打电话时蓝牙耳机断开连接"),
    ]


def test_each_side_finds_its_counterpart(catalogue: Path) -> None:
    result = evaluate(load_pairs([catalogue]))
    assert result.pairs == 3
    assert result.translation_first == 1.0
    assert result.original_first == 1.0
    assert result.translation_recall_at_10 == result.original_recall_at_10 == 1.0
    assert 0.0 <= result.likely_precision <= 1.0


def test_unusable_catalogues_are_readable_errors(tmp_path: Path) -> None:
    with pytest.raises(BilingualDataError, match="does not exist"):
        load_pairs([tmp_path / "missing.po"])
    english = tmp_path / "en.po"
    english.write_text('msgid "Save the file now please"\nmsgstr "Save the file now please"\n')
    with pytest.raises(BilingualDataError, match="no translated message"):
        load_pairs([english])


def test_command_prints_json_and_refuses_bad_input(catalogue: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run = runner.invoke(cli_app, ["bench", "dedup-bilingual", "--po", str(catalogue), "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout.strip().splitlines()[-1])["pairs"] == 3
    missing = runner.invoke(cli_app, ["bench", "dedup-bilingual", "--po", str(tmp_path / "x")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    method = runner.invoke(
        cli_app, ["bench", "dedup-bilingual", "--po", str(catalogue), "--method", "tfidf"]
    )
    assert method.exit_code == 2
