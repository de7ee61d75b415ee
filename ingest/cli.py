"""`c360-ingest`: the container command of the ingestion pods (thin: parse arguments, call the core).

    c360-ingest load --source orders     # one source
    c360-ingest load --source all        # users, orders, support_tickets in turn
    c360-ingest migrate                  # only bring the staging schema up to date

Exit status (docs/loader.md): 0 every object loaded or already loaded; 1 some objects were not
loaded (refused or failed; the others were, and the log names each with its reason); 2 a bad
argument; 3 the loader could not run (a server unreachable after every retry, bad credentials,
a missing bucket, schema drift). A failed run ends with one line saying what to check. Settings
(DSN, S3 endpoint and keys) come from the `C360_*` environment (see customer360/settings.py).
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
EXIT_NOT_ALL_LOADED = 1
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 3

log = logging.getLogger("ingest")


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
    """Load the new and changed objects of SOURCE (or all sources) into staging.

    Exit status: 0 all loaded; 1 some objects refused or failed (the rest loaded); 2 bad
    argument; 3 the loader could not run (server unreachable, bad credentials, missing bucket).
    """
    from ingest.diagnosis import explain
    from ingest.runner import load_source  # heavy imports (boto3) only when loading

    _configure_logging()
    try:
        sources = list(SOURCES.values()) if source == ALL else [get_source(source)]
    except ValueError as error:
        typer.echo(f"error: {error} (or {ALL})", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    settings = get_settings()
    status = 0
    problems: list[str] = []
    for item in sources:
        try:
            report = load_source(settings, item)
        except Exception as error:
            line = explain(error, settings)
            if line is None:  # not a failure we know: a bug, keep the traceback for whoever fixes it
                log.exception("%s: unexpected error", item.name)
                line = " ".join(f"{type(error).__name__}: {error}".split())
            problems.append(f"could not load {item.name}: {line}")
            status = EXIT_CANNOT_RUN
            continue
        not_loaded = [f"{key} (refused)" for key in report.refused]
        not_loaded += [f"{key} (failed)" for key in report.failed]
        if not_loaded:
            problems.append(
                f"{item.name}: {len(not_loaded)} object(s) not loaded, the reason is logged above each: "
                f"{', '.join(not_loaded)}; fix or replace them in the lake and load again"
            )
            status = max(status, EXIT_NOT_ALL_LOADED)
    if problems:
        log.error("%s", "; ".join(problems))  # the last line: what Airflow shows for a failed task
        raise typer.Exit(status)


@app.command()
def migrate() -> None:
    """Create or upgrade the staging tables (also done by every load). Exit status 3 when it
    cannot (the last line says why)."""
    from ingest.ddl import ensure_staging_schema
    from ingest.diagnosis import explain
    from ingest.runner import connect_warehouse

    _configure_logging()
    settings = get_settings()
    try:
        conn = connect_warehouse(settings)
        try:
            applied = ensure_staging_schema(conn)
        finally:
            conn.close()
    except Exception as error:
        line = explain(error, settings)
        if line is None:
            raise
        log.error("could not migrate the staging schema: %s", line)
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    log.info("staging schema: applied migrations %s", applied or "none (current)")


if __name__ == "__main__":
    app()
