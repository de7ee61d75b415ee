"""Row factory of the `orders` source.

History orders of a day-0 user are drawn from the user's own RNG (after the profile), placed
between sign-up and the end of history, and are finished by day 0. Orders placed on day j come
from `rng_for(seed, ORDER, j, i)`: any of them can be rebuilt alone, which is how a daily delta
finds the orders whose status changes that day without remembering anything.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from datagen.lifecycle import Event, changes_during, order_events, state_at
from datagen.rng import Stream, rng_for
from datagen.timefmt import DAY, iso
from datagen.users import UserProfile, country_of
from datagen.world import HISTORY_ORDERS_MEAN, HISTORY_SLOTS, WINDOW, World, day_item_id, history_id

AMOUNT_MU = 3.7  # log-normal amount: median about 40 in the order's currency
AMOUNT_SIGMA = 0.9


def draw_cents(rng: random.Random) -> int:
    return 100 + int(rng.lognormvariate(AMOUNT_MU, AMOUNT_SIGMA) * 100)


def amount_text(cents: int) -> str:
    """Decimal with exactly two places, e.g. `-12.05`."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def order_row(order_id: int, user_id: int, placed: int, cents: int, currency: str, state: Event) -> list[str]:
    return [
        str(order_id),
        str(user_id),
        iso(placed),
        amount_text(cents),
        currency,
        state[1],
        iso(state[0]),
    ]


def history_orders(world: World, rng: random.Random, user: UserProfile) -> list[list[str]]:
    """The day-0 user's orders before day -WINDOW, all finished by day 0 (consumes `rng`)."""
    count = min(HISTORY_SLOTS - 1, int(rng.expovariate(1 / HISTORY_ORDERS_MEAN)))
    span = world.history_end - DAY - user.created_at
    if span <= 0:
        return []
    placed_times = sorted(user.created_at + int(rng.random() * span) for _ in range(count))
    rows = []
    for slot, placed in enumerate(placed_times):
        cents = draw_cents(rng)
        events = order_events(rng, placed)
        rows.append(
            order_row(
                history_id(user.user_id, slot), user.user_id, placed, cents, user.country.currency, events[-1]
            )
        )
    return rows


class DayOrder:
    """The i-th order placed on day j, rebuilt from its own RNG."""

    __slots__ = ("cents", "events", "order_id", "placed", "user_id")

    def __init__(self, world: World, day: int, serial: int, count: int) -> None:
        rng = rng_for(world.seed, Stream.ORDER, day, serial)
        self.order_id = day_item_id(day, serial)
        self.user_id = 1 + int(rng.random() * world.customers_on(day))
        # Serial order is time order: order i is placed inside the i-th slice of the day.
        self.placed = world.day_start(day) + int((serial - 1 + rng.random()) * DAY / count)
        self.cents = draw_cents(rng)
        self.events = order_events(rng, self.placed)

    def row(self, world: World, cutoff: int) -> list[str]:
        currency = country_of(world.seed, self.user_id).currency
        return order_row(
            self.order_id, self.user_id, self.placed, self.cents, currency, state_at(self.events, cutoff)
        )


def day_orders(world: World, day: int) -> Iterator[DayOrder]:
    count = world.orders_on(day)
    for serial in range(1, count + 1):
        yield DayOrder(world, day, serial, count)


def recent_orders_at_day0(world: World) -> Iterator[list[str]]:
    """Orders placed on days -WINDOW..0 as they stand at the end of day 0."""
    cutoff = world.cutoff(0)
    for day in range(-WINDOW, 1):
        for order in day_orders(world, day):
            yield order.row(world, cutoff)


def delta_orders(world: World, day: int) -> Iterator[tuple[list[str], bool]]:
    """Day k's delta: orders of the last WINDOW days whose status changes on k, then k's new orders."""
    start, cutoff = world.day_start(day), world.cutoff(day)
    for placed_day in range(day - WINDOW, day):
        for order in day_orders(world, placed_day):
            if changes_during(order.events, start, cutoff):
                yield order.row(world, cutoff), False
    for order in day_orders(world, day):
        yield order.row(world, cutoff), True
