"""Injects the catalogued dirt (config.DIRT_KINDS) into one source's stream of clean rows for one day.

Each dirt kind hits each clean row independently with its rate. Rather than one draw per kind and
row, the injector draws the geometric gap to a kind's next hit (the same distribution, and the
common dirt-free row costs one comparison). All draws come from the injector's own RNG (seed,
DIRT, source, day): the clean rows are identical whatever the rates, and the same arguments give
the same dirt. A clean row and the dirt it triggers form one *group* that is written to one
object, in this order: the (possibly mutated) clean row, its exact duplicate, its later version,
extra anomaly rows (new ids), a corrupt copy. The summary counts each kind actually written; a
hit that cannot apply (an email already emptied, no time left in the day for a later version)
is skipped and not counted.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable

from customer360.contract import ORDERS, SOURCES, SUPPORT_TICKETS, TICKET_PRIORITIES, USERS
from datagen.batches import BatchWriter, GroupStats
from datagen.config import UNPARSEABLE_VARIANTS, GeneratorConfig, kinds_for
from datagen.lifecycle import CSAT_SCORES, order_events, state_at
from datagen.orders import amount_text, draw_cents, order_row
from datagen.pools import CURRENCIES
from datagen.rng import Stream, rng_for
from datagen.tickets import draw_ticket, ticket_row
from datagen.timefmt import DAY, HOUR, iso
from datagen.world import ORPHAN_USER_ID_BASE, World, anomaly_id

SOURCE_INDEX = {name: index for index, name in enumerate(SOURCES)}
UNKNOWN_ORDER_STATUSES = ("on_hold", "backordered", "awaiting_payment", "lost_in_transit")
OTHER_EMAIL_DOMAINS = ("gmail.com", "outlook.com", "proton.me", "icloud.com", "fastmail.com")
ORDER_NEXT_STATUS = {"placed": "shipped", "shipped": "delivered"}
USER_OPTIONAL_FIELDS = tuple(i for i, column in enumerate(USERS.columns) if not column.required)
# Column positions, from the contract's headers (a reordered contract moves them, never breaks them).
EMAIL, PHONE, USER_UPDATED = (USERS.header.index(c) for c in ("email", "phone", "updated_at"))
AMOUNT, ORDER_STATUS, ORDER_UPDATED = (ORDERS.header.index(c) for c in ("amount", "status", "updated_at"))
TICKET_STATUS, PRIORITY, CSAT, TICKET_UPDATED = (
    SUPPORT_TICKETS.header.index(c) for c in ("status", "priority", "csat", "updated_at")
)
LATER_VERSION_MAX_DELAY = 7 * DAY
NEVER = 1 << 62  # row index of the next hit of a kind whose rate is 0
ANOMALY_KINDS = ("orphan_user_id", "resolved_before_created", "negative_amount", "unknown_status")
# Per source: the text field that gets a Latin-1 byte in the `invalid_utf8` variant.
INVALID_UTF8_FIELD = {"users": 1, "orders": 4, "support_tickets": 6}


def parse_iso(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


class DirtInjector:
    """Turns clean rows of (source, day) into written groups with dirt, counting what it injected."""

    def __init__(self, config: GeneratorConfig, world: World, source: str, day: int, writer: BatchWriter):
        self.world = world
        self.source = source
        self.day = day
        self.writer = writer
        self.rng = rng_for(config.seed, Stream.DIRT, SOURCE_INDEX[source], day)
        self.kinds = tuple((kind.name, config.rate(kind.name)) for kind in kinds_for(source))
        self.row_index = 0  # clean rows seen so far
        self.next_hit = {name: self._gap(rate) for name, rate in self.kinds}
        self.next_any = min(self.next_hit.values(), default=NEVER)
        self.cutoff = world.cutoff(day)
        self.anomalies = 0
        self.required = tuple(i for i, column in enumerate(SOURCES[source].columns) if column.required)
        self._later: Callable[[list[str], random.Random], list[str] | None] = {
            "users": self._later_user,
            "orders": self._later_order,
            "support_tickets": self._later_ticket,
        }[source]

    def add(self, row: list[str], is_new: bool) -> None:
        """Write clean `row` (a brand-new id when `is_new`) with whatever dirt the draws trigger."""
        index = self.row_index
        self.row_index = index + 1
        if index < self.next_any:
            self.writer.add_clean(row, is_new)
            return
        rng = self.rng
        hits = []
        for name, rate in self.kinds:  # catalogue order: the draws below are reproducible
            if self.next_hit[name] == index:
                hits.append(name)
                self.next_hit[name] = index + 1 + self._gap(rate)
        self.next_any = min(self.next_hit.values())
        stats = GroupStats(new_ids=int(is_new))
        written = list(row)
        if "empty_optional" in hits:
            written[USER_OPTIONAL_FIELDS[int(rng.random() * len(USER_OPTIONAL_FIELDS))]] = ""
            stats.count("empty_optional")
        if "email_case_space" in hits and written[EMAIL]:
            written[EMAIL] = self._messy_email(written[EMAIL], rng)
            stats.count("email_case_space")
        group = [written]
        if "duplicate_row" in hits:
            group.append(written)
            stats.count("duplicate_row")
        if "later_version" in hits:
            later = self._later(row, rng)
            if later is not None:
                group.append(later)
                stats.count("later_version")
        for kind in ANOMALY_KINDS:
            if kind in hits:
                group.append(self._anomaly(kind, rng))
                stats.count(kind)
                stats.new_ids += 1
                stats.distinct_ids += 1
        if "unparseable" in hits:
            variant = UNPARSEABLE_VARIANTS[int(rng.random() * len(UNPARSEABLE_VARIANTS))]
            group.append(self._corrupt(row, variant, rng))
            stats.count("unparseable")
            stats.variants[variant] = 1
            stats.rejected += 1
        self.writer.add_group(group, stats)

    def _gap(self, rate: float) -> int:
        """Clean rows before the kind's next hit: geometric, as if each row were a Bernoulli(rate)."""
        if rate <= 0:
            return NEVER
        if rate >= 1:
            return 0
        return int(math.log(1.0 - self.rng.random()) / math.log(1.0 - rate))

    # --- mutations ------------------------------------------------------------------------------
    @staticmethod
    def _messy_email(email: str, rng: random.Random) -> str:
        chars = [ch.upper() if rng.random() < 0.35 else ch for ch in email]
        if chars == list(email):
            chars[0] = chars[0].upper() if chars[0].isalpha() else chars[0]
        lead, trail = " " * (1 + int(rng.random() * 2)), " " * int(rng.random() * 3)
        return f"{lead}{''.join(chars)}{trail}"

    def _later_time(self, updated_at: str, rng: random.Random) -> str | None:
        """A time after `updated_at` (at most 7 days) that is still inside this day's objects."""
        old = parse_iso(updated_at)
        room = min(LATER_VERSION_MAX_DELAY, self.cutoff - 1 - old)
        if room < 1:
            return None
        return iso(old + 1 + int(rng.random() * room))

    def _later_user(self, row: list[str], rng: random.Random) -> list[str] | None:
        later = list(row)
        if rng.random() < 0.5:
            local = row[EMAIL].partition("@")[0]
            domains = [d for d in OTHER_EMAIL_DOMAINS if not row[EMAIL].endswith("@" + d)]
            later[EMAIL] = f"{local}@{domains[int(rng.random() * len(domains))]}"
        else:
            digits = str(1_000_000_000 + int(rng.random() * 8_999_999_999))
            later[PHONE] = f"{row[PHONE].partition(' ')[0]} {digits[:3]} {digits[3:6]} {digits[6:]}"
        stamp = self._later_time(row[USER_UPDATED], rng)
        if stamp is None:
            return None
        later[USER_UPDATED] = stamp
        return later

    def _later_order(self, row: list[str], rng: random.Random) -> list[str] | None:
        later = list(row)
        if row[ORDER_STATUS] in ORDER_NEXT_STATUS:
            later[ORDER_STATUS] = ORDER_NEXT_STATUS[row[ORDER_STATUS]]
        else:  # finished order: a price correction (10 % goodwill refund)
            cents = round(float(row[AMOUNT]) * 100)
            later[AMOUNT] = amount_text(cents - cents // 10)
        stamp = self._later_time(row[ORDER_UPDATED], rng)
        if stamp is None:
            return None
        later[ORDER_UPDATED] = stamp
        return later

    def _later_ticket(self, row: list[str], rng: random.Random) -> list[str] | None:
        later = list(row)
        status, priority = row[TICKET_STATUS], row[PRIORITY]
        if status == "open":
            later[TICKET_STATUS] = "pending"
        elif status == "pending" and priority != TICKET_PRIORITIES[-1]:
            later[PRIORITY] = TICKET_PRIORITIES[TICKET_PRIORITIES.index(priority) + 1]
        elif status in ("resolved", "closed"):
            later[CSAT] = str(CSAT_SCORES[int(rng.random() * len(CSAT_SCORES))])
        stamp = self._later_time(row[TICKET_UPDATED], rng)
        if stamp is None:
            return None
        later[TICKET_UPDATED] = stamp
        return later

    # --- extra rows -----------------------------------------------------------------------------
    def _anomaly(self, kind: str, rng: random.Random) -> list[str]:
        """An extra record with a new id: an orphan or an invalid order/ticket, valid otherwise."""
        self.anomalies += 1
        record_id = anomaly_id(self.day, self.anomalies)
        start = self.world.day_start(self.day)
        created = start + int(rng.random() * DAY)
        if kind == "orphan_user_id":
            user_id = ORPHAN_USER_ID_BASE + int(rng.random() * 1_000_000_000)
        else:
            user_id = 1 + int(rng.random() * self.world.customers_on(self.day))
        if self.source == "orders":
            cents = draw_cents(rng)
            currency = CURRENCIES[int(rng.random() * len(CURRENCIES))]
            state = state_at(order_events(rng, created), self.cutoff)
            if kind == "negative_amount":
                cents = -cents
            elif kind == "unknown_status":
                unknown = UNKNOWN_ORDER_STATUSES[int(rng.random() * len(UNKNOWN_ORDER_STATUSES))]
                state = (state[0], unknown)
            return order_row(record_id, user_id, created, cents, currency, state)
        priority, channel, life = draw_ticket(rng, created)
        if kind == "resolved_before_created":
            resolved = created - HOUR - int(rng.random() * 71 * HOUR)
            updated = created + int(rng.random() * (self.cutoff - created))
            status = "resolved" if rng.random() < 0.5 else "closed"
            csat = str(CSAT_SCORES[int(rng.random() * len(CSAT_SCORES))])
            return [
                str(record_id),
                str(user_id),
                iso(created),
                iso(resolved),
                status,
                priority,
                channel,
                csat,
                iso(updated),
            ]
        return ticket_row(record_id, user_id, priority, channel, life, self.cutoff)

    def _corrupt(self, row: list[str], variant: str, rng: random.Random) -> list[str]:
        """A copy of `row` that no contract-abiding parser accepts (the loader must reject it)."""
        bad = list(row)
        if variant == "wrong_field_count":
            return bad[:-1] if rng.random() < 0.5 else [*bad, bad[-1]]
        if variant == "bad_number":
            if self.source == "users":
                bad[0] = f"U{bad[0]}"
            elif self.source == "orders":
                bad[3] = bad[3].replace(".", ",")  # a European decimal comma
            else:
                bad[7] = f"{1 + int(rng.random() * 4)}.5"  # csat is a smallint
        elif variant == "bad_timestamp":
            stamp = bad[-1]
            bad[-1] = f"{stamp[:5]}13{stamp[7:]}" if rng.random() < 0.5 else f"{stamp[:8]}32{stamp[10:]}"
        elif variant == "invalid_utf8":
            field = INVALID_UTF8_FIELD[self.source]
            # U+DCE9 is written as the lone byte 0xE9 (Latin-1 "é") by the surrogateescape encoder.
            bad[field] = bad[field][:1] + "\udce9" + bad[field][1:]
        else:  # empty_required
            bad[self.required[int(rng.random() * len(self.required))]] = ""
        return bad
