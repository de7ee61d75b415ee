"""`c360-stack`: start, stop and inspect the embedded PostgreSQL + S3 servers.

A thin layer over :mod:`harness.stack.stack`: parse arguments, call, print. Secrets are never
printed; endpoints are.
"""

from __future__ import annotations

import time

import typer

from harness.settings import get_harness_settings
from harness.stack import stack
from harness.stack.errors import StackError

app = typer.Typer(
    help="The embedded runtime: a real PostgreSQL and a real S3 server on loopback (C360_* settings).",
    no_args_is_help=True,
    add_completion=False,
)


def _print_status(status: stack.StackStatus) -> None:
    typer.echo(f"state dir: {status.state_dir}")
    for server in status.servers:
        state = "up" if server.up else "DOWN"
        pid = f"pid {server.pid}" if server.pid else "no process"
        typer.echo(f"  {server.name:<9} {state:<5} {server.endpoint}  [{pid}; {server.detail}]")


@app.command()
def up() -> None:
    """Start PostgreSQL and S3 (detached; they outlive this command). Reuses servers already running."""
    settings = get_harness_settings()
    began = time.monotonic()
    try:
        report = stack.up(settings)
    except StackError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    for name in report.started:
        typer.echo(f"started {name}")
    for name in report.reused:
        typer.echo(f"{name} already running, reused")
    typer.echo(f"stack up in {time.monotonic() - began:.1f}s; credentials in {settings.secrets_file}")
    _print_status(stack.status(settings))


@app.command()
def down() -> None:
    """Stop both servers and wait until their processes have exited. Data stays in the state dir."""
    try:
        stopped = stack.down(get_harness_settings())
    except StackError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status() -> None:
    """Show endpoints and whether each server is up (process alive and answering). Exit 1 unless both are."""
    result = stack.status(get_harness_settings())
    _print_status(result)
    if not result.up:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
