"""A small fleet against a real server process: the install-bad and the feedback-bad builds
pause by themselves at their first stage, the good one completes. (The 100,000-device run is
`canyu device simulate`; its figures are in docs/benchmarks.md.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from canyu.lab.fleet import BuildSpec, FleetRun, FleetSpec


def test_a_small_fleet_stops_the_bad_builds_by_themselves(tmp_path: Path) -> None:
    builds = (
        BuildSpec("2.0.0", "good (baseline)", install_failure_rate=0.0, feedback_rate=0.02),
        BuildSpec("2.0.1", "bad: installs", install_failure_rate=0.5, feedback_rate=0.02),
        BuildSpec(
            "2.0.2", "bad: feedback", install_failure_rate=0.0, feedback_rate=0.6, after="rollback"
        ),
        BuildSpec("2.0.3", "good", install_failure_rate=0.0, feedback_rate=0.02),
    )
    spec = FleetSpec(
        devices=300,
        countries={"CN": 2, "IN": 1},
        channels={"stable": 1},
        concurrency=8,
        builds=builds,
        stages=(20, 100),
        gates={"min_successes": 25, "min_sample": 12, "alpha": 0.001, "feedback_min_ratio": 2.0},
        until_installed=True,
    )
    # Its own thread: the run calls asyncio.run(), which refuses a thread whose event loop some
    # earlier test's library (Playwright's sync API) may have left running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(FleetRun(spec, workdir=tmp_path).run).result()
    by_version = {o.spec.version: o for o in result.outcomes}
    baseline, installs, feedback, good = (
        by_version[v] for v in ("2.0.0", "2.0.1", "2.0.2", "2.0.3")
    )
    assert baseline.status == "completed"
    assert good.status == "completed"
    assert good.percent == 100.0
    assert good.installed + good.failed >= 0.95 * result.fleet  # the whole fleet took it
    for bad, words in ((installs, "install failures"), (feedback, "feedback spike")):
        assert bad.status == "paused", (bad.spec.label, bad.reason)
        assert bad.reason is not None
        assert bad.reason.startswith(words)
        assert bad.percent == 20.0  # stopped at the first stage
        assert bad.exposed <= 0.20 * result.fleet
    assert feedback.rolled_back > 0  # its cohort went back to 2.0.0
    # The phones also marked spam numbers, screened calls and sent feedback from the device.
    phones = result.services
    assert phones["errors"] == 0, phones
    assert phones["labelled"] == phones["spam_numbers"] > 0
    assert phones["spam_calls"] > 0
    assert phones["intercepted"] == phones["spam_calls"]
    assert phones["feedback"] == 10
