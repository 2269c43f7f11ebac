"""``canyu bench dedup``: duplicate-retrieval benchmark of the similar-posts index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from canyu.commands import JsonFlag
from canyu.community.similarity import DEFAULT_METHOD, METHODS
from canyu.lab import dedup_bilingual
from canyu.lab.dedup_eval import DedupDataError, evaluate, load_dataset
from canyu.progress import progress_bar

ExactVectors = Annotated[
    bool,
    typer.Option(
        "--exact-vectors",
        help="Score posts' float32 vectors, not the stored int8 form server workers load.",
    ),
]
Method = Annotated[str, typer.Option("--method", help=f"Ranking method: {', '.join(METHODS)}.")]


def _consoles(method: str, json_output: bool) -> Console:
    """The console for tables and progress, after refusing an unknown method. With --json,
    stdout carries only the JSON object; the progress bar goes to stderr."""
    if method not in METHODS:
        _errors().print(
            f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.", style="red"
        )
        raise typer.Exit(2)
    return Console(stderr=json_output)


def _errors() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _refuse(error: ValueError) -> NoReturn:
    _errors().print(f"Cannot run the benchmark: {error}", style="red", markup=False)
    raise typer.Exit(2) from error


def dedup(
    reports: Path = typer.Option(
        ..., "--reports", help="Reports CSV (Issue id, Summary, Description, Created)."
    ),
    links: Path = typer.Option(
        ..., "--links", help="Duplicate links CSV (Issue id, Duplicate id)."
    ),
    method: Method = DEFAULT_METHOD,
    exact_vectors: ExactVectors = False,
    json_output: JsonFlag = False,
) -> None:
    """Replay bug reports in time order and measure how well earlier duplicates are found."""
    console = _consoles(method, json_output)
    try:
        dataset = load_dataset(reports, links)
    except DedupDataError as error:
        _refuse(error)

    with progress_bar(console, transient=json_output) as progress:
        task = progress.add_task(f"{method} on {reports.name}", total=len(dataset.reports))
        result = evaluate(
            dataset,
            method,
            lambda done, total: progress.update(task, completed=done, total=total),
            exact_vectors=exact_vectors,
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


def dedup_bilingual_command(
    catalogues: list[Path] = typer.Option(
        ...,
        "--po",
        help="A gettext catalogue translating English into Chinese or Japanese (repeatable).",
    ),
    method: Method = DEFAULT_METHOD,
    exact_vectors: ExactVectors = False,
    json_output: JsonFlag = False,
) -> None:
    """Each message and its translation in one mixed forum: is the counterpart found?"""
    console = _consoles(method, json_output)
    try:
        pairs = dedup_bilingual.load_pairs(catalogues)
    except dedup_bilingual.BilingualDataError as error:
        _refuse(error)
    with progress_bar(console, transient=json_output) as progress:
        task = progress.add_task(f"{method}: {len(pairs)} message pairs", total=len(pairs))
        result = dedup_bilingual.evaluate(
            pairs,
            method,
            lambda done, total: progress.update(task, completed=done, total=total),
            exact_vectors=exact_vectors,
        )
    if json_output:
        typer.echo(json.dumps(result.as_dict()))
        return
    table = Table(title=f"Cross-language retrieval: {result.pairs} pairs ({method})")
    for column in ("query", "counterpart first", "Recall@10"):
        table.add_column(column, justify="right")
    table.add_row(
        "translation", f"{result.translation_first:.3f}", f"{result.translation_recall_at_10:.3f}"
    )
    table.add_row("original", f"{result.original_first:.3f}", f"{result.original_recall_at_10:.3f}")
    console.print(table)
    console.print(
        f"likely duplicates across scripts: precision {result.likely_precision:.3f} "
        f"({result.likely_shown} shown)"
    )
