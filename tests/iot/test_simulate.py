"""Small devices in `canyu device simulate`'s fleet: a server process of its own with a broker
of its own; the devices pair with their owners' codes, follow a command, and the ingest inside
the server stores what they report."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import require_service

from canyu.lab import mosquitto
from canyu.lab.fleet import BuildSpec, FleetRun, FleetSpec


def test_small_devices_join_the_simulated_fleet(tmp_path: Path) -> None:
    require_service(mosquitto.available(), f"mosquitto at {mosquitto.MOSQUITTO}")
    spec = FleetSpec(
        devices=20,
        countries={"CN": 1},
        channels={"stable": 1},
        builds=(BuildSpec("2.0.0", "good", install_failure_rate=0.0, feedback_rate=0.0),),
        stages=(100,),
        gates={"min_successes": 5, "min_sample": 5},
        iot_devices=6,
    )
    # Its own thread, as tests/client/test_simulate.py explains.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(FleetRun(spec, workdir=tmp_path).run).result()
    assert result.iot is not None
    assert result.iot.paired == 6
    assert result.iot.commands_followed == 6
    assert result.iot.stored_state_on == 6
