"""``canyu hotspots ...`` (import open data, build and publish packs) and this domain's
benchmark, ``canyu bench hotspots``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from canyu.commands import DatabaseUrl, JsonFlag, err, fail
from canyu.migrate import open_database

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="NYC Open Data CSV export, or GeoJSON points.")],
    source: Annotated[str, typer.Option(help="A short name for where it came from.")],
    licence: Annotated[str, typer.Option(help="The licence the data comes under.")],
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Import open data in bulk: rows at the same place (30 m) with the same SSID as another
    source's hotspot merge into it, keeping both provenances. All or nothing."""
    from canyu.errors import CanyuError
    from canyu.hotspots import importers, service

    started = time.perf_counter()
    try:
        service.check_source(source, licence)
        rows = importers.read_file(file)
    except CanyuError as e:
        raise fail(e.message) from None
    database = open_database(database_url)
    try:
        with progress_bar() as bar, database.session() as session:
            task = bar.add_task(f"importing {file.name}", total=len(rows))

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = service.import_rows(
                session, rows=rows, source=source, licence=licence, progress=progress
            )
    except CanyuError as e:
        raise fail(e.message) from None
    finally:
        database.dispose()
    result = report.as_json()
    result["seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        print(json.dumps(result))
    else:
        reasons = ", ".join(f"{n} {r}" for r, n in result["skip_reasons"].items())
        print(
            f"imported {result['imported']}, merged {result['merged']}, skipped "
            f"{result['skipped']}{f' ({reasons})' if reasons else ''} in {result['seconds']} s"
        )


@app.command("packs")
def build_packs(
    region: Annotated[
        str | None, typer.Option(help="One region (H3 res-3 cell); default every changed one.")
    ] = None,
    database_url: DatabaseUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Build the regions' offline packs (with deltas) and publish them through TUF when the
    release keys are at hand."""
    from canyu.errors import CanyuError
    from canyu.hotspots import service
    from canyu.releases import publishing

    database = open_database(database_url)
    publisher = publishing.publisher_of(None, service.TUF_PRODUCT)
    pack_dir = service.default_pack_dir()
    try:
        with database.session() as session:
            if region:
                built = [
                    service.build_pack(
                        session, region=region, pack_dir=pack_dir, publisher=publisher
                    )
                ]
            else:
                built = service.build_due_packs(session, pack_dir=pack_dir, publisher=publisher)
    except CanyuError as e:
        raise fail(e.message) from None
    finally:
        database.dispose()
    rows = [
        {
            "region": b.region,
            "version": b.version,
            "count": b.count,
            "size": b.size,
            "published": b.published,
            "deltas": b.deltas,
            "seconds": round(b.seconds, 3),
        }
        for b in built
    ]
    if as_json:
        print(json.dumps({"packs": rows}))
        return
    if publisher is None:
        err.print("no release keys: packs built but not published (canyu keys init)")
    for r in rows:
        print(
            f"{r['region']} v{r['version']}: {r['count']} hotspots, {r['size']} bytes, "
            f"deltas {r['deltas']}"
        )
