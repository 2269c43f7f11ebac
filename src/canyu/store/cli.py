"""`canyu store ...`: the order worker and draw verification; `canyu bench flashsale...`."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from canyu import migrate
from canyu.commands import DatabaseUrl
from canyu.config import Settings, get_settings
from canyu.store.lottery import DrawRecord

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


def _settings(database_url: str | None) -> Settings:
    settings = get_settings()
    return settings.model_copy(update={"database_url": database_url}) if database_url else settings


@app.command()
def worker(
    database_url: DatabaseUrl = None,
    name: Annotated[
        str | None, typer.Option(help="Consumer name; keep it across restarts of one worker.")
    ] = None,
) -> None:
    """Write the orders the Redis ledger enqueued, make draws on time, expire reservations."""
    from canyu.db import Database
    from canyu.logs import configure
    from canyu.store.ledger_redis import RedisLedger
    from canyu.store.settings import get_store_settings
    from canyu.store.worker import OrderWriter

    settings = _settings(database_url)
    if not settings.redis_url:
        console.print(
            "[red]error:[/red] CANYU_REDIS_URL is not set; the embedded ledger needs no worker."
        )
        raise typer.Exit(2)
    configure(settings.log_level)
    migrate.upgrade(settings.database_url)
    store_settings = get_store_settings()
    database = Database(settings.database_url)
    ledger = RedisLedger(settings.redis_url, prefix=store_settings.redis_prefix)
    order_writer = OrderWriter(
        database,
        ledger,
        consumer=name,
        batch=store_settings.worker_batch,
        claim_idle_ms=store_settings.claim_idle_ms,
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        order_writer.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print(f"store worker {order_writer.consumer} reading {ledger.events}")
    try:
        order_writer.run()
    finally:
        console.print(f"store worker stopped: {order_writer.stats}")
        database.dispose()
        ledger.close()


@app.command("verify-draw")
def verify_draw(
    sale: Annotated[int | None, typer.Option(help="Check a sale's draw in the database.")] = None,
    file: Annotated[
        Path | None,
        typer.Option(help="Check a published record offline: GET /api/v1/sales/ID/draw saved."),
    ] = None,
    database_url: DatabaseUrl = None,
    show: Annotated[int, typer.Option(help="Print the first N positions.")] = 10,
) -> None:
    """Re-run a sale's draw from its revealed seed and check it against the commitment."""
    from canyu.store import lottery

    if (sale is None) == (file is None):
        console.print("[red]error:[/red] give --sale ID or --file draw.json")
        raise typer.Exit(2)
    if file is not None:
        try:
            record = DrawRecord.from_json(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    else:
        record = _record_from_database(_settings(database_url), sale or 0)
    result = lottery.verify(record)
    print(
        json.dumps(
            {
                "sale_id": record.sale_id,
                "commitment_matches": result.commitment_matches,
                "order_matches": result.order_matches,
                "first_difference": result.first_difference,
                "entrants": len(record.entrants),
                "first_positions": record.order[:show],
            }
        )
    )
    if not result.ok:
        console.print("[red]the draw does NOT verify[/red]")
        raise typer.Exit(1)
    console.print(
        f"[green]verified[/green]: SHA-256(seed) is the commitment and the shuffle of "
        f"{len(record.entrants)} entrants gives the published order"
    )


def _record_from_database(settings: Settings, sale_id: int) -> DrawRecord:
    from canyu.db import Database
    from canyu.errors import CanyuError
    from canyu.store import service

    database = Database(settings.database_url)
    try:
        with database.session() as session:
            record = service.draw_record(session, sale=service.get_sale(session, sale_id=sale_id))
    except CanyuError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    if record is None:
        console.print("[red]error:[/red] this sale has not been drawn yet")
        raise typer.Exit(2)
    return record
