"""``canyu markets ...``: import indicator files, rank countries as of a year, back-test a plan,
record opened markets."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from canyu.commands import DatabaseUrl, JsonFlag, err, fail
from canyu.migrate import open_database
from canyu.progress import progress_bar

app = typer.Typer(no_args_is_help=True)
out = Console(soft_wrap=True, highlight=False)

SizeWeight = Annotated[
    float,
    typer.Option("--size", min=0.0, max=1.0, help="Share of the score given to market size."),
]
CriterionWeight = Annotated[float, typer.Option(min=0.0, max=10.0)]


def _print_json(value: object) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False))


@app.command("import")
def import_dir(
    directory: Annotated[Path, typer.Argument(help="A folder of CSV downloads.")],
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Import every CSV in DIRECTORY: World Bank WDI (long, wide bulk or per-indicator
    download), Our World in Data, Global Findex, Pew shares; label files (iso3,
    first_official_sale) are stored as plans named after the file."""
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.markets import service

    if not directory.is_dir():
        raise fail(f"no such directory: {directory}")
    database = open_database(database_url)
    assert isinstance(database, Database)
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".csv")
    try:
        with (
            progress_bar(err, disable=as_json) as progress,
            database.session() as session,
        ):
            task = progress.add_task("", total=len(files))

            def step(name: str) -> None:
                progress.update(task, description=f"importing {name}", advance=1)

            report = service.import_dir(session, directory, progress=step)
    except CanyuError as exc:
        raise fail(exc.message) from None
    finally:
        database.dispose()
    if as_json:
        _print_json(
            {
                "figures": report.figures,
                "files": report.files,
                "plans": report.plans,
                "skipped": report.skipped,
            }
        )
        return
    for entry in report.files:
        out.print(f"{entry['file']}: {entry['figures']} figures")
    for name, count in report.plans.items():
        out.print(f"plan {name}: {count} markets")
    for skipped in report.skipped:
        err.print(f"skipped {skipped['file']}: {skipped['reason']}", markup=False)
    out.print(f"{report.figures} figures imported")


@app.command("rank")
def rank(
    asof: Annotated[int, typer.Option("--asof", help="Rank with figures up to ASOF - 1.")],
    size: SizeWeight = 0.5,
    tipping: CriterionWeight = 1.0,
    social: CriterionWeight = 1.0,
    ecommerce: CriterionWeight = 1.0,
    top: Annotated[int | None, typer.Option(min=1, help="Show only the first N.")] = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Rank every country with figures as of a year (the home market, China, included)."""
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.markets import schemas, scoring, service

    database = open_database(database_url)
    assert isinstance(database, Database)
    try:
        weights = scoring.Weights(tipping, social, ecommerce, size)
        with database.session() as session:
            ranking = service.ranking(session, asof=asof, weights=weights)
    except ValueError as exc:
        raise fail(str(exc)) from None
    except CanyuError as exc:
        raise fail(exc.message) from None
    finally:
        database.dispose()
    if not ranking.countries:
        raise fail(f"no country has figures before {asof}: run `canyu markets import DIR` first")
    result = schemas.ranking_out(ranking, limit=top)
    if as_json:
        _print_json(result.model_dump())
        return
    table = Table(title=f"Markets as of {asof} (figures up to {asof - 1})")
    for column in (
        "rank",
        "country",
        "score",
        "tipping",
        "social",
        "e-commerce",
        "size",
        "imputed",
    ):
        table.add_column(column)
    for c in result.countries:
        k = c.criteria
        table.add_row(
            str(c.rank),
            f"{c.iso3} {c.name}",
            f"{c.score:.3f}",
            f"{k['tipping']:.2f}",
            f"{k['social']:.2f}",
            f"{k['ecommerce']:.2f}",
            f"{k['size']:.2f}",
            str(len(c.imputed)),
        )
    out.print(table)


@app.command("backtest")
def backtest(
    labels: Annotated[
        Path, typer.Option("--labels", help="CSV: iso3 and optionally first_official_sale.")
    ],
    asof: Annotated[
        int | None, typer.Option("--asof", help="As-of year for rows without a date.")
    ] = None,
    size: SizeWeight = 0.5,
    tipping: CriterionWeight = 1.0,
    social: CriterionWeight = 1.0,
    ecommerce: CriterionWeight = 1.0,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Where each market stood the year before the company entered it (or as of --asof), its
    rank and percentile among all countries but the home market, beside ranking by population
    alone."""
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.markets import backtest as bt
    from canyu.markets import scoring, service

    if not labels.is_file():
        raise fail(f"no such file: {labels}")
    try:
        parsed = bt.read_labels(labels.read_text(encoding="utf-8-sig"))
    except ValueError as exc:
        raise fail(f"{labels}: {exc}") from None
    try:
        weights = scoring.Weights(tipping, social, ecommerce, size)
    except ValueError as exc:
        raise fail(str(exc)) from None
    database = open_database(database_url)
    assert isinstance(database, Database)
    try:
        with database.session() as session:
            result = service.backtest(session, labels=parsed, asof=asof, weights=weights)
    except CanyuError as exc:
        raise fail(exc.message) from None
    finally:
        database.dispose()
    result = {"labels": str(labels), "asof": asof, **result}
    if as_json:
        _print_json(result)
        return
    base = result["baseline"]
    assert isinstance(base, dict)
    out.print(
        f"{result['in_top15']} of {result['n']} in the top 15 (population alone: "
        f"{base['in_top15']}); median percentile {result['median_percentile']} "
        f"(population alone: {base['median_percentile']})"
    )


@app.command("open")
def open_market(
    country: Annotated[str, typer.Argument(help="ISO alpha-3 or alpha-2 code.")],
    on: Annotated[str, typer.Option("--date", help="YYYY-MM-DD; default today.")] = "",
    note: Annotated[str, typer.Option(help="Why, in a sentence.")] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Record the decision to open a market."""
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.markets import service

    try:
        when = date.fromisoformat(on) if on else date.today()
    except ValueError:
        raise fail(f"--date {on!r} is not YYYY-MM-DD") from None
    database = open_database(database_url)
    assert isinstance(database, Database)
    try:
        with database.session() as session:
            opening = service.open_market(session, country_code=country, opened_on=when, note=note)
            iso3 = opening.iso3
    except CanyuError as exc:
        raise fail(exc.message) from None
    finally:
        database.dispose()
    out.print(f"{iso3} opened on {when.isoformat()}")


@app.command("openings")
def openings(database_url: DatabaseUrl = None, as_json: JsonFlag = False) -> None:
    """The opened markets (the home market, China, is always open)."""
    from canyu.db import Database
    from canyu.markets import service

    database = open_database(database_url)
    assert isinstance(database, Database)
    try:
        with database.session() as session:
            rows = [
                {"iso3": o.iso3, "opened_on": o.opened_on.isoformat(), "note": o.note}
                for o in service.opened_markets(session)
            ]
    finally:
        database.dispose()
    if as_json:
        _print_json({"home_market": service.HOME_MARKET, "opened": rows})
        return
    for row in rows:
        out.print(f"{row['iso3']}  {row['opened_on']}  {row['note']}")


def register_benches(bench_app: typer.Typer) -> None:
    """No benchmark: the markets figure is ``canyu markets backtest`` (see docs/markets.md)."""
