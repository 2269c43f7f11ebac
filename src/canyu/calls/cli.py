from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def register_benches(bench_app: typer.Typer) -> None:
    """Add this domain's `canyu bench ...` commands."""
