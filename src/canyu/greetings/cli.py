"""``canyu greetings ...``: a country's festivals, and building the greeting packs."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from canyu.commands import DatabaseUrl, err, fail

app = typer.Typer(no_args_is_help=True)
out = Console(width=None if sys.stdout.isatty() else 160)


@app.command()
def festivals(
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2, e.g. CN.")],
    year: Annotated[int, typer.Option(help="1901 to 2100.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """A country's festivals in a year: public holidays and the observances people greet."""
    from canyu.errors import InvalidInput
    from canyu.greetings import calendar

    try:
        data = calendar.calendar_json(country, year)
    except InvalidInput as exc:
        raise fail(exc.message) from None
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"Festivals of {data['country']} in {year}")
    for column in ("date", "key", "English", "中文"):
        table.add_column(column)
    for festival in calendar.festivals(country, year):
        table.add_row(festival.date.isoformat(), festival.key, festival.en, festival.zh)
    out.print(table)


@app.command()
def packs(
    country: Annotated[
        list[str] | None, typer.Option(help="Only these countries (repeat); default all.")
    ] = None,
    publish: Annotated[
        bool, typer.Option(help="Publish through TUF (needs the online keys).")
    ] = True,
    database_url: DatabaseUrl = None,
) -> None:
    """Build the greeting packs of every opened market (or --country) in each of its languages,
    and publish them."""
    from canyu import migrate
    from canyu.config import get_settings
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.greetings import calendar, service
    from canyu.markets import service as markets
    from canyu.progress import progress_bar
    from canyu.releases import publishing

    url = database_url or get_settings().database_url
    migrate.upgrade(url)
    database = Database(url)
    publisher = publishing.publisher_of(None, service.TUF_PRODUCT) if publish else None
    if publish and publisher is None:
        err.print("no online TUF keys (canyu keys init): packs are built, not published")
    built = []
    try:
        with progress_bar(err) as bar, database.session() as session:
            # By default every opened market (canyu.markets); a country named must be one.
            codes = [calendar.parse_country(c) for c in country or ()] or sorted(
                markets.open_iso2(session)
            )
            task = bar.add_task("greeting packs", total=len(codes))
            for code in codes:
                built.extend(service.build_packs(session, publisher=publisher, countries=[code]))
                bar.advance(task)
    except CanyuError as exc:
        raise fail(exc.message) from None
    database.dispose()
    size = sum(b.size for b in built)
    err.print(f"built {len(built)} packs, {size} bytes; published: {publisher is not None}")
