"""`canyu device call|mark|unmark|rules|sms|sms-report|feedback|inbox|sync`: the phone's
services on the command line (canyu.client.phone)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from canyu.commands import fail

if TYPE_CHECKING:
    from canyu.client.phone import Phone

console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160)
Home = Annotated[
    Path, typer.Option("--home", help="Where the device keeps its state, root and TUF cache.")
]
DEFAULT_HOME = Path("var/device")
rules_app = typer.Typer(no_args_is_help=True, help="Your own call rules, kept on the phone.")
MAX_ATTACH = 64_000  # bytes of a log file read for feedback (its end is what matters)
_TEL = re.compile(r"\+?[\d][\d\s().-]{4,}\d")


@contextmanager
def _phone(home: Path) -> Iterator[Phone]:
    from canyu.client.device import Device, DeviceError
    from canyu.client.phone import Phone

    try:
        phone = Phone(Device(home))
    except DeviceError as exc:
        raise fail(exc.message) from None
    if phone.refused:
        console.print(f"[yellow]{phone.refused}[/yellow]: started afresh")
    try:
        yield phone
    except DeviceError as exc:
        raise fail(exc.message) from None
    finally:
        phone.close()


def _tuf_errors() -> tuple[type[Exception], ...]:
    import httpx

    from canyu.client.tuf_fetch import RepositoryUnavailable, UpdateRefused

    return (UpdateRefused, RepositoryUnavailable, httpx.HTTPError)


def call(
    number: Annotated[str, typer.Argument(help="The caller's number ('hidden' for none).")],
    offline: Annotated[bool, typer.Option(help="Decide without any network.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    home: Home = DEFAULT_HOME,
) -> None:
    """Would this call ring, warn or be blocked? Your rules, the offline pack, then a private
    lookup."""
    with _phone(home) as phone:
        decision = phone.screen(number, online=not offline)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "number": decision.number,
                    "action": decision.action.value,
                    "label": decision.label,
                    "category": decision.category,
                    "reporters": decision.reporters,
                    "source": decision.source,
                    "reason": decision.reason,
                }
            )
        )
        return
    style = {"ring": "green", "warn": "yellow", "block": "red"}[decision.action.value]
    out.print(f"[{style}]{decision.describe()}[/{style}]", markup=True, highlight=False)


def mark(
    number: Annotated[str, typer.Argument(help="The number that called.")],
    category: Annotated[
        str, typer.Option(help="fraud, harassment, telemarketing, delivery or other.")
    ],
    region: Annotated[str | None, typer.Option(help="For numbers without +country.")] = None,
    home: Home = DEFAULT_HOME,
) -> None:
    """Mark a number as the phone's owner (marking again changes the category)."""
    with _phone(home) as phone:
        result = phone.mark(number, category, region)
    label = f"; labelled {result['label']}" if result.get("label") else ""
    console.print(f"marked {result['number']} as {result['category']}{label}")


def unmark(
    number: Annotated[str, typer.Argument(help="A number you marked.")],
    home: Home = DEFAULT_HOME,
) -> None:
    """Withdraw your mark."""
    with _phone(home) as phone:
        phone.unmark(number)
    console.print(f"withdrew your mark on {number}")


# --- rules ----------------------------------------------------------------------------------


@contextmanager
def _editing(home: Path) -> Iterator[Phone]:
    with _phone(home) as phone:
        try:
            yield phone
        except ValueError as exc:
            raise fail(str(exc)) from None
        phone.save()


@rules_app.command("show")
def rules_show(home: Home = DEFAULT_HOME) -> None:
    """Print your rules as JSON."""
    with _phone(home) as phone:
        rules = phone.state.rules.as_json()
    rules["contacts"] = len(rules["contacts"])
    out.print_json(json.dumps(rules))


Pattern = Annotated[str, typer.Argument(help="A number, or a prefix ending in * (+86400*).")]


def _add_rule(which: str, pattern: str, home: Path) -> None:
    with _editing(home) as phone:
        console.print(f"{which}ing {phone.state.rules.add(which, pattern)}")


@rules_app.command("block")
def rules_block(pattern: Pattern, home: Home = DEFAULT_HOME) -> None:
    """Always block a number or a prefix."""
    _add_rule("block", pattern, home)


@rules_app.command("allow")
def rules_allow(pattern: Pattern, home: Home = DEFAULT_HOME) -> None:
    """Always let a number or a prefix ring (beats labels and block prefixes)."""
    _add_rule("allow", pattern, home)


@rules_app.command("remove")
def rules_remove(
    pattern: Annotated[str, typer.Argument(help="A number or prefix on either list.")],
    home: Home = DEFAULT_HOME,
) -> None:
    """Take a number or prefix off the block and allow lists."""
    with _editing(home) as phone:
        if not phone.state.rules.remove(pattern):
            raise fail(f"{pattern} is on neither list")
    console.print(f"removed {pattern}")


@rules_app.command("hidden")
def rules_hidden(
    block: Annotated[bool, typer.Argument(help="true: block callers who hide their number.")],
    home: Home = DEFAULT_HOME,
) -> None:
    """Block (true) or let ring (false) calls from hidden numbers."""
    with _editing(home) as phone:
        phone.state.rules.block_hidden = block
    console.print(f"hidden numbers: {'blocked' if block else 'ring'}")


@rules_app.command("category")
def rules_category(
    category: Annotated[str, typer.Argument(help="fraud, harassment, telemarketing, ...")],
    action: Annotated[str, typer.Argument(help="ring, warn or block.")],
    home: Home = DEFAULT_HOME,
) -> None:
    """What to do with numbers the crowd labelled with this category."""
    from canyu.calls.reputation import Category

    known = [c.value for c in Category]
    if category not in known:
        raise fail(f"unknown category {category!r}; one of {', '.join(known)}")
    with _editing(home) as phone:
        phone.state.rules.set_action(category, action)
    console.print(f"{category}: {action}")


@rules_app.command("contacts")
def rules_contacts(
    file: Annotated[Path, typer.Argument(help="Numbers, one a line (CSV or vCard TEL lines).")],
    allow: Annotated[bool, typer.Option(help="Let contacts ring whatever their label.")] = True,
    home: Home = DEFAULT_HOME,
) -> None:
    """Load your contacts (replacing the ones held)."""
    from canyu.calls import numbers

    try:
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise fail(str(exc)) from None
    with _editing(home) as phone:
        region = phone.calls.default_region
        found: list[str] = []
        skipped = 0
        for line in lines:
            match = _TEL.search(line)
            parsed = numbers.e164_and_region(match.group(0), region) if match else None
            if parsed is None:
                skipped += bool(line.strip())
                continue
            found.append(parsed[0])
        phone.state.rules.set_contacts(found)
        phone.state.rules.allow_contacts = allow
    console.print(f"{len(set(found))} contacts ({skipped} lines without a valid number)")


# --- SMS ------------------------------------------------------------------------------------


def sms(
    text: Annotated[str, typer.Argument(help="The message.")],
    language: Annotated[
        str | None, typer.Option(help="The model's language (default: yours).")
    ] = None,
    home: Home = DEFAULT_HOME,
) -> None:
    """Classify an SMS on the device with the signed model (fetched when none is held)."""
    with _phone(home) as phone:
        try:
            spam, score, version = phone.classify_sms(text, language)
        except _tuf_errors() as exc:
            raise fail(f"no verified SMS model: {exc}") from None
    verdict = "[red]SPAM[/red]" if spam else "[green]not spam[/green]"
    out.print(f"{verdict} (score {score:+.2f}, model {version})")


def sms_report(
    text: Annotated[str, typer.Argument(help="The message.")],
    label: Annotated[
        str, typer.Option(help="What it really is: spam (missed) or ham (false alarm).")
    ],
    language: Annotated[str | None, typer.Option(help="The model's language.")] = None,
    home: Home = DEFAULT_HOME,
) -> None:
    """Report a missed spam SMS or a false alarm; the next training run learns from it."""
    if label not in ("spam", "ham"):
        raise fail("--label is spam or ham")
    with _phone(home) as phone:
        report = phone.report_sms(text, label, language)
    console.print(f"reported as {report['label']} ({report['language']}); thank you")


# --- feedback and notices -------------------------------------------------------------------


def feedback(
    title: Annotated[str, typer.Option(help="One line: what happened.")],
    body: Annotated[str, typer.Option(help="More detail.")] = "",
    attach: Annotated[
        Path | None, typer.Option(help="A log file: its last lines are attached.")
    ] = None,
    kind: Annotated[str, typer.Option(help="bug or idea.")] = "bug",
    yes: Annotated[bool, typer.Option("--yes", help="Post without asking.")] = False,
    home: Home = DEFAULT_HOME,
) -> None:
    """Send feedback with this device's product, model, build and channel; similar posts are
    shown first, as on the web."""
    if kind not in ("bug", "idea"):
        raise fail("--kind is bug or idea")
    log_text = None
    if attach is not None:
        try:
            with attach.open("rb") as handle:
                size = attach.stat().st_size
                handle.seek(max(0, size - MAX_ATTACH))
                log_text = handle.read().decode("utf-8", errors="replace")
        except OSError as exc:
            raise fail(str(exc)) from None
    with _phone(home) as phone:
        similar = phone.similar_posts(f"{title}\n{body}")
        if similar:
            out.print("Similar posts already filed (vote there if one is yours):")
            for item in similar:
                post = item["post"]
                out.print(f"  #{post['id']} {post['title']} [{post['status']}]", markup=False)
            if not yes and not typer.confirm("Post yours anyway?", default=False):
                raise typer.Exit(1)
        post = phone.feedback(title=title, body=body, log_text=log_text, kind=kind)
    console.print(
        f"posted #{post['id']} (model {post['device_model']}, build {post['software_build']})"
    )


def inbox(
    refresh: Annotated[bool, typer.Option(help="Fetch new notices first.")] = True,
    home: Home = DEFAULT_HOME,
) -> None:
    """The notices that reached this phone ("fixed in build X, it is on your phone now", ...)."""
    from canyu.client.device import DeviceError

    with _phone(home) as phone:
        if refresh:
            try:
                phone.fetch_notices()
            except DeviceError as exc:
                console.print(f"[yellow]offline[/yellow]: {exc.message}; showing the notices held")
        notices = list(phone.state.inbox)
    if not notices:
        console.print("no notices")
    for notice in reversed(notices):
        out.print(f"{notice['created_at'][:16]}  {notice['text']}", markup=False)


def sync(home: Home = DEFAULT_HOME) -> None:
    """Fetch the spam pack, the SMS model and notices now (listen does it on its own)."""
    with _phone(home) as phone:
        report = phone.sync_all()
    for part, how in report.parts.items():
        console.print(f"{part}: {how}", markup=False)
    console.print(f"{report.downloaded} bytes")


def register(app: typer.Typer) -> None:
    app.command()(call)
    app.command()(mark)
    app.command()(unmark)
    app.add_typer(rules_app, name="rules")
    app.command()(sms)
    app.command("sms-report")(sms_report)
    app.command()(feedback)
    app.command()(inbox)
    app.command()(sync)
