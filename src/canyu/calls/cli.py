"""``canyu calls ...`` (import marks, train the SMS model, build packs) and this domain's
benchmarks: ``canyu bench calls-abuse``, ``pack``, ``sms``, ``calls-replay``."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from canyu.commands import DatabaseUrl, err, fail
from canyu.migrate import open_database
from canyu.progress import progress_bar

app = typer.Typer(no_args_is_help=True)


@app.command("import-marks")
def import_marks(
    file: Annotated[
        Path, typer.Argument(help="CSV with columns number, reporter, category, time.")
    ],
    create_reporters: Annotated[
        bool,
        typer.Option(help="Create unknown reporters (by email) as friends dated by their mark."),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Load marks in bulk (replays); reporter is an account's email or id, time ISO 8601 or
    epoch seconds; optional columns region and network."""
    from canyu.calls import service
    from canyu.calls.settings import get_calls_settings
    from canyu.db import Database

    if not file.is_file():
        raise fail(f"no such file: {file}")
    with file.open(encoding="utf-8", newline="") as handle:
        total = max(0, sum(1 for _ in handle) - 1)
    database = open_database(database_url)
    assert isinstance(database, Database)
    try:
        with file.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"number", "reporter", "category"} - set(reader.fieldnames or [])
            if missing:
                raise fail(f"{file}: missing columns {', '.join(sorted(missing))}")
            with (
                progress_bar(err) as progress,
                database.session() as session,
            ):
                task = progress.add_task("importing marks", total=total)
                report = service.import_marks(
                    session,
                    rows=reader,
                    settings=get_calls_settings(),
                    create_reporters=create_reporters,
                    progress=lambda done: progress.update(task, completed=done),
                )
    finally:
        database.dispose()
    err.print(f"[green]{report.marks}[/green] marks from {report.rows} rows")
    print_skipped(report.errors, report.examples)


@app.command("import-feed")
def import_feed(
    file: Annotated[Path, typer.Argument(help="A feed file (see --format).")],
    source: Annotated[str, typer.Option("--source", help="The feed's name, e.g. FTC.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="ftc-json (a JSON list of numbers, one per complaint) or csv (number[,date,"
            "count,region]).",
        ),
    ],
    weight: Annotated[
        float | None, typer.Option(help="Weight of one complaint (default 1; kept per feed).")
    ] = None,
    half_life: Annotated[
        float | None, typer.Option("--half-life", help="Days for a complaint to count half.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The day the complaints are dated and scored at (YYYY-MM-DD); default the day "
            "in the file's name, else today.",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="Region of numbers without +country code (default CANYU_DEFAULT_REGION)."
        ),
    ] = None,
    category: Annotated[
        str | None, typer.Option(help="What its labels say (default telemarketing).")
    ] = None,
    provenance: Annotated[
        str | None, typer.Option(help="Where the feed comes from, shown to the team.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Import a complaint feed (a regulator's or a carrier's) as a source with its own weight
    and decay, not as friends' marks; numbers are scored as of the feed's own day."""
    import time
    from datetime import date

    from canyu.calls import feeds, service
    from canyu.calls.settings import get_calls_settings
    from canyu.db import Database, utcnow
    from canyu.errors import CanyuError

    if not file.is_file():
        raise fail(f"no such file: {file}")
    if fmt not in feeds.FORMATS:
        raise fail(f"--format must be one of {', '.join(feeds.FORMATS)}")
    try:
        day = date.fromisoformat(as_of) if as_of else feeds.day_from_name(file.name)
    except ValueError:
        raise fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    day = day or utcnow().date()
    settings = get_calls_settings()
    data = file.read_bytes()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        with progress_bar(err, unit="complaints") as bar:
            task = bar.add_task("reading complaints", total=feeds.count_rows(data, fmt))
            rows = feeds.read_feed(
                data,
                fmt,
                region=(region or settings.default_region).upper(),
                day=day,
                progress=lambda done: bar.update(task, completed=done),
            )
    except feeds.FeedError as exc:
        raise fail(f"{file}: {exc}; nothing was imported") from None
    database = open_database(database_url)
    assert isinstance(database, Database)
    options = service.FeedOptions(source, fmt, region, weight, half_life, category, provenance)
    try:
        with (
            err.status(f"writing and scoring {len(rows.numbers):,} numbers") as status,
            database.session() as session,
        ):
            done = service.import_feed(
                session,
                rows=rows,
                options=options,
                as_of=day,
                file_name=file.name,
                settings=settings,
                progress=lambda stage: status.update(f"{stage}: {len(rows.numbers):,} numbers"),
            )
    except CanyuError as exc:
        raise fail(f"{exc.message} Nothing was imported.") from None
    finally:
        database.dispose()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    # Per CPU-second too: on a shared machine the wall-clock rate says more about the others.
    err.print(
        f"[green]{done.complaints:,}[/green] complaints about {done.numbers:,} numbers "
        f"({done.new_numbers:,} new) into feed {done.feed}, as of {done.as_of}: "
        f"{done.labelled:,} newly labelled; {rows.rows / seconds:,.0f} complaints/s "
        f"({rows.rows / max(cpu, 1e-9):,.0f} per CPU-second)"
    )
    print_skipped(rows.errors, rows.examples)


def print_skipped(errors: Counter[str], examples: list[str]) -> None:
    """One line per reason with its count, then a few examples."""
    for reason, count in errors.most_common():
        err.print(f"  skipped {count:,}: {reason}", markup=False)
    for example in examples:
        err.print(f"    {example}", markup=False, style="dim")


@app.command("train-sms")
def train_sms(
    file: Annotated[Path, typer.Argument(help="label<TAB>text lines, label spam or ham.")],
    out: Annotated[Path | None, typer.Option(help="Where to save (default the settings').")] = None,
    target_fpr: Annotated[float, typer.Option(help="Ham false-positive rate to aim for.")] = 0.005,
) -> None:
    """Train the SMS spam classifier and save it (skops format)."""
    from canyu.calls import sms
    from canyu.calls.settings import get_calls_settings

    try:
        texts, labels = sms.read_dataset(file)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    if not 0 < target_fpr < 0.5:
        raise fail("--target-fpr must be between 0 and 0.5")
    with err.status(f"training on {len(texts)} messages"):
        model = sms.train(texts, labels, target_fpr=target_fpr)
    path = out or get_calls_settings().sms_model_path
    model.save(path)
    err.print(f"[green]saved[/green] {path} (threshold {model.threshold:.3f})")


@app.command("publish-sms")
def publish_sms(
    file: Annotated[Path, typer.Argument(help="label<TAB>text lines, label spam or ham.")],
    language: Annotated[str, typer.Option(help="The model's language or region, e.g. en.")],
    reports: Annotated[
        bool, typer.Option(help="Also learn from friends' reports in this language.")
    ] = True,
    target_fpr: Annotated[float, typer.Option(help="Ham false-positive rate to aim for.")] = 0.005,
    database_url: DatabaseUrl = None,
) -> None:
    """Train the phone's SMS model (plain weights) and publish it as a signed TUF target."""
    from canyu.calls import service, sms
    from canyu.calls.settings import get_calls_settings
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.releases import publishing

    try:
        texts, labels = sms.read_dataset(file)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    publisher = publishing.publisher_of(None, get_calls_settings().tuf_product)
    if publisher is None:
        raise fail("no TUF keys: run `canyu keys init` first")
    report_texts: list[str] = []
    report_labels: list[int] = []
    try:
        if reports:
            database = open_database(database_url)
            assert isinstance(database, Database)
            try:
                with database.session() as session:
                    report_texts, report_labels = service.reports_for_training(
                        session, language=service.sms.parse_language(language)
                    )
            finally:
                database.dispose()
        with err.status(f"training on {len(texts) + len(report_texts)} messages"):
            published = service.publish_sms_model(
                texts=texts,
                labels=labels,
                language=language,
                publisher=publisher,
                report_texts=report_texts,
                report_labels=report_labels,
                target_fpr=target_fpr,
            )
    except CanyuError as exc:
        raise fail(exc.message) from None
    err.print(
        f"[green]published[/green] {published.target}: {published.size} bytes, "
        f"{published.messages} messages ({published.reports} reports), "
        f"threshold {published.threshold:.3f}"
    )


@app.command("pack")
def build_packs(
    country: Annotated[
        str | None,
        typer.Option("--country", help="One zone (+1, +86) or a region of it; default: all due."),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Build (and publish through TUF, when keys exist) the offline packs now."""
    from canyu.calls import service
    from canyu.calls.settings import get_calls_settings
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.releases import publishing

    settings = get_calls_settings()
    database = open_database(database_url)
    assert isinstance(database, Database)
    publisher = publishing.publisher_of(None, settings.tuf_product)
    try:
        with database.session() as session:
            if country:
                built = [
                    service.build_pack(
                        session, region=country, settings=settings, publisher=publisher
                    )
                ]
            else:
                built = service.build_due_packs(session, settings=settings, publisher=publisher)
    except CanyuError as exc:
        raise fail(exc.message) from None
    finally:
        database.dispose()
    if not built:
        err.print("no region has new labels; nothing to build")
    table = Table(title="calls packs")
    for column in ("zone", "version", "numbers", "bytes", "bits/number", "deltas", "published"):
        table.add_column(column)
    for pack in built:
        table.add_row(
            f"+{pack.region}",
            str(pack.version),
            str(pack.count),
            str(pack.size),
            f"{pack.size * 8 / max(1, pack.count):.1f}",
            ", ".join(f"{n.rsplit('/', 1)[1]} {s}" for n, s in pack.deltas.items()) or "-",
            "yes" if pack.published else "no (no TUF keys: `canyu keys init`)",
        )
    if built:
        Console().print(table)


if __name__ == "__main__":  # pragma: no cover
    app(sys.argv[1:])
