"""``canyu bench dedup``: duplicate-retrieval benchmark of the similar-posts index."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from canyu.community.similarity import DEFAULT_METHOD, METHODS
from canyu.lab.dedup_eval import DedupDataError, evaluate, load_dataset
from canyu.progress import progress_bar


def dedup(
    reports: Path = typer.Option(
        ..., "--reports", help="Reports CSV (Issue id, Summary, Description, Created)."
    ),
    links: Path = typer.Option(
        ..., "--links", help="Duplicate links CSV (Issue id, Duplicate id)."
    ),
    method: str = typer.Option(
        DEFAULT_METHOD, "--method", help=f"Ranking method: {', '.join(METHODS)}."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Replay bug reports in time order and measure how well earlier duplicates are found."""
    # With --json, stdout carries only the JSON object; the progress bar goes to stderr.
    console = Console(stderr=json_output)
    errors = Console(stderr=True, soft_wrap=True)
    if method not in METHODS:
        errors.print(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.", style="red")
        raise typer.Exit(2)
    try:
        dataset = load_dataset(reports, links)
    except DedupDataError as error:
        errors.print(f"Cannot run the benchmark: {error}", style="red", markup=False)
        raise typer.Exit(2) from error

    with progress_bar(console, transient=json_output) as progress:
        task = progress.add_task(f"{method} on {reports.name}", total=len(dataset.reports))
        result = evaluate(
            dataset, method, lambda done, total: progress.update(task, completed=done, total=total)
        )

    if json_output:
        typer.echo(json.dumps(result.as_dict()))
        return
    table = Table(title=f"Duplicate retrieval: {reports.name} ({method})")
    columns = ("Recall@1", "Recall@5", "Recall@10", "MAP", "queries", "p50 ms", "p95 ms")
    for column in (*columns, "likely: precision", "shown", "recall", "P ≥ 0.5 from"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{result.recall_at_1:.3f}",
        f"{result.recall_at_5:.3f}",
        f"{result.recall_at_10:.3f}",
        f"{result.map:.3f}",
        str(result.queries),
        f"{result.p50_ms:.1f}",
        f"{result.p95_ms:.1f}",
        f"{result.likely_precision:.3f}",
        str(result.likely_shown),
        f"{result.likely_recall:.3f}",
        f"{result.half_precision_threshold:.2f}",
    )
    console.print(table)
