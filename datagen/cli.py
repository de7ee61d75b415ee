"""`c360-datagen`: a thin command line over datagen.generate (parses, validates, reports)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from customer360.contract import LAKE_BUCKET, RAW_PREFIX
from datagen.config import (
    DEFAULT_ROWS_PER_OBJECT,
    DEFAULT_SEED,
    DEFAULT_START_DATE,
    DIRT_KINDS,
    MAX_DAYS,
    GeneratorConfig,
    effective_rates,
)
from datagen.generate import generate, missing_days
from datagen.sinks import TargetError, open_target
from datagen.summary import run_summary

app = typer.Typer(help="Deterministic Faker generator of the Customer 360 raw sources.", no_args_is_help=True)

DIRT_HELP = (
    "Dirt kinds (default rate per clean row; scaled by --dirt-rate, set one with --dirt KIND=RATE):\n\n"
    + "\n\n".join(
        f"{kind.name} = {kind.default_rate:g} (in {', '.join(kind.sources)}): {kind.description}"
        for kind in DIRT_KINDS
    )
)


@app.callback()
def main() -> None:
    """Deterministic Faker generator of the Customer 360 raw sources (users, orders, support_tickets)."""


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _parse_overrides(items: list[str]) -> dict[str, float]:
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            overrides[name.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(f"{item!r} is not KIND=RATE (e.g. duplicate_row=0.05)") from None
    return overrides


def _s3_client():  # a boto3 S3 client (its class is generated at runtime)
    """S3 client from the one settings module; missing credentials become a clear target error."""
    import boto3

    from customer360.settings import get_settings

    try:
        kwargs = get_settings().boto3_client_kwargs()
    except RuntimeError as error:  # no C360_S3_* keys and no generated credentials
        raise TargetError(str(error)) from None
    return boto3.client("s3", **kwargs)


@app.command("generate", epilog=DIRT_HELP)
def generate_cmd(
    users: Annotated[int, typer.Option(help="Users on day 0 (1..100,000,000).")] = 1000,
    days: Annotated[
        int | None, typer.Option(help=f"Generate days 0..D-1 (1..{MAX_DAYS}; default 1).")
    ] = None,
    day: Annotated[
        int | None, typer.Option(help="Generate only day K (the same bytes as day K of --days).")
    ] = None,
    through_day: Annotated[
        int | None,
        typer.Option(
            help="Generate every day 0..K the target lacks, oldest first: on an empty lake the "
            "initial export (day 0) comes first (what the simulator DAG runs)."
        ),
    ] = None,
    start_date: Annotated[
        str, typer.Option(help="Date of day 0, YYYY-MM-DD.")
    ] = DEFAULT_START_DATE.isoformat(),
    seed: Annotated[int, typer.Option(help="Seed: same arguments give the same bytes.")] = DEFAULT_SEED,
    dirt_rate: Annotated[
        float, typer.Option(help="Multiplier on every dirt kind's default rate; 0 = clean.")
    ] = 1.0,
    dirt: Annotated[
        list[str] | None, typer.Option(help="Set one kind's rate, KIND=RATE (repeatable).")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            help=f"s3://<bucket>/{RAW_PREFIX} or a local folder (default: s3://$C360_S3_BUCKET/raw)."
        ),
    ] = None,
    summary: Annotated[
        Path | None, typer.Option(help="Write a JSON summary of objects, rows and dirt here.")
    ] = None,
    rows_per_object: Annotated[
        int, typer.Option(help="Start a new object after this many data rows.")
    ] = DEFAULT_ROWS_PER_OBJECT,
    daily_volume: Annotated[
        float,
        typer.Option(
            help="Multiplier on the volume of the days after day 0 (new and updated users, orders, "
            "tickets; day 0 is unchanged). Keep it the same for every day of a lake: the user ids "
            "of a day follow from the volumes of the days before."
        ),
    ] = 1.0,
) -> None:
    """Generate daily batches of users, orders and support_tickets into the lake layout."""
    if sum(option is not None for option in (day, days, through_day)) > 1:
        raise typer.BadParameter(
            "give one of --days D (days 0..D-1), --day K (day K alone) "
            "or --through-day K (the missing days up to K)"
        )
    for name, value in (("--day", day), ("--through-day", through_day)):
        if value is not None and not 0 <= value < MAX_DAYS:
            raise typer.BadParameter(f"{name} must be within 0..{MAX_DAYS - 1}, got {value}")
    days = 1 if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise typer.BadParameter(f"--days must be within 1..{MAX_DAYS}, got {days}")
    try:
        config = GeneratorConfig(
            users=users,
            seed=seed,
            start_date=_parse_date(start_date),
            dirt_rates=effective_rates(dirt_rate, _parse_overrides(dirt or [])),
            rows_per_object=rows_per_object,
            daily_volume=daily_volume,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    target_uri = target or f"s3://{_default_bucket()}/{RAW_PREFIX}"
    try:
        sink = open_target(target_uri, _s3_client)
    except TargetError as error:
        raise typer.BadParameter(str(error), param_hint="--target") from None
    if through_day is not None:
        day_list = missing_days(config, through_day, sink)
        typer.echo(f"days 0..{through_day}: {len(day_list)} missing in {target_uri}: {_day_ranges(day_list)}")
    else:
        day_list = [day] if day is not None else list(range(days))
    objects = list(
        generate(
            config,
            day_list,
            sink,
            report=lambda obj: typer.echo(obj.line()),
            show_progress=sys.stderr.isatty(),
        )
    )
    if summary is not None:
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps(run_summary(config, day_list, target_uri, objects), indent=2) + "\n")


def _day_ranges(days: list[int]) -> str:
    """`0-3, 7` for [0, 1, 2, 3, 7]; `none` for []."""
    ranges: list[str] = []
    for day in days:
        if ranges and ranges[-1].split("-")[-1] == str(day - 1):
            ranges[-1] = f"{ranges[-1].split('-')[0]}-{day}"
        else:
            ranges.append(str(day))
    return ", ".join(ranges) or "none"


def _default_bucket() -> str:
    try:
        from customer360.settings import get_settings

        return get_settings().s3_bucket
    except Exception:  # settings unreadable: the contract's bucket name is the default anyway
        return LAKE_BUCKET
