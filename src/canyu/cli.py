"""The `canyu` command."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from canyu import migrate
from canyu.commands import DatabaseUrl, fail
from canyu.config import Settings, get_settings
from canyu.progress import staged

app = typer.Typer(help="canyu: friends build the product with us.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(bench_app, name="bench")

console = Console(stderr=True)


def _settings(database_url: str | None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"database_url": database_url}) if database_url else settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    upgrade: Annotated[bool, typer.Option(help="Run migrations first.")] = True,
) -> None:
    """Serve the portal, the console and the API."""
    settings = _settings(database_url)
    if upgrade:
        migrate.upgrade(settings.database_url)
    _run(settings, host, port, workers)


def _run(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import os

    os.environ["CANYU_DATABASE_URL"] = settings.database_url
    get_settings.cache_clear()
    uvicorn.run(
        "canyu.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For / -Proto only from the configured proxies (none by default).
        proxy_headers=bool(settings.trusted_proxies.strip()),
        forwarded_allow_ips=settings.trusted_proxies.strip() or "",
    )


@db_app.command("upgrade")
def db_upgrade(
    database_url: DatabaseUrl = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "heads",
) -> None:
    """Create or upgrade the schema (SQLite or PostgreSQL)."""
    settings = _settings(database_url)
    migrate.upgrade(settings.database_url, revision)
    console.print(f"[green]schema at {revision}[/green] on {_redacted(settings.database_url)}")


@db_app.command("embed-posts")
def db_embed_posts(database_url: DatabaseUrl = None) -> None:
    """Store the title vector of every post without one (after a bulk load or a new encoder),
    so server workers load vectors instead of embedding posts at start."""
    from canyu.community import vectors
    from canyu.db import Database

    settings = _settings(database_url)
    migrate.upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.session() as session, staged(console) as report:
        stored = vectors.backfill(session, report=report)
    database.dispose()
    console.print(f"[green]{stored} post vectors stored[/green]")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    role: Annotated[str, typer.Option(help="friend, team or admin.")] = "friend",
    display_name: Annotated[str | None, typer.Option(help="Shown to others.")] = None,
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2.")] = "CN",
    locale: Annotated[str, typer.Option(help="en or zh.")] = "en",
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account; the password is read from standard input."""
    from canyu.accounts import service
    from canyu.accounts.models import Role
    from canyu.db import Database
    from canyu.errors import CanyuError

    try:
        chosen_role = Role(role)
    except ValueError:
        raise fail(f"unknown role {role!r}; one of friend, team, admin") from None
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise fail("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings(database_url)
    migrate.upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            user = service.create_user(
                session,
                email=email,
                password=password,
                display_name=display_name or email.split("@")[0],
                locale=locale,
                country=country,
                role=chosen_role,
            )
            console.print(f"[green]created[/green] {user.email} (id {user.id}, {user.role})")
    except CanyuError as exc:
        raise fail(exc.message) from None
    finally:
        database.dispose()


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    database_url: DatabaseUrl = None,
    serve_it: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after filling.")
    ] = True,
) -> None:
    """Fill a demo world (only into an empty database) and serve it."""
    from canyu.db import Database
    from canyu.demo import fill_demo
    from canyu.errors import Conflict

    settings = _settings(database_url)
    migrate.upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with staged(console) as report, database.session() as session:
            summary = fill_demo(session, progress=report)
        table = Table(title="demo logins")
        for column in ("email", "password", "role", "name"):
            table.add_column(column)
        for login in summary.logins:
            table.add_row(login.email, login.password, login.role, login.display_name)
        console.print(table)
        console.print(
            f"{summary.friends} friends in {summary.countries} countries, {summary.posts} posts "
            f"{summary.posts_by_language}, {summary.votes} votes, {summary.comments} comments"
        )
    except Conflict:
        console.print("The database already has accounts; serving it as it is.")
        console.print("Demo logins (when this database came from `canyu demo`): see README.")
    finally:
        database.dispose()
    console.print(f"[bold]canyu is at http://{host}:{port}/[/bold]  (team console: /console)")
    if serve_it:
        _run(settings, host, port)


def _register_domains() -> None:
    from canyu.calls import cli as calls_cli
    from canyu.client import cli as device_cli
    from canyu.client import iot_cli
    from canyu.greetings import cli as greetings_cli
    from canyu.hotspots import cli as hotspots_cli
    from canyu.iot import cli as iot_server_cli
    from canyu.lab import cli as lab_cli
    from canyu.markets import cli as markets_cli
    from canyu.releases import cli as releases_cli
    from canyu.store import cli as store_cli

    for name, commands, about in (
        ("release", releases_cli.app, "The weekly train, builds, rollouts, TUF."),
        ("keys", releases_cli.keys_app, "TUF signing keys."),
        ("device", device_cli.app, "A device client that behaves like a phone; fleets."),
        ("calls", calls_cli.app, "Spam-number marks, packs, the SMS classifier."),
        ("store", store_cli.app, "Catalogue and flash sales."),
        ("markets", markets_cli.app, "Country indicators, the market scorer, opened markets."),
        ("greetings", greetings_cli.app, "Festivals, greetings, their packs."),
        ("hotspots", hotspots_cli.app, "Free Wi-Fi hotspots: open-data imports, offline packs."),
        ("iot", iot_cli.app, "A small device (no screen); its broker and telemetry ingest."),
    ):
        app.add_typer(commands, name=name, help=about)
    iot_server_cli.register(iot_cli.app)
    lab_cli.register(bench_app, device_cli.app)


_register_domains()


def main() -> None:
    """The `canyu` console script. A database that cannot be reached is a one-line error and
    exit status 1, not a traceback: it is a setting or an outage, not a bug."""
    from canyu.db import reason, unavailable

    try:
        app()
    except Exception as exc:
        if not unavailable(exc):
            raise
        console.print(
            f"[red]error:[/red] the database cannot be reached ({reason(exc)}); "
            "check --database-url or CANYU_DATABASE_URL"
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
