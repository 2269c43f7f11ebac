"""``canyu calls ...`` (import marks, train the SMS model, build packs) and this domain's
benchmarks: ``canyu bench calls-abuse``, ``pack``, ``sms``, ``calls-replay``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

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

app = typer.Typer(no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL; default CANYU_DATABASE_URL or ./var/."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _database(database_url: str | None) -> object:
    from canyu import migrate
    from canyu.config import get_settings
    from canyu.db import Database

    url = database_url or get_settings().database_url
    migrate.upgrade(url)
    return Database(url)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(2)


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
        raise _fail(f"no such file: {file}")
    with file.open(encoding="utf-8", newline="") as handle:
        total = max(0, sum(1 for _ in handle) - 1)
    database = _database(database_url)
    assert isinstance(database, Database)
    try:
        with file.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"number", "reporter", "category"} - set(reader.fieldnames or [])
            if missing:
                raise _fail(f"{file}: missing columns {', '.join(sorted(missing))}")
            with (
                Progress(
                    TextColumn("importing marks"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=err,
                ) as progress,
                database.session() as session,
            ):
                task = progress.add_task("marks", total=total)
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
    for reason, count in report.errors.most_common():
        err.print(f"  skipped {count}: {reason}", markup=False)
    for example in report.examples:
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
        raise _fail(str(exc)) from None
    if not 0 < target_fpr < 0.5:
        raise _fail("--target-fpr must be between 0 and 0.5")
    with err.status(f"training on {len(texts)} messages"):
        model = sms.train(texts, labels, target_fpr=target_fpr)
    path = out or get_calls_settings().sms_model_path
    model.save(path)
    err.print(f"[green]saved[/green] {path} (threshold {model.threshold:.3f})")


@app.command("pack")
def build_packs(
    country: Annotated[
        str | None, typer.Option("--country", help="One region (e.g. CN); default: all due.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Build (and publish through TUF, when keys exist) the offline packs now."""
    from canyu.calls import service
    from canyu.calls.scheduling import publisher_for
    from canyu.calls.settings import get_calls_settings
    from canyu.db import Database
    from canyu.errors import CanyuError

    settings = get_calls_settings()
    database = _database(database_url)
    assert isinstance(database, Database)
    publisher = publisher_for(None, settings)
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
        raise _fail(exc.message) from None
    finally:
        database.dispose()
    if not built:
        err.print("no region has new labels; nothing to build")
    table = Table(title="calls packs")
    for column in ("region", "version", "numbers", "bytes", "bits/number", "deltas", "published"):
        table.add_column(column)
    for pack in built:
        table.add_row(
            pack.region,
            str(pack.version),
            str(pack.count),
            str(pack.size),
            f"{pack.size * 8 / max(1, pack.count):.1f}",
            ", ".join(f"{n.rsplit('/', 1)[1]} {s}" for n, s in pack.deltas.items()) or "-",
            "yes" if pack.published else "no (no TUF keys: `canyu keys init`)",
        )
    if built:
        Console().print(table)


# --- benchmarks -------------------------------------------------------------------------------


def bench_abuse(
    small: Annotated[bool, typer.Option(help="The small run the test suite uses.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Anti-abuse simulation: one network of fresh accounts, and 10% malicious reporters."""
    from dataclasses import replace

    from canyu.calls import abuse_sim

    config = abuse_sim.SMALL if small else abuse_sim.CrowdConfig()
    labelled, score = abuse_sim.one_network(50)
    with err.status("simulating the crowd"):
        result = abuse_sim.crowd(config)
        heavy = abuse_sim.crowd(replace(config, marks_per_malicious=100))
    out = {
        "one_network": {"sybils": 50, "labelled": labelled, "score": score},
        "crowd": result.as_dict(),
        "crowd_malicious_100_marks_each": heavy.as_dict(),
        "goals": {
            "one_network_not_labelled": not labelled,
            "legit_labelled_share_max": 0.001,
            "many_recall_min": 0.95,
            "met": (not labelled)
            and result.legit_labelled_share <= 0.001
            and result.many_recall >= 0.95,
        },
    }
    if json_output:
        typer.echo(json.dumps(out))
        return
    console = Console()
    console.print(
        f"one network: 50 fresh accounts mark a business number -> "
        f"{'LABELLED' if labelled else 'not labelled'} (evidence {score:.2f}, label at 3.0)"
    )
    table = Table(title=f"crowd: {result.reporters} reporters, {result.malicious} malicious")
    for column in (
        "scenario",
        "marks",
        "legit labelled",
        "share",
        "of marked legit",
        f"spam with >= {config.many} honest",
        "labelled",
        "recall",
    ):
        table.add_column(column, justify="right")
    for name, r in (("30 marks/malicious", result), ("100 marks/malicious", heavy)):
        table.add_row(
            name,
            str(r.marks),
            f"{r.legit_labelled}/{r.config.legit_numbers}",
            f"{r.legit_labelled_share:.4%}",
            f"{r.legit_marked_labelled_share:.4%}",
            str(r.spam_many),
            str(r.spam_many_labelled),
            f"{r.many_recall:.3f}",
        )
    console.print(table)
    reach = ", ".join(f"{k}: {a}/{b}" for k, (a, b) in result.recall_by_reach.items())
    console.print(f"labelled spam numbers by honest reach: {reach}")


def bench_pack(
    count: Annotated[
        int, typer.Option("--numbers", help="Labelled numbers in the pack.")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    clustered: Annotated[
        float, typer.Option(help="Share of numbers in hot operator blocks.")
    ] = 0.6,
    json_output: JsonFlag = False,
) -> None:
    """Pack size (bits per number incl. category), build time, a day's delta, device lookups."""
    from canyu.calls.bench import pack_figures

    if not 1 <= count <= 20_000_000:
        raise _fail("--numbers must be between 1 and 20,000,000")
    if not 0 <= clustered <= 1:
        raise _fail("--clustered must be between 0 and 1")
    with err.status(f"building a pack of {count:,} numbers"):
        figures = pack_figures(count, seed=seed, clustered=clustered)
    if json_output:
        typer.echo(json.dumps(figures))
        return
    table = Table(title=f"offline pack, {count:,} labelled CN mobile numbers")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    goals = {"bits_per_number": "<= 16", "delta_share": "< 5%", "lookup_us": "< 1000"}
    for key, value in figures.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        table.add_row(key, shown, goals.get(key, ""))
    Console().print(table)


def bench_sms(
    dataset: Annotated[Path, typer.Option("--dataset", help="label<TAB>text file.")],
    folds: Annotated[int, typer.Option(help="Stratified cross-validation folds.")] = 5,
    target_fpr: Annotated[float, typer.Option(help="Ham FPR the threshold aims for.")] = 0.005,
    seed: Annotated[int, typer.Option(help="Seed of the fold split.")] = 0,
    baseline: Annotated[bool, typer.Option(help="Also run the plain char n-gram LR.")] = True,
    json_output: JsonFlag = False,
) -> None:
    """Precision, recall, F1 and ham false-positive rate by stratified cross-validation."""
    import time

    from canyu.calls import sms

    try:
        texts, labels = sms.read_dataset(dataset)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if not 2 <= folds <= 20:
        raise _fail("--folds must be between 2 and 20")
    started = time.perf_counter()
    with err.status(f"{folds}-fold cross-validation on {len(texts)} messages"):
        results = sms.evaluate(
            texts, labels, folds=folds, seed=seed, target_fpr=target_fpr, baseline=baseline
        )
    model = results["model"]
    out: dict[str, object] = {
        **{k: v for k, v in model.as_dict().items()},
        "messages": len(texts),
        "spam": int(labels.sum()),
        "folds": folds,
        "target_fpr": target_fpr,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "variants": {name: m.as_dict() for name, m in results.items() if name != "model"},
    }
    if json_output:
        typer.echo(json.dumps(out))
        return
    table = Table(title=f"SMS spam, {dataset.name}: {len(texts)} messages, {folds}-fold CV")
    for column in ("model", "precision", "recall", "F1", "ham FPR", "FP", "FN"):
        table.add_column(column, justify="right")
    names = {
        "model": f"char_wb+word SVM, threshold at {target_fpr:.1%} FPR",
        "svm_default": "same SVM, threshold 0",
        "baseline": "char 1-5 LR, threshold 0 (floor)",
    }
    for name, m in results.items():
        table.add_row(
            names[name],
            f"{m.precision:.4f}",
            f"{m.recall:.4f}",
            f"{m.f1:.4f}",
            f"{m.ham_fpr:.4%}",
            str(m.fp),
            str(m.fn),
        )
    Console().print(table)


def bench_replay(
    marks: Annotated[
        int, typer.Option("--marks", help="Marks to send through the API.")
    ] = 1_000_000,
    friends: Annotated[int, typer.Option(help="Distinct friends sending them.")] = 20_000,
    concurrency: Annotated[int, typer.Option(help="Client threads.")] = 8,
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 1,
    pack_interval: Annotated[
        float, typer.Option(help="Pack schedule in minutes (default: the settings').")
    ] = 0.0,
    max_minutes: Annotated[float, typer.Option(help="Stop sending after this long.")] = 30.0,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="SQLAlchemy URL of an empty database; default: a new SQLite."
        ),
    ] = None,
    ratelimit_storage_url: Annotated[
        str,
        typer.Option(
            "--ratelimit-storage-url",
            help="The server's rate-limit storage: memory:// or redis://.",
        ),
    ] = "memory://",
    json_output: JsonFlag = False,
) -> None:
    """Replay marks through the HTTP API on 127.0.0.1: throughput, and the time from the mark
    that tips a number over its threshold to the number being in a published pack."""
    from canyu.calls.bench import ReplayConfig, replay

    if not 1 <= marks <= 10_000_000 or not 1 <= friends <= 1_000_000:
        raise _fail("--marks must be 1..10,000,000 and --friends 1..1,000,000")
    if not 1 <= concurrency <= 64 or not 1 <= workers <= 8:
        raise _fail("--concurrency must be 1..64 and --workers 1..8")
    config = ReplayConfig(
        marks=marks,
        friends=friends,
        concurrency=concurrency,
        workers=workers,
        pack_interval_minutes=pack_interval or None,
        max_minutes=max_minutes,
        database_url=database_url,
        ratelimit_storage_url=ratelimit_storage_url,
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total, rate="")
            task = tasks[stage]
            progress.update(task, completed=done, total=total)
            speed = next(t.speed for t in progress.tasks if t.id == task)
            if stage == "marks" and speed:
                progress.update(task, rate=f"{speed:,.0f} marks/s")

        figures = replay(config, progress=report)
    if json_output:
        typer.echo(json.dumps(figures))
        return
    table = Table(title="replay of marks through the HTTP API")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    Console().print(table)


def register_benches(bench_app: typer.Typer) -> None:
    """Add this domain's `canyu bench ...` commands."""
    bench_app.command("calls-abuse", help="Anti-abuse simulation of the reputation model.")(
        bench_abuse
    )
    bench_app.command("pack", help="Offline pack size, deltas and device lookup time.")(bench_pack)
    bench_app.command("sms", help="SMS spam classifier by stratified cross-validation.")(bench_sms)
    bench_app.command("calls-replay", help="Marks through the HTTP API: throughput, freshness.")(
        bench_replay
    )


if __name__ == "__main__":  # pragma: no cover
    app(sys.argv[1:])
