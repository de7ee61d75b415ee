"""What a generation run is made of: the dataset parameters and the catalogue of dirt kinds.

Everything that shapes the bytes of a day lives in `GeneratorConfig`; generating day `k` is a pure
function of it and `k`. The dirt catalogue is data (not code scattered through the factories) so
that `--help`, `docs/data-contract.md` and the summary all list the same kinds and default rates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from customer360.contract import ORDERS, SUPPORT_TICKETS, USERS

ALL_SOURCES = (USERS.name, ORDERS.name, SUPPORT_TICKETS.name)

# Hard limits keep every id inside its reserved range (see the id ranges in datagen/world.py) and runs sane.
MAX_USERS = 100_000_000
MAX_DAYS = 3650
DEFAULT_START_DATE = dt.date(2026, 11, 1)  # fixed, never "today": same arguments -> same bytes
DEFAULT_SEED = 42
DEFAULT_ROWS_PER_OBJECT = 1_000_000
MAX_DAILY_VOLUME = 100.0


@dataclass(frozen=True)
class DirtKind:
    """One kind of realistic dirt: how often it is injected and into which sources."""

    name: str
    default_rate: float  # probability per clean row of the source(s) below
    sources: tuple[str, ...]
    description: str


DIRT_KINDS: tuple[DirtKind, ...] = (
    DirtKind(
        "duplicate_row",
        0.01,
        ALL_SOURCES,
        "an exact copy of a clean row, written right after it (counts once)",
    ),
    DirtKind(
        "later_version",
        0.01,
        ALL_SOURCES,
        "a second version of the same id in the same object with a higher updated_at and a changed "
        "attribute (users: email/phone/address; orders: next status or corrected amount; tickets: "
        "next status, escalated priority or a csat); the later one is current",
    ),
    DirtKind(
        "email_case_space",
        0.02,
        (USERS.name,),
        "email with stray upper case and leading/trailing spaces (trim + lower-case restores it)",
    ),
    DirtKind(
        "empty_optional",
        0.03,
        (USERS.name,),
        "one optional field (email, phone, address or country) left empty (= NULL)",
    ),
    DirtKind(
        "orphan_user_id",
        0.005,
        (ORDERS.name, SUPPORT_TICKETS.name),
        "an extra order/ticket whose user_id matches no user (ids >= 9,000,000,000)",
    ),
    DirtKind(
        "resolved_before_created",
        0.005,
        (SUPPORT_TICKETS.name,),
        "an extra resolved/closed ticket whose resolved_at is 1-72 h before its created_at (invalid)",
    ),
    DirtKind(
        "negative_amount",
        0.005,
        (ORDERS.name,),
        "an extra order with a negative amount (invalid)",
    ),
    DirtKind(
        "unknown_status",
        0.005,
        (ORDERS.name,),
        "an extra order whose status is not in the contract's enum (invalid)",
    ),
    DirtKind(
        "unparseable",
        0.002,
        ALL_SOURCES,
        "a corrupt copy of a clean row that does not fit the contract: wrong field count, "
        "unparseable number, unparseable timestamp, invalid UTF-8 byte or empty required field "
        "(the loader must reject it)",
    ),
)
DIRT_BY_NAME: dict[str, DirtKind] = {kind.name: kind for kind in DIRT_KINDS}

# Variants of `unparseable`, drawn uniformly; the summary counts each.
UNPARSEABLE_VARIANTS = (
    "wrong_field_count",
    "bad_number",
    "bad_timestamp",
    "invalid_utf8",
    "empty_required",
)


def kinds_for(source: str) -> tuple[DirtKind, ...]:
    """Dirt kinds injected into `source`, in the fixed order the injector draws them."""
    return tuple(kind for kind in DIRT_KINDS if source in kind.sources)


def effective_rates(multiplier: float, overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Rate of every kind: default x multiplier (capped at 1), then explicit per-kind overrides."""
    if multiplier < 0:
        raise ValueError(f"--dirt-rate must be >= 0, got {multiplier}")
    rates = {kind.name: min(1.0, kind.default_rate * multiplier) for kind in DIRT_KINDS}
    for name, rate in (overrides or {}).items():
        if name not in DIRT_BY_NAME:
            raise ValueError(f"unknown dirt kind {name!r}; known kinds: {', '.join(DIRT_BY_NAME)}")
        if not 0 <= rate <= 1:
            raise ValueError(f"rate of dirt kind {name!r} must be within 0..1, got {rate}")
        rates[name] = rate
    return rates


@dataclass(frozen=True)
class GeneratorConfig:
    """The parameters a day's bytes depend on (and nothing else: no clock, no environment)."""

    users: int
    seed: int = DEFAULT_SEED
    start_date: dt.date = DEFAULT_START_DATE
    dirt_rates: dict[str, float] = field(default_factory=lambda: effective_rates(1.0))
    rows_per_object: int = DEFAULT_ROWS_PER_OBJECT
    # Multiplier on the volume of every day after day 0 (new, updated users, orders, tickets).
    daily_volume: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.users <= MAX_USERS:
            raise ValueError(f"--users must be within 1..{MAX_USERS:,}, got {self.users}")
        if self.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {self.seed}")
        if self.rows_per_object < 1:
            raise ValueError(f"--rows-per-object must be >= 1, got {self.rows_per_object}")
        if not 0 < self.daily_volume <= MAX_DAILY_VOLUME:
            raise ValueError(
                f"--daily-volume must be within (0, {MAX_DAILY_VOLUME:g}], got {self.daily_volume}"
            )
        missing = set(DIRT_BY_NAME) - set(self.dirt_rates)
        if missing:
            raise ValueError(f"dirt rates missing for: {', '.join(sorted(missing))}")

    def rate(self, kind: str) -> float:
        return self.dirt_rates[kind]
