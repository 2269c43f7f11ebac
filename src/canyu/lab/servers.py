"""A canyu server (or a bare ASGI floor) in its own process on a free local port, for the lab's
benchmarks and simulators: started, waited for until it answers, stopped whatever happens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a process of the lab's to end; after 10 s, end it."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def healthy(url: str) -> bool:
    """The app is up when its health check answers."""
    return httpx.get(f"{url}/healthz", timeout=2).status_code == 200


class Uvicorn:
    """``python -m uvicorn APP`` on 127.0.0.1; ``ready(url)`` says when it serves (an
    httpx.HTTPError means not yet). A port someone took meanwhile is replaced, twice."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        *,
        workers: int = 1,
        options: Sequence[str] = ("--no-access-log",),
        ready: Callable[[str], bool] = healthy,
        cwd: Path | None = None,
        start_seconds: float = 120,
    ) -> None:
        self.app = app
        self.env = env
        self.workers = workers
        self.options = tuple(options)
        self.ready = ready
        self.cwd = cwd
        self.start_seconds = start_seconds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Uvicorn:
        for _attempt in range(3):
            if self._start():
                return self
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise RuntimeError(f"{self.app} stopped while starting, three times")

    def _start(self) -> bool:
        """Start on the current port; False if the process died (e.g. the port was taken)."""
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            *self.options,
        ]
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            command, env={**os.environ, **self.env}, cwd=self.cwd, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self.start_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self.ready(self.url):
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"{self.app} did not start within {self.start_seconds:.0f} s")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            stop(self.process)
