"""Lifecycles of orders and tickets: timed status events drawn once per record.

A record's events are fixed by its RNG, so the version a daily export shows is simply "the state
at the end of day k". Versions therefore only ever move forward, and a record appears in day k's
delta exactly when one of its events falls inside day k. Every lifecycle ends within `WINDOW`
days (7 x 24 h) of creation, which bounds how many past days a delta has to look at.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from datagen.timefmt import DAY, HOUR, MINUTE

ORDER_CANCEL_SHARE = 0.06
ORDER_RETURN_SHARE = 0.05
TICKET_PENDING_SHARE = 0.5
TICKET_UNRESOLVED_SHARE = 0.06  # tickets nobody resolves (stay open/pending)
TICKET_CSAT_SHARE = 0.6  # resolved tickets whose customer answers the survey
TICKET_CLOSE_SHARE = 0.7
CSAT_SCORES = (1, 2, 3, 4, 5)
CSAT_WEIGHTS = (0.06, 0.08, 0.16, 0.35, 0.35)


# (epoch second, status). A plain tuple, not a NamedTuple: millions are made and each
# NamedTuple construction costs a Python-level call.
Event = tuple[int, str]


def order_events(rng: random.Random, placed: int) -> tuple[Event, ...]:
    """placed -> cancelled (<1 day), or placed -> shipped (6-48 h) -> delivered (1-4 days) [-> returned]."""
    if rng.random() < ORDER_CANCEL_SHARE:
        cancelled = placed + 10 * MINUTE + int(rng.random() * 23 * HOUR)
        return (placed, "placed"), (cancelled, "cancelled")
    shipped = placed + 6 * HOUR + int(rng.random() * 42 * HOUR)
    delivered = shipped + DAY + int(rng.random() * 3 * DAY)
    events = ((placed, "placed"), (shipped, "shipped"), (delivered, "delivered"))
    if rng.random() < ORDER_RETURN_SHARE:
        events += ((delivered + 12 * HOUR + int(rng.random() * 12 * HOUR), "returned"),)
    return events


class TicketLife(NamedTuple):
    events: tuple[Event, ...]
    resolved_at: int | None
    csat: int | None


def ticket_life(rng: random.Random, created: int) -> TicketLife:
    """open [-> pending (1-24 h)] -> resolved (0.5-95.5 h later, maybe a csat) [-> closed (12-48 h)]."""
    events = [(created, "open")]
    last = created
    if rng.random() < TICKET_PENDING_SHARE:
        last = created + HOUR + int(rng.random() * 23 * HOUR)
        events.append((last, "pending"))
    if rng.random() < TICKET_UNRESOLVED_SHARE:
        return TicketLife(tuple(events), None, None)
    resolved = last + 30 * MINUTE + int(rng.random() * 95 * HOUR)
    events.append((resolved, "resolved"))
    csat = rng.choices(CSAT_SCORES, CSAT_WEIGHTS)[0] if rng.random() < TICKET_CSAT_SHARE else None
    if rng.random() < TICKET_CLOSE_SHARE:
        events.append((resolved + 12 * HOUR + int(rng.random() * 36 * HOUR), "closed"))
    return TicketLife(tuple(events), resolved, csat)


def state_at(events: tuple[Event, ...], cutoff: int) -> Event:
    """The latest event strictly before `cutoff` (callers only ask once the record exists)."""
    current = events[0]
    for event in events:
        if event[0] < cutoff:
            current = event
    return current


def changes_during(events: tuple[Event, ...], start: int, cutoff: int) -> bool:
    return any(start <= at < cutoff for at, _ in events)
