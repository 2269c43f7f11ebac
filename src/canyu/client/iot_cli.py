"""`canyu iot ...`: a small device (no screen) on the command line: pair, run, send."""

from __future__ import annotations

import json
import random
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from canyu.commands import fail

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
Home = Annotated[Path, typer.Option("--home", help="Where the device keeps its state.")]
DEFAULT_HOME = Path("var/iot")


def _readings() -> dict[str, float]:
    """An air purifier's sensors, simulated: PM2.5 and temperature."""
    return {"pm25": round(random.uniform(5, 80), 1), "temp": round(random.uniform(18, 28), 1)}


@app.command()
def pair(
    code: Annotated[str, typer.Option(help="The one-time code from the owner's phone or profile.")],
    server: Annotated[str, typer.Option(help="The canyu server.")] = "http://127.0.0.1:8000",
    product: Annotated[str, typer.Option(help="Product key (of kind iot).")] = "air-1",
    hardware_id: Annotated[str, typer.Option(help="Serial number.")] = "",
    version: Annotated[str, typer.Option(help="The build the device runs.")] = "1.0.0",
    home: Home = DEFAULT_HOME,
) -> None:
    """Pair this device with its owner; keep its broker account."""
    import secrets

    from canyu.client.device import DeviceError
    from canyu.client.iot import IotDevice

    try:
        state = IotDevice(home).pair(
            server=server,
            code=code,
            product=product,
            hardware_id=hardware_id or secrets.token_hex(8),
            version=version,
        )
    except DeviceError as exc:
        raise fail(exc.message) from None
    console.print(f"paired device {state.device_id} as {state.username} at {state.broker}")


@app.command()
def send(home: Home = DEFAULT_HOME) -> None:
    """Publish one telemetry message now."""
    from canyu.client.device import DeviceError
    from canyu.client.iot import IotDevice

    device = IotDevice(home)
    try:
        device.send(_readings())
    except DeviceError as exc:
        raise fail(exc.message) from None
    console.print("sent")


@app.command()
def run(
    every: Annotated[float, typer.Option(help="Seconds between telemetry messages.", min=0.1)] = 60,
    home: Home = DEFAULT_HOME,
) -> None:
    """Stay connected: telemetry every --every seconds, follow commands and updates (Ctrl-C)."""
    from canyu.client.device import DeviceError
    from canyu.client.iot import IotDevice

    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    try:
        IotDevice(home).run(
            readings=_readings,
            stop=lambda: stopping,
            every=every,
            on_event=lambda e: console.print(f"{e.kind}: {e.detail}"),
        )
    except DeviceError as exc:
        raise fail(exc.message) from None


@app.command()
def status(home: Home = DEFAULT_HOME) -> None:
    """Print what the device keeps (without its password)."""
    from dataclasses import asdict

    from canyu.client.iot import IotDevice

    state = IotDevice(home).state
    if state is None:
        raise fail(f"not paired: no {home / 'iot.json'}")
    shown = asdict(state) | {"password": "***"}
    typer.echo(json.dumps(shown, indent=2))
