"""Debian packages a lab command needs (a load generator), installed by the command itself on a
machine where it may (root, apt-get), as the README's two commands install what they need."""

from __future__ import annotations

import os
import shutil
import subprocess

from rich.console import Console


def ensure_program(program: str, package: str, console: Console) -> bool:
    """Whether ``program`` is on PATH, installing Debian's ``package`` first if it is not and
    this process is root with apt-get. Says what it does, and what to do when it cannot."""
    if shutil.which(program) is not None:
        return True
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        console.print(
            f"[red]error:[/red] {program} is not installed (apt-get install -y {package})"
        )
        return False
    console.print(f"installing {package} (Debian package) for {program}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", package]):
        done = subprocess.run(  # noqa: S603 (apt-get with fixed arguments)
            command, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    if done.returncode != 0 or shutil.which(program) is None:
        console.print(f"[red]error:[/red] could not install {package}; install it and retry")
        return False
    return True
