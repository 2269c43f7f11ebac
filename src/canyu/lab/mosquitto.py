"""A Mosquitto broker of its own on a free local port, with canyu's password and ACL files, for
the IoT tests and benchmarks (the machine's broker on 1883 is left alone)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from canyu.iot import broker
from canyu.lab.servers import free_port, stop

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def available() -> bool:
    return Path(MOSQUITTO).exists()


class Mosquitto:
    """``with Mosquitto() as b:`` a broker at 127.0.0.1:``b.port`` that reads ``b.files``
    (write them with ``b.files.write`` before or after it starts: it reloads on SIGHUP)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="canyu-mosquitto-")
        self.directory = directory or Path(self._tmp.name)
        self.files = broker.BrokerFiles(
            self.directory / "passwords",
            self.directory / "acl",
            self.directory / "mosquitto.pid",
        )
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, username: str = "", password: str = "") -> str:
        account = f"{username}:{password}@" if username else ""
        return f"mqtt://{account}127.0.0.1:{self.port}"

    def __enter__(self) -> Mosquitto:
        if not self.files.password_file.exists():
            self.files.write("", "")
        conf = self.directory / "mosquitto.conf"
        # The pid file is written here: mosquitto writes one only when it runs as a daemon.
        plain = broker.BrokerFiles(self.files.password_file, self.files.acl_file)
        # As root (CI), the broker would switch to the "mosquitto" user, who cannot read files
        # made in a private temporary folder: it stays who started it.
        run_as = "root" if os.geteuid() == 0 else None
        conf.write_text(broker.config(port=self.port, files=plain, run_as=run_as))
        self.log = (self.directory / "mosquitto.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (the broker, with our generated config)
            [MOSQUITTO, "-c", str(conf)], stdout=self.log, stderr=subprocess.STDOUT
        )
        assert self.files.pid_file is not None
        self.files.pid_file.write_text(str(self.process.pid))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto stopped: {self.directory / 'mosquitto.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("mosquitto did not start within 10 s")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
            self.log.close()
        self._tmp.cleanup()
