"""`canyu release ...` and `canyu keys ...`: the team's side of the weekly train on the command
line (the TUF commands come from canyu.releases.tuf_cli)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from canyu.commands import DatabaseUrl, fail
from canyu.releases import tuf_cli

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from canyu.accounts.models import User

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True)
keys_app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
out = Console()

Actor = Annotated[
    str | None,
    typer.Option("--as", help="The team member's email (default: the first admin or team member)."),
]


class _Context:
    """The database (migrated) and the team member acting, for one command."""

    def __init__(self, database_url: str | None, actor_email: str | None) -> None:
        from canyu import migrate
        from canyu.config import get_settings
        from canyu.db import Database

        url = database_url or get_settings().database_url
        migrate.upgrade(url)
        self.database = Database(url)
        self.actor_email = actor_email

    def actor(self, session: Session) -> User:
        from sqlalchemy import select

        from canyu.accounts.models import Role, User

        query = select(User).where(User.role.in_([Role.ADMIN.value, Role.TEAM.value]))
        if self.actor_email:
            query = select(User).where(User.email == self.actor_email.lower())
        user = session.scalars(query.order_by(User.id)).first()
        if user is None or not user.is_team:
            raise fail("no team member to act as; create one with `canyu user create --role team`")
        return user


def _run(
    database_url: str | None, actor_email: str | None, work: Callable[[Session, User], T]
) -> T:
    from canyu.errors import CanyuError

    context = _Context(database_url, actor_email)
    try:
        with context.database.session() as session:
            return work(session, context.actor(session))
    except CanyuError as exc:
        raise fail(exc.message) from None
    finally:
        context.database.dispose()


@app.command("product")
def product(
    key: Annotated[str, typer.Argument(help="URL-safe key, e.g. canyu-1s.")],
    name: Annotated[str, typer.Option(help="As friends write it, e.g. 'canyu 1S'.")],
    kind: Annotated[str, typer.Option(help="phone, tablet, wearable or iot.")] = "phone",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Add a product (a device model)."""
    from canyu.releases import service

    made = _run(
        database_url,
        actor,
        lambda s, a: service.create_product(s, actor=a, key=key, name=name, kind=kind).key,
    )
    console.print(f"[green]product[/green] {made}")


@app.command("cut")
def cut(
    product: Annotated[str, typer.Option(help="Product key.")],
    version: Annotated[
        str | None, typer.Option(help="Default: the last developer build + 1.")
    ] = None,
    notes: Annotated[str, typer.Option(help="Release notes.")] = "",
    allow_empty: Annotated[bool, typer.Option(help="Cut even with nothing planned.")] = False,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Cut this week's developer build from the planned posts on the product's train."""
    from canyu.i18n import gettext_for
    from canyu.releases import changelog, service

    def work(session: Session, team: User) -> str:
        build = service.cut_train(
            session,
            actor=team,
            product_key=product,
            version=version,
            notes=notes,
            allow_empty=allow_empty,
        )
        log = service.changelog(session, build=build)
        return changelog.render_text(log, build.version, gettext_for("en"))

    text = _run(database_url, actor, work)
    out.print(str(text))


@app.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(help="The payload file.", exists=True, dir_okay=False)],
    product: Annotated[str, typer.Option(help="Product key.")],
    version: Annotated[str, typer.Option(help="The build's version.")],
    channel: Annotated[str | None, typer.Option(help="The build's channel, if ambiguous.")] = None,
    sha256: Annotated[
        str | None, typer.Option(help="The hash you built; default: computed from the file.")
    ] = None,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Upload a payload to a build: checked against its SHA-256, published as a TUF target."""
    from canyu.releases import service
    from canyu.releases.settings import get_release_settings

    settings = get_release_settings()
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    actual = digest.hexdigest()

    def work(session: Session, team: User) -> str:
        build = service.find_build(
            session,
            product_key=product,
            version=version,
            channel=channel,
        )
        payload = service.add_payload(
            session,
            actor=team,
            build=build,
            filename=file.name,
            data=file,
            length=file.stat().st_size,
            actual_sha256=actual,
            declared_sha256=sha256 or actual,
            settings=settings,
        )
        return f"{payload.target_name} {payload.length} B sha256 {payload.sha256}"

    console.print(f"[green]target[/green] {_run(database_url, actor, work)}")


@app.command("rollout")
def rollout(
    product: Annotated[str, typer.Option(help="Product key.")],
    version: Annotated[str, typer.Option(help="The build's version.")],
    channel: Annotated[str | None, typer.Option(help="The build's channel, if ambiguous.")] = None,
    stages: Annotated[str, typer.Option(help="Growing percentages.")] = "1,5,20,50,100",
    countries: Annotated[str, typer.Option(help="Comma-separated; empty: all.")] = "",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Start a staged rollout of a build (its posts ship now)."""
    from canyu.errors import InvalidInput
    from canyu.releases import service

    try:
        percentages = [float(p) for p in stages.split(",") if p.strip()]
    except ValueError:
        raise fail(f"stages must be numbers, got {stages!r}") from None

    def work(session: Session, team: User) -> str:
        build = service.find_build(
            session,
            product_key=product,
            version=version,
            channel=channel,
        )
        if not percentages:
            raise InvalidInput("Give at least one stage.")
        made = service.start_rollout(
            session,
            actor=team,
            build_id=build.id,
            stages=percentages,
            countries=[c for c in countries.split(",") if c.strip()],
        )
        return f"rollout {made.id} of {build.version} at {made.percent:g}%"

    console.print(f"[green]{_run(database_url, actor, work)}[/green]")


def read_factory_file(path: Path) -> list[tuple[str, str]]:
    """(hardware id, public key) pairs from a factory file: CSV with a header naming
    ``hardware_id`` and ``public_key``, or JSON, a list of objects with those two keys."""
    import csv
    import json

    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            entries = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(f"{path}: not JSON ({exc})") from None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise fail(f"{path}: expected a list of {{hardware_id, public_key}} objects")
    else:
        entries = list(csv.DictReader(text.splitlines()))
        if entries and not {"hardware_id", "public_key"} <= set(entries[0]):
            raise fail(f"{path}: the CSV header must name hardware_id and public_key")
    pairs = []
    for number, entry in enumerate(entries, start=1):
        hardware_id, public_key = entry.get("hardware_id"), entry.get("public_key")
        if not isinstance(hardware_id, str) or not isinstance(public_key, str):
            raise fail(f"{path}: entry {number} lacks a hardware_id or a public_key")
        pairs.append((hardware_id, public_key))
    return pairs


@app.command("provision")
def provision(
    file: Annotated[Path, typer.Argument(help="Factory CSV or JSON.", exists=True, dir_okay=False)],
    product: Annotated[str, typer.Option(help="Product key.")],
    replace: Annotated[
        bool, typer.Option(help="Re-key devices already enrolled with another key.")
    ] = False,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Enrol a factory's device attestation keys (hardware_id, public_key: Ed25519, hex or
    base64 or PEM). Such devices then register only with a statement signed by their key."""
    from canyu.releases import service

    pairs = read_factory_file(file)

    def work(session: Session, team: User) -> str:
        done = service.provision(
            session, actor=team, product_key=product, keys=pairs, replace=replace
        )
        return f"{done.added} key(s) enrolled, {done.unchanged} already enrolled"

    console.print(f"[green]{_run(database_url, actor, work)}[/green]")


@app.command("status")
def status(database_url: DatabaseUrl = None) -> None:
    """Rollouts, their stage and health."""
    from canyu import migrate
    from canyu.config import get_settings
    from canyu.db import Database
    from canyu.releases import service

    url = database_url or get_settings().database_url
    migrate.upgrade(url)
    database = Database(url)
    table = Table(title="rollouts")
    for column in (
        "id",
        "build",
        "status",
        "stage",
        "installed",
        "failed",
        "crashes",
        "posts",
        "reason",
    ):
        table.add_column(column)
    try:
        with database.session() as session:
            for r in service.list_rollouts(session):
                c = service.rollout_counts(session, rollout=r, since_resume=False)
                table.add_row(
                    str(r.id),
                    f"{r.build.product.key} {r.build.version} ({r.build.channel})",
                    r.status,
                    f"{r.percent:g}%",
                    str(c.successes),
                    str(c.failures),
                    str(c.crashes),
                    str(c.feedback),
                    r.reason or "",
                )
    finally:
        database.dispose()
    out.print(table)


def _team_action(name: str) -> Callable[..., None]:
    def command(
        rollout_id: Annotated[int, typer.Argument(help="The rollout.")],
        reason: Annotated[str | None, typer.Option(help="Why (shown on the rollout).")] = None,
        database_url: DatabaseUrl = None,
        actor: Actor = None,
    ) -> None:
        from canyu.releases import service

        action = {
            "pause": service.pause,
            "resume": service.resume,
            "halt": service.halt,
            "rollback": service.roll_back,
        }[name]
        done = _run(
            database_url,
            actor,
            lambda s, a: action(s, actor=a, rollout_id=rollout_id, reason=reason).status,
        )
        console.print(f"rollout {rollout_id} is {done}")

    command.__doc__ = f"{name.title()} a rollout."
    return command


for _name in ("pause", "resume", "halt", "rollback"):
    app.command(_name)(_team_action(_name))

app.command("export-tuf")(tuf_cli.export_tuf)
keys_app.command("init")(tuf_cli.keys_init)
keys_app.command("rotate-root")(tuf_cli.keys_rotate_root)
keys_app.command("rotate-online")(tuf_cli.keys_rotate_online)
