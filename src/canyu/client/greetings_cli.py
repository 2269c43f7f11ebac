"""``canyu device greetings``: today's festival greetings from the phone's packs, offline, and
``canyu device greetings send --to NUMBER``, which fills one into an SMS (printed, not sent)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(invoke_without_command=True)
err = Console(stderr=True)

Home = Annotated[
    Path, typer.Option("--home", help="Where the device keeps its state, root and TUF cache.")
]
DEFAULT_HOME = Path("var/device")
OnDate = Annotated[
    str | None, typer.Option("--date", help="Another local date (YYYY-MM-DD) than today.")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _setup(
    home: Path, language: str | None, timezone: str | None, refresh: bool
) -> tuple[str, object, object]:
    from canyu.client.device import Device, DeviceError
    from canyu.client.greetings import PhoneSettings, client_for, local_date, refresh_for_device

    device = Device(home)
    try:
        state = device._require()
    except DeviceError as exc:
        raise _fail(exc.message) from None
    settings = PhoneSettings.load(home, state.country)
    if language:
        settings.language = language.strip().lower()
    if timezone:
        settings.timezone = timezone.strip()
    try:
        local_date(settings.timezone)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if language or timezone:
        settings.checked_at = 0.0
        settings.save(home)
    if refresh:
        result = refresh_for_device(device, force=True)
        if result is None:
            err.print("could not refresh the greeting pack; using the one held")
    return state.country, settings, client_for(device)


def _day(on_date: str | None, timezone: str) -> date:
    from canyu.client.greetings import local_date

    if on_date is None:
        return local_date(timezone)
    try:
        return date.fromisoformat(on_date)
    except ValueError:
        raise _fail(f"bad date {on_date!r}; use YYYY-MM-DD") from None


@app.callback()
def today(
    ctx: typer.Context,
    home: Home = DEFAULT_HOME,
    language: Annotated[
        str | None, typer.Option(help="The phone's language (kept); default: the country's.")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="The phone's time zone, e.g. Asia/Shanghai (kept).")
    ] = None,
    refresh: Annotated[
        bool, typer.Option(help="Fetch the pack now (listen does it ahead of time).")
    ] = False,
    on_date: OnDate = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The greetings due today in the phone's country, language and time zone, from its pack."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"home": home, "language": language, "timezone": timezone, "refresh": refresh}
        return
    from canyu.client.greetings import GreetingsClient, PhoneSettings

    country, settings, client = _setup(home, language, timezone, refresh)
    assert isinstance(settings, PhoneSettings)
    assert isinstance(client, GreetingsClient)
    pack = client.pack(country, settings.language)
    if pack is None:
        raise _fail(
            f"no greeting pack for {country}/{settings.language} yet: run `canyu device listen`"
            " or `canyu device greetings --refresh` while online",
            1,
        )
    day = _day(on_date, settings.timezone)
    due = pack.due(day)
    if as_json:
        body = {
            "country": country,
            "language": settings.language,
            "timezone": settings.timezone,
            "date": day.isoformat(),
            "pack_version": pack.version,
            "festivals": [
                {
                    "key": d.festival.key,
                    "name": d.festival.name,
                    "greetings": [{"text": g.text, "author": g.author} for g in d.greetings],
                }
                for d in due
            ],
        }
        sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")
        return
    if not pack.covers(day):
        err.print(f"the pack held covers {pack.first_day} to {pack.last_day}, not {day}")
    if not due:
        upcoming = next((f for f in pack.festivals if f.date > day), None)
        print(f"No festival today ({day}, {settings.timezone}) in {country}.")
        if upcoming:
            print(f"Next: {upcoming.name} on {upcoming.date}.")
        return
    for item in due:
        print(f"{item.festival.name} ({day})")
        for n, greeting in enumerate(item.greetings, 1):
            print(f"  {n}. {greeting.text}  — {greeting.author}")
        if not item.greetings:
            print("  (no greetings in this language yet)")


@app.command()
def send(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="The recipient's phone number.")],
    name: Annotated[str | None, typer.Option(help="The recipient's name, for {name}.")] = None,
    pick: Annotated[int, typer.Option(help="Which greeting (1 = the best).", min=1)] = 1,
    on_date: OnDate = None,
    home: Annotated[Path | None, typer.Option("--home", help="As for `greetings`.")] = None,
) -> None:
    """Fill today's best greeting into an SMS to ``--to`` and print it (nothing is sent)."""
    import phonenumbers

    from canyu.client.greetings import GreetingsClient, PhoneSettings, sms_text

    options = ctx.obj or {}
    home = home or options.get("home", DEFAULT_HOME)
    country, settings, client = _setup(
        home, options.get("language"), options.get("timezone"), bool(options.get("refresh"))
    )
    assert isinstance(settings, PhoneSettings)
    assert isinstance(client, GreetingsClient)
    try:
        number = phonenumbers.parse(to, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _fail(f"not a valid phone number: {to!r}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    pack = client.pack(country, settings.language)
    if pack is None:
        raise _fail(f"no greeting pack for {country}/{settings.language} yet", 1)
    day = _day(on_date, settings.timezone)
    due = [d for d in pack.due(day) if d.greetings]
    if not due:
        raise _fail(f"no greetings due on {day} in {country}/{settings.language}", 1)
    try:
        text = sms_text(due[0], pick - 1, name)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    print(f"To: {e164}")
    print(text)
