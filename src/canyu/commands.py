"""What every ``canyu`` command shares: the option types, where errors are told, and how a
command fails (one line on standard error, exit status 2). Typer and Rich only, so the device
client's commands use it too."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True, soft_wrap=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL; default CANYU_DATABASE_URL or ./var/."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Tell why on standard error; raise what this returns."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)
