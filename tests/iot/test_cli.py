"""`canyu iot ...`: the device's commands fail with one line before pairing; the operator's
`broker` writes the configuration and canyu's files (a broker reading such files is in
test_broker.py)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from canyu.cli import app

runner = CliRunner()


def test_an_unpaired_device_says_so(tmp_path: Path) -> None:
    for command in (["status"], ["send"]):
        result = runner.invoke(app, ["iot", *command, "--home", str(tmp_path / "none")])
        assert result.exit_code == 2
        assert "not paired" in result.output


def test_the_operators_broker_configuration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    result = runner.invoke(
        app, ["iot", "broker", "--dir", str(tmp_path / "b"), "--database-url", url]
    )
    assert result.exit_code == 2
    assert "--server-password" in result.output
    result = runner.invoke(
        app,
        [
            "iot",
            "broker",
            "--dir",
            str(tmp_path / "b"),
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--server-password",
            "pw",
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    conf = (tmp_path / "b" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert "canyu-server:" in (tmp_path / "b" / "passwords").read_text()
