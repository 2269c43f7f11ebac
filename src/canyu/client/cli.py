"""`canyu device ...`: a phone on the command line, and fleets; `canyu bench checkin`."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from canyu.client import wifi_cli
from canyu.commands import fail

if TYPE_CHECKING:
    from canyu.client.device import Device

app = typer.Typer(no_args_is_help=True)
app.add_typer(wifi_cli.app, name="wifi", help="Free Wi-Fi near you, offline; one-tap connect.")
console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160)

Home = Annotated[
    Path, typer.Option("--home", help="Where the device keeps its state, root and TUF cache.")
]
DEFAULT_HOME = Path("var/device")


def _add_services() -> None:
    from canyu.client import greetings_cli, phone_cli

    app.add_typer(greetings_cli.app, name="greetings", help="Today's festival greetings, offline.")
    phone_cli.register(app)


_add_services()


def _device(home: Path) -> Device:
    from canyu.client.device import Device

    return Device(home)


@app.command()
def register(
    server: Annotated[str, typer.Option(help="The canyu server.")] = "http://127.0.0.1:8000",
    product: Annotated[str, typer.Option(help="Product key.")] = "canyu-1s",
    hardware_id: Annotated[
        str, typer.Option(help="Serial number (sent, hashed by the server).")
    ] = "",
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2.")] = "CN",
    channel: Annotated[str, typer.Option(help="developer, beta or stable.")] = "stable",
    version: Annotated[str, typer.Option(help="The build the device runs.")] = "1.0.0",
    owner_token: Annotated[
        str | None,
        typer.Option(help="A friend's API token: they own the device.", envvar="CANYU_TOKEN"),
    ] = None,
    root: Annotated[
        Path | None, typer.Option(help="The root.json the device ships with (default: ask once).")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            help="The device's attestation private key (PEM), if its factory enrolled one."
        ),
    ] = None,
    home: Home = DEFAULT_HOME,
) -> None:
    """Register this device and keep its token (registering again sends the token it holds)."""
    import secrets

    from canyu.client.device import DeviceError
    from canyu.devices.attestation import load_private_key

    device = _device(home)
    try:
        state = device.register(
            server=server,
            product=product,
            hardware_id=hardware_id or secrets.token_hex(8),
            country=country,
            channel=channel,
            version=version,
            owner_token=owner_token,
            trusted_root=root.read_bytes() if root else None,
            attestation_key=load_private_key(key.read_bytes()) if key else None,
        )
    except DeviceError as exc:
        raise fail(exc.message) from None
    console.print(f"registered device {state.device_id}; push topic {state.push_topic}")


@app.command()
def checkin(home: Home = DEFAULT_HOME) -> None:
    """Check in once and print the offer, if any."""
    from canyu.client.device import DeviceError

    try:
        offer = _device(home).check_in()
    except DeviceError as exc:
        raise fail(exc.message) from None
    out.print_json(json.dumps(offer.__dict__ if offer else None))


@app.command()
def update(home: Home = DEFAULT_HOME) -> None:
    """Check in; if offered, fetch and verify through TUF, install, report."""
    from canyu.client.device import DeviceError

    try:
        result = _device(home).update()
    except DeviceError as exc:
        raise fail(exc.message) from None
    if result.installed and result.offer:
        console.print(f"[green]installed[/green] {result.offer.version} ({result.offer.target})")
    elif result.offer:
        raise fail(f"refused {result.offer.target}: {result.reason}")
    else:
        console.print(result.reason)


@app.command()
def listen(home: Home = DEFAULT_HOME) -> None:
    """Wait for pushes (MQTT) or poll, and update each time; wait out an unavailable server
    (Ctrl-C stops)."""
    from canyu.client.device import DeviceError

    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    try:
        _device(home).listen(
            on_update=lambda r: console.print(
                r.offer.version if r.installed and r.offer else r.reason
            ),
            stop=lambda: stopping,
        )
    except DeviceError as exc:  # one that waiting cannot fix, such as a revoked token
        raise fail(exc.message) from None
