"""``canyu device wifi ...``: free Wi-Fi from the offline packs, one-tap connect, reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True)
err = Console(stderr=True)

Home = Annotated[
    Path, typer.Option("--home", help="Where the device keeps its state, root and TUF cache.")
]
DEFAULT_HOME = Path("var/device")
Token = Annotated[
    str | None,
    typer.Option(envvar="CANYU_TOKEN", help="A friend's API token (cy_...), kept in --home."),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(2)


def _settings(home: Path) -> dict[str, Any]:
    path = home / "wifi.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _client(home: Path, *, server: str | None = None, token: str | None = None) -> Any:
    from canyu.client.wifi import WifiClient

    saved = _settings(home)
    device = home / "device.json"
    if server is None:
        server = saved.get("server") or (
            json.loads(device.read_text()).get("server") if device.exists() else None
        )
    token = token or saved.get("token")
    changed = {"server": server, "token": token}
    if changed != {k: saved.get(k) for k in changed}:
        home.mkdir(parents=True, exist_ok=True)
        (home / "wifi.json").write_text(json.dumps(changed))
        (home / "wifi.json").chmod(0o600)
    root = home / "hotspots-root.json"
    return WifiClient(
        server, data_dir=home, token=token, trusted_root=root if root.exists() else None
    )


@app.command()
def sync(
    lat: Annotated[float, typer.Option(help="Where the phone is.")],
    lon: Annotated[float, typer.Option(help="Where the phone is.")],
    server: Annotated[str | None, typer.Option(help="The canyu server.")] = None,
    root: Annotated[
        Path | None, typer.Option(help="The hotspots repository's root.json to trust.")
    ] = None,
    home: Home = DEFAULT_HOME,
) -> None:
    """Fetch (or update by delta) the packs around a position, verified through TUF."""
    import httpx

    from canyu.client.tuf_fetch import RepositoryUnavailable, UpdateRefused

    client = _client(home, server=server)
    if not client.base_url:
        raise _fail("no server: give --server or register the device first")
    trusted = home / "hotspots-root.json"
    if root is not None:
        home.mkdir(parents=True, exist_ok=True)
        trusted.write_bytes(root.read_bytes())
    elif not trusted.exists():
        # Trust on first use, as the device's registration does for builds.
        response = httpx.get(f"{client.base_url}/tuf/hotspots/metadata/1.root.json", timeout=10)
        if response.status_code != 200:
            raise _fail("the server publishes no hotspot packs yet")
        home.mkdir(parents=True, exist_ok=True)
        trusted.write_bytes(response.content)
    client.trusted_root = trusted
    try:
        results = client.sync_around(lat, lon)
    except (UpdateRefused, RepositoryUnavailable, httpx.HTTPError) as e:
        raise _fail(str(e)) from None
    if not results:
        raise _fail("no pack covers this area yet")
    for r in results:
        print(f"{r.region} v{r.version}: {r.how} ({r.downloaded} bytes)")


@app.command()
def near(
    lat: Annotated[float, typer.Option(help="Where the phone is.")],
    lon: Annotated[float, typer.Option(help="Where the phone is.")],
    radius_m: Annotated[float, typer.Option("--radius-m", min=1, max=50_000)] = 1000,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    home: Home = DEFAULT_HOME,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Hotspots near a position, from the packs on the phone (no network)."""
    from canyu.client.wifi import KIND_NAMES, WifiError

    client = _client(home)
    try:
        found = client.near(lat, lon, radius_m=radius_m, limit=limit)
    except WifiError as e:
        raise _fail(str(e)) from None
    rows = [
        {
            "id": r.id,
            "distance_m": round(d),
            "ssid": r.ssid,
            "kind": KIND_NAMES[r.kind],
            "free": r.free,
            "success": r.success.name.lower(),
        }
        for d, r in found
    ]
    if as_json:
        print(json.dumps({"hotspots": rows}))
        return
    if not client.held_regions():
        err.print("no packs on this phone: run `canyu device wifi sync` once online")
    for row in rows:
        print(
            f"{row['id']:>8}  {row['distance_m']:>5} m  {row['ssid']}  [{row['kind']}"
            f"{'' if row['free'] else ', paid'}, {row['success']}]"
        )


@app.command("connect")
def connect_cmd(
    hotspot_id: Annotated[int, typer.Argument(help="A hotspot id from `wifi near`.")],
    outcome: Annotated[
        str | None,
        typer.Option(help="Report how it went: worked, failed or login (sent, or queued)."),
    ] = None,
    png: Annotated[Path | None, typer.Option(help="Also write the Wi-Fi QR code here.")] = None,
    token: Token = None,
    home: Home = DEFAULT_HOME,
) -> None:
    """Print what joins the hotspot (WIFI: QR payload, Android network suggestion, Passpoint
    profile or the captive portal), from the pack; where a captive hotspot has an RFC 8908
    Captive Portal API, ask it whether to sign in; then report the outcome."""
    from canyu.client.wifi import WifiError

    client = _client(home, token=token)
    try:
        artefact = client.artefact(hotspot_id)
    except WifiError as e:
        raise _fail(str(e)) from None
    print(json.dumps(artefact, indent=2, ensure_ascii=False))
    try:
        portal = client.portal_state(artefact)
    except WifiError as e:
        # Not fatal: the portal page itself may still work.
        err.print(f"{e}; open {artefact.get('portal_url') or 'the portal page'} to sign in.")
    else:
        if portal is not None:
            print(portal.advice())
    if png is not None and "wifi_qr" in artefact:
        client.qr_png(artefact["wifi_qr"], png)
        err.print(f"QR code written to {png}")
    if outcome is not None:
        try:
            result = client.report(hotspot_id, outcome)
        except WifiError as e:
            raise _fail(str(e)) from None
        last = result["last"] or {}
        if last.get("status", 201) >= 400:
            raise _fail(str(last.get("error", {}).get("message", last)))
        err.print(f"reported: {result['sent']} sent, {result['queued']} waiting for the network")
