"""Periodic jobs run exactly once across worker processes (issue 22): the process holding the
jobs lock (a PostgreSQL advisory lock, a file lock beside a SQLite file) runs them; when it
dies another takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from canyu import jobs

WORKER = """
import os, sys, time
from datetime import timedelta
from apscheduler.triggers.interval import IntervalTrigger
from canyu import jobs
from canyu.config import Settings
from canyu.db import Database

url, out = sys.argv[1], sys.argv[2]

def tick(_context):
    with open(out, "a") as f:
        f.write(f"{os.getpid()} {time.time():.2f}\\n")

database = Database(url)
context = jobs.JobContext(database=database, settings=Settings(database_url=url, secret_key="k"))
job = jobs.Job("tick", tick, lambda _c: IntervalTrigger(seconds=1), timedelta(seconds=0.2))
runner = jobs.JobRunner(context, [job]).start()
print("ready", flush=True)
time.sleep(60)
"""


def test_one_worker_of_three_runs_the_jobs_and_another_takes_over(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    out.touch()
    # The canyu this test imports (the same source tree).
    env = {**os.environ, "PYTHONPATH": str(Path(jobs.__file__).parents[1])}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, database_url, str(out)],
            env=env,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        for _ in range(3)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == b"ready"
        time.sleep(4.5)
        runs = [line.split()[0] for line in out.read_text().splitlines()]
        by_pid = Counter(runs)
        assert len(by_pid) == 1, by_pid  # one process ran every tick
        assert 3 <= len(runs) <= 6, runs  # once per second, not three times
        (leader,) = by_pid
        os.killpg(int(leader), signal.SIGKILL)
        next(w for w in workers if w.pid == int(leader)).wait()
        time.sleep(3.5)
        later = [line.split()[0] for line in out.read_text().splitlines()][len(runs) :]
        assert later, "no worker took over"
        assert leader not in later
        assert len(set(later)) == 1
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
