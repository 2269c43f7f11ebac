"""The pure parts: telemetry messages, topic names, and the broker's files (mosquitto_passwd's
own hash format)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require_service

from canyu.iot import broker, topics


def test_telemetry_is_checked_before_it_is_stored() -> None:
    good = topics.parse_telemetry(
        b'{"state":"on","mode":"sleep","version":"1.2.0","readings":{"pm25":3},"t":5}'
    )
    assert good == topics.Telemetry("on", "sleep", "1.2.0", {"pm25": 3.0}, 5)
    assert topics.parse_telemetry(good.payload()) == good
    for bad in (
        b"not json",
        b"[1]",
        b'{"state":"exploded"}',
        b'{"mode":"turbo"}',
        b'{"readings":{"PM":1}}',
        b'{"readings":{"pm25":true}}',
        b'{"readings":{"pm25":"12"}}',
        b'{"readings":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}}',
        b'{"version":"1.0 beta; drop table"}',
        b'{"t":"soon"}',
        b'{"state":"on","pad":"' + b"x" * 2000 + b'"}',
    ):
        with pytest.raises(topics.BadMessage):
            topics.parse_telemetry(bad)


def test_topics_name_one_device() -> None:
    assert topics.parse_device_topic("iot/d42/telemetry") == (42, "telemetry")
    for other in (
        "iot/d0/telemetry",
        "iot/x42/telemetry",
        "iot/d42/other",
        "iot/d42",
        "a/d1/checkin",
    ):
        assert topics.parse_device_topic(other) is None


def test_the_acl_gives_devices_only_their_own_topics() -> None:
    passwords, acl = broker.render(
        [broker.Account("d1", "$7$hash1"), broker.Account("d2", "$7$hash2")],
        [broker.server_account("$7$server")],
    )
    assert passwords.splitlines() == ["canyu-server:$7$server", "d1:$7$hash1", "d2:$7$hash2"]
    patterns = [line for line in acl.splitlines() if line.startswith("pattern")]
    assert patterns == [
        "pattern write iot/%u/telemetry",
        "pattern write iot/%u/checkin",
        "pattern read iot/%u/commands",
    ]


def test_the_hash_is_mosquitto_passwds(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    require_service(Path(tool).exists(), "mosquitto_passwd")
    made = tmp_path / "pw"
    subprocess.run([tool, "-c", "-b", str(made), "alice", "s3cret"], check=True)
    written = made.read_text().strip().split(":", 1)[1]
    salt = base64.b64decode(written.split("$")[3])
    assert broker.password_hash("s3cret", salt=salt) == written
