"""`canyu device ...`: a phone on the command line, and fleets; `canyu bench checkin`."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from canyu.client.device import Device

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160)

Home = Annotated[
    Path, typer.Option("--home", help="Where the device keeps its state, root and TUF cache.")
]
DEFAULT_HOME = Path("var/device")


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


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
    home: Home = DEFAULT_HOME,
) -> None:
    """Register this device and keep its token."""
    import secrets

    from canyu.client.device import DeviceError

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
        )
    except DeviceError as exc:
        raise _fail(exc.message) from None
    console.print(f"registered device {state.device_id}; push topic {state.push_topic}")


@app.command()
def checkin(home: Home = DEFAULT_HOME) -> None:
    """Check in once and print the offer, if any."""
    from canyu.client.device import DeviceError

    try:
        offer = _device(home).check_in()
    except DeviceError as exc:
        raise _fail(exc.message) from None
    out.print_json(json.dumps(offer.__dict__ if offer else None))


@app.command()
def update(home: Home = DEFAULT_HOME) -> None:
    """Check in; if offered, fetch and verify through TUF, install, report."""
    from canyu.client.device import DeviceError

    try:
        result = _device(home).update()
    except DeviceError as exc:
        raise _fail(exc.message) from None
    if result.installed and result.offer:
        console.print(f"[green]installed[/green] {result.offer.version} ({result.offer.target})")
    elif result.offer:
        raise _fail(f"refused {result.offer.target}: {result.reason}")
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
        raise _fail(exc.message) from None


def _weights(text: str, what: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.strip().partition(":")
        try:
            weights[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise _fail(f"bad {what} weight in {part!r}; use NAME:WEIGHT,...") from None
    return weights


@app.command()
def simulate(
    devices: Annotated[int, typer.Option(help="Simulated phones.", min=10, max=2_000_000)] = 10_000,
    countries: Annotated[str, typer.Option(help="COUNTRY:weight,...")] = "CN:4,IN:3,ID:1,ES:1,US:1",
    channels: Annotated[
        str, typer.Option(help="CHANNEL:weight,...")
    ] = "stable:16,beta:3,developer:1",
    bad_install_rate: Annotated[
        float, typer.Option(help="Install failures of the bad build.")
    ] = 0.30,
    bad_feedback_rate: Annotated[
        float, typer.Option(help="Posts per install, feedback-bad build.")
    ] = 0.08,
    good_feedback_rate: Annotated[
        float, typer.Option(help="Posts per install, good builds.")
    ] = 0.004,
    good_failure_rate: Annotated[
        float, typer.Option(help="Install failures of good builds.")
    ] = 0.005,
    concurrency: Annotated[int, typer.Option(help="Requests in flight.", min=1, max=512)] = 4,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    until_installed: Annotated[
        bool,
        typer.Option(help="After a rollout completes, poll until every phone runs the build."),
    ] = False,
    bulk_register: Annotated[
        bool,
        typer.Option(help="Load the registry with bulk inserts instead of one POST per phone."),
    ] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: a fresh SQLite file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Drive a fleet against a server of its own: a good build, one bad by install failures,
    one bad only by the feedback it draws, another good one. Prints how far each got."""
    from canyu.client.simulate import BuildSpec, FleetRun, FleetSpec

    builds = (
        BuildSpec("2.0.0", "good (baseline)", good_failure_rate, good_feedback_rate),
        BuildSpec("2.0.1", "bad: install failures", bad_install_rate, good_feedback_rate),
        BuildSpec(
            "2.0.2", "bad: feedback only", good_failure_rate, bad_feedback_rate, after="rollback"
        ),
        BuildSpec("2.0.3", "good", good_failure_rate, good_feedback_rate),
    )
    spec = FleetSpec(
        devices=devices,
        countries=_weights(countries, "country"),
        channels=_weights(channels, "channel"),
        concurrency=concurrency,
        builds=builds,
        seed=seed,
        register="bulk" if bulk_register else "http",
        until_installed=until_installed,
    )
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = FleetRun(spec, database_url=database_url, progress=report).run()
    rows: list[dict[str, Any]] = [
        {
            "version": o.spec.version,
            "build": o.spec.label,
            "status": o.status,
            "stage_percent": o.percent,
            "exposed_devices": o.exposed,
            "exposed_share": round(o.exposed_share(result.fleet), 5),
            "installed": o.installed,
            "failed": o.failed,
            "crashes": o.crashes,
            "feedback_posts": o.feedback,
            "rolled_back": o.rolled_back,
            "rounds": o.rounds,
            "checkins": o.checkins,
            "seconds": round(o.seconds, 1),
            "reason": o.reason,
        }
        for o in result.outcomes
    ]
    summary = {
        "devices": result.fleet,
        "register_seconds": round(result.register_seconds, 1),
        "builds": rows,
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    table = Table(title=f"fleet of {result.fleet} simulated phones")
    for column in (
        "build",
        "status",
        "stage",
        "exposed",
        "installed",
        "failed",
        "crashes",
        "posts",
        "rounds",
        "s",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            f"{r['version']} {r['build']}",
            str(r["status"]),
            f"{r['stage_percent']:g}%",
            f"{r['exposed_devices']} ({100 * float(r['exposed_share']):.2f}%)",
            str(r["installed"]),
            str(r["failed"]),
            str(r["crashes"]),
            str(r["feedback_posts"]),
            str(r["rounds"]),
            str(r["seconds"]),
        )
    out.print(table)
    for r in rows:
        if r["reason"]:
            out.print(f"{r['version']}: {r['reason']}")
        if r["rolled_back"]:
            out.print(
                f"{r['version']}: {r['rolled_back']} devices rolled back to the previous build"
            )
    out.print(f"registered {result.fleet} devices in {summary['register_seconds']} s")


def register_benches(bench_app: typer.Typer) -> None:
    """Add this domain's `canyu bench ...` commands."""
    from canyu.devices.bench import checkin as bench_checkin

    bench_app.command("checkin", help="Check-in throughput and latency beside a bare ASGI floor.")(
        bench_checkin
    )
