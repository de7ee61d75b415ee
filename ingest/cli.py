"""`c360-ingest`: the container command of the ingestion pods (thin: parse arguments, call the core).

    c360-ingest load --source orders     # one source
    c360-ingest load --source all        # users, orders, support_tickets in turn
    c360-ingest migrate                  # only bring the staging schema up to date

Exit status: 0 when every object was loaded or already loaded; 1 when an object was refused or
failed after retries (the log names it); 2 for a bad argument. Settings (DSN, S3 endpoint and
keys) come from the `C360_*` environment (see customer360/settings.py).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from customer360.contract import SOURCES, get_source
from customer360.settings import get_settings

app = typer.Typer(
    help="Load raw CSV objects from the S3 lake into PostgreSQL `staging`.", no_args_is_help=True
)

ALL = "all"


def _configure_logging() -> None:
    # Plain lines on stderr, one per event: what `kubectl logs` and Airflow task logs show.
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)


@app.command()
def load(
    source: Annotated[
        str,
        typer.Option(help=f"Source to load: {', '.join(SOURCES)} or {ALL}."),
    ],
) -> None:
    """Load the new and changed objects of SOURCE (or all sources) into staging."""
    from ingest.runner import load_source  # heavy imports (boto3) only when loading

    _configure_logging()
    try:
        sources = list(SOURCES.values()) if source == ALL else [get_source(source)]
    except ValueError as error:
        typer.echo(f"error: {error} (or {ALL})", err=True)
        raise typer.Exit(2) from None
    settings = get_settings()
    failed = 0
    for item in sources:
        try:
            report = load_source(settings, item)
        except Exception as error:
            logging.getLogger("ingest").error(
                "%s: load failed: %s: %s", item.name, type(error).__name__, error
            )
            failed += 1
            continue
        failed += len(report.failed)
    if failed:
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Create or upgrade the staging tables (also done by every load)."""
    from ingest.ddl import ensure_staging_schema
    from ingest.runner import connect_warehouse

    _configure_logging()
    conn = connect_warehouse(get_settings())
    try:
        applied = ensure_staging_schema(conn)
    finally:
        conn.close()
    logging.getLogger("ingest").info("staging schema: applied migrations %s", applied or "none (current)")


if __name__ == "__main__":
    app()
