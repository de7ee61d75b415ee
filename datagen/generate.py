"""Generates the objects of one or more days: the core that the CLI and tests call.

Day 0 is one pass over the users (each user's profile, history orders and history tickets come
from the same per-user RNG and go to three writers at once), then the orders and tickets of the
last WINDOW days still in flight. Day k > 0 is a delta built from keyed RNGs only. Either way no
rows are kept in memory: each is formatted and streamed to its object as soon as it is drawn.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Iterable, Iterator

from customer360.contract import ORDERS, SOURCES, SUPPORT_TICKETS, USERS
from datagen.batches import BatchWriter
from datagen.config import GeneratorConfig
from datagen.dirt import DirtInjector
from datagen.orders import delta_orders, history_orders, recent_orders_at_day0
from datagen.pools import pools_for
from datagen.sinks import Target
from datagen.summary import ObjectSummary
from datagen.tickets import delta_tickets, history_tickets, recent_tickets_at_day0
from datagen.users import new_users, profile, updated_user_ids, updated_user_row, user_row
from datagen.world import World

Report = Callable[[ObjectSummary], None]


def _progress(total: int, description: str, enabled: bool) -> contextlib.AbstractContextManager:
    """A tqdm bar on a terminal, nothing otherwise (logs of pods and CI stay clean)."""
    if not enabled:
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="user", file=sys.stderr, leave=False)


class _DayWriters:
    """One BatchWriter + DirtInjector per source for one day; aborts all on error."""

    def __init__(
        self, config: GeneratorConfig, world: World, day: int, target: Target, report: Report
    ) -> None:
        date = (config.start_date + dt.timedelta(days=day)).isoformat()
        self.writers = {
            source.name: BatchWriter(source, day, date, target, config.rows_per_object, report)
            for source in (USERS, ORDERS, SUPPORT_TICKETS)
        }
        self.injectors = {
            name: DirtInjector(config, world, name, day, writer) for name, writer in self.writers.items()
        }

    def __enter__(self) -> _DayWriters:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            for writer in self.writers.values():
                writer.abort()

    def close(self) -> list[ObjectSummary]:
        return [summary for writer in self.writers.values() for summary in writer.close()]


def _day_zero(world: World, out: _DayWriters, show_progress: bool) -> None:
    pools = pools_for(world.seed)
    users, orders, tickets = (out.injectors[s.name] for s in (USERS, ORDERS, SUPPORT_TICKETS))
    step = 10_000
    with _progress(world.users, "day 0 users", show_progress) as bar:
        for user_id in range(1, world.users + 1):
            user, rng = profile(world, pools, user_id)
            users.add(user_row(user), True)
            for row in history_orders(world, rng, user):
                orders.add(row, True)
            for row in history_tickets(world, rng, user):
                tickets.add(row, True)
            if bar is not None and user_id % step == 0:
                bar.update(step)
    for row in recent_orders_at_day0(world):
        orders.add(row, True)
    for row in recent_tickets_at_day0(world):
        tickets.add(row, True)


def _delta_day(world: World, day: int, out: _DayWriters) -> None:
    pools = pools_for(world.seed)
    users = out.injectors[USERS.name]
    for user_id in updated_user_ids(world, day):
        users.add(updated_user_row(world, pools, user_id, day), False)
    for row in new_users(world, pools, day):
        users.add(row, True)
    for row, is_new in delta_orders(world, day):
        out.injectors[ORDERS.name].add(row, is_new)
    for row, is_new in delta_tickets(world, day):
        out.injectors[SUPPORT_TICKETS.name].add(row, is_new)


def generate_day(
    config: GeneratorConfig,
    day: int,
    target: Target,
    report: Report = lambda _: None,
    show_progress: bool = False,
    world: World | None = None,
) -> list[ObjectSummary]:
    """Write every object of `day` to `target`; returns their summaries (users, orders, tickets)."""
    if day < 0:
        raise ValueError(f"day must be >= 0, got {day}")
    world = world or World(config)
    with _DayWriters(config, world, day, target, report) as out:
        if day == 0:
            _day_zero(world, out, show_progress)
        else:
            _delta_day(world, day, out)
        return out.close()


def missing_days(config: GeneratorConfig, through: int, target: Target) -> list[int]:
    """Days 0..`through` of which some source has no object in `target` yet, in order.

    A day is written source by source, each object atomically, so a day cut short (a crash between
    users and orders) counts as missing and is written again: its bytes are the same, and the
    loader skips the objects it already has by ETag.
    """
    days = []
    for day in range(through + 1):
        date = (config.start_date + dt.timedelta(days=day)).isoformat()
        if not all(target.has_objects(source.day_prefix(date)) for source in SOURCES.values()):
            days.append(day)
    return days


def generate(
    config: GeneratorConfig,
    days: Iterable[int],
    target: Target,
    report: Report = lambda _: None,
    show_progress: bool = False,
) -> Iterator[ObjectSummary]:
    """Generate `days` in order, yielding each object's summary once all of its day is written."""
    world = World(config)
    for day in days:
        yield from generate_day(config, day, target, report, show_progress, world)
