"""Row factory of the `support_tickets` source (same structure as orders.py)."""

from __future__ import annotations

import random
from collections.abc import Iterator

from customer360.contract import TICKET_CHANNELS, TICKET_PRIORITIES
from datagen.lifecycle import TicketLife, changes_during, state_at, ticket_life
from datagen.rng import Stream, cumulative, pick_weighted, rng_for
from datagen.timefmt import DAY, iso
from datagen.users import UserProfile
from datagen.world import HISTORY_SLOTS, HISTORY_TICKETS_MEAN, WINDOW, World, day_item_id, history_id

PRIORITY_BOUNDS = cumulative((0.30, 0.40, 0.22, 0.08))
CHANNEL_BOUNDS = cumulative((0.45, 0.35, 0.20))
RESOLVED_STATUSES = ("resolved", "closed")


def ticket_row(
    ticket_id: int, user_id: int, priority: str, channel: str, life: TicketLife, cutoff: int
) -> list[str]:
    state = state_at(life.events, cutoff)
    resolved = state[1] in RESOLVED_STATUSES
    return [
        str(ticket_id),
        str(user_id),
        iso(life.events[0][0]),
        iso(life.resolved_at) if resolved and life.resolved_at is not None else "",
        state[1],
        priority,
        channel,
        str(life.csat) if resolved and life.csat is not None else "",
        iso(state[0]),
    ]


def draw_ticket(rng: random.Random, created: int) -> tuple[str, str, TicketLife]:
    priority = pick_weighted(rng, TICKET_PRIORITIES, PRIORITY_BOUNDS)
    channel = pick_weighted(rng, TICKET_CHANNELS, CHANNEL_BOUNDS)
    return priority, channel, ticket_life(rng, created)


def history_tickets(world: World, rng: random.Random, user: UserProfile) -> list[list[str]]:
    """The day-0 user's tickets before day -WINDOW (consumes `rng` after the history orders)."""
    count = min(HISTORY_SLOTS - 1, int(rng.expovariate(1 / HISTORY_TICKETS_MEAN)))
    span = world.history_end - DAY - user.created_at
    if span <= 0:
        return []
    created_times = sorted(user.created_at + int(rng.random() * span) for _ in range(count))
    cutoff = world.cutoff(0)
    rows = []
    for slot, created in enumerate(created_times):
        priority, channel, life = draw_ticket(rng, created)
        rows.append(ticket_row(history_id(user.user_id, slot), user.user_id, priority, channel, life, cutoff))
    return rows


class DayTicket:
    """The i-th ticket opened on day j, rebuilt from its own RNG."""

    __slots__ = ("channel", "life", "priority", "ticket_id", "user_id")

    def __init__(self, world: World, day: int, serial: int, count: int) -> None:
        rng = rng_for(world.seed, Stream.TICKET, day, serial)
        self.ticket_id = day_item_id(day, serial)
        self.user_id = 1 + int(rng.random() * world.customers_on(day))
        created = world.day_start(day) + int((serial - 1 + rng.random()) * DAY / count)
        self.priority, self.channel, self.life = draw_ticket(rng, created)

    def row(self, cutoff: int) -> list[str]:
        return ticket_row(self.ticket_id, self.user_id, self.priority, self.channel, self.life, cutoff)


def day_tickets(world: World, day: int) -> Iterator[DayTicket]:
    count = world.tickets_on(day)
    for serial in range(1, count + 1):
        yield DayTicket(world, day, serial, count)


def recent_tickets_at_day0(world: World) -> Iterator[list[str]]:
    cutoff = world.cutoff(0)
    for day in range(-WINDOW, 1):
        for ticket in day_tickets(world, day):
            yield ticket.row(cutoff)


def delta_tickets(world: World, day: int) -> Iterator[tuple[list[str], bool]]:
    """Day k's delta: tickets of the last WINDOW days that change on k, then k's new tickets."""
    start, cutoff = world.day_start(day), world.cutoff(day)
    for opened_day in range(day - WINDOW, day):
        for ticket in day_tickets(world, opened_day):
            if changes_during(ticket.life.events, start, cutoff):
                yield ticket.row(cutoff), False
    for ticket in day_tickets(world, day):
        yield ticket.row(cutoff), True
