"""The command line's progress bars (Rich), one look for every long job."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# What a long job calls as it goes: (stage, done, total).
Report = Callable[[str, int, int], None]


class RateColumn(ProgressColumn):
    """Items per second ("12,345 rows/s")."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s", style="cyan")


def progress_bar(
    console: Console | None = None,
    *,
    transient: bool = False,
    disable: bool = False,
    unit: str | None = None,
) -> Progress:
    """Done of total, time so far and time left (and the rate, given a ``unit``); on standard
    error unless told otherwise (``transient`` clears it when done, ``disable`` hides it, as
    when printing JSON)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *([RateColumn(unit)] if unit else []),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=transient,
        disable=disable,
    )


@contextmanager
def staged(console: Console | None = None) -> Iterator[Report]:
    """A bar per stage, made the first time a job reports that stage."""
    with progress_bar(console) as bar:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report
