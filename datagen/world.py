"""The shape of the dataset in time: days, how many users exist, how many orders/tickets per day, ids.

Day 0 is `start_date`. Day 0's objects are the initial full export: every user, their order and
ticket history, and the orders/tickets of the last `WINDOW` days still in flight. Day k > 0 is a
daily delta. Counts per day come from keyed RNGs, so `users_as_of(k)` costs O(k), never O(users).

Id scheme (all bigint, unique per source, documented in docs/data-contract.md):
- users: 1..N on day 0, then consecutive per day in sign-up order.
- history orders/tickets of day-0 user u: `u * 10 + n` (n < 10), below 10**10.
- orders/tickets placed on day j (j >= -WINDOW): `(j + WINDOW + 1) * 10**10 + i`, i = 1..count(j).
- extra dirt rows (anomalies) of day k: `(k + WINDOW + 1) * 10**10 + 9 * 10**9 + n`.
- user ids of orphan orders/tickets: >= ORPHAN_USER_ID_BASE, never a real user.
"""

from __future__ import annotations

from datagen.config import GeneratorConfig
from datagen.rng import Stream, rng_for
from datagen.timefmt import DAY, day_start

WINDOW = 7  # orders and tickets finish their lifecycle within 7 days of being created
HISTORY_DAYS = 3 * 365  # day-0 users signed up during the 3 years before start_date
HISTORY_SLOTS = 10  # history orders/tickets per user are capped below this
ID_DAY_STRIDE = 10**10
ANOMALY_SERIAL_BASE = 9 * 10**9
ORPHAN_USER_ID_BASE = 9_000_000_000

NEW_USERS_PER_DAY = 0.01  # of the day-0 user count
UPDATED_USERS_PER_DAY = 0.01  # of the users existing the day before
ORDERS_PER_USER_DAY = 0.01
TICKETS_PER_USER_DAY = 0.003
HISTORY_ORDERS_MEAN = 3.0  # mean of the exponential whose floor is a user's history order count
HISTORY_TICKETS_MEAN = 1.0


def _jitter(seed: int, stream: Stream, day: int) -> float:
    """A day's volume factor in [0.8, 1.2): daily volumes vary but are reproducible."""
    return 0.8 + 0.4 * rng_for(seed, stream, day).random()


class World:
    """Day arithmetic and volumes of one dataset (one GeneratorConfig)."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.users = config.users
        self.seed = config.seed
        self.origin = day_start(config.start_date)
        self.history_start = self.origin - HISTORY_DAYS * DAY
        self.history_end = self.origin - (WINDOW + 1) * DAY  # history lifecycles end before day -WINDOW
        self._users_as_of = [config.users]  # index k: users existing at the end of day k

    def _volume(self, day: int) -> float:
        """The days after day 0 carry `daily_volume` times the usual volume; day 0 never changes."""
        return self.config.daily_volume if day >= 1 else 1.0

    # --- time -------------------------------------------------------------------------------
    def day_start(self, day: int) -> int:
        return self.origin + day * DAY

    def cutoff(self, day: int) -> int:
        """First second after day `day`: every timestamp in day's objects is below it."""
        return self.origin + (day + 1) * DAY

    # --- users ------------------------------------------------------------------------------
    def new_users(self, day: int) -> int:
        """Users who sign up during day `day` (>= 1); day 0 holds the initial `users`."""
        if day <= 0:
            return 0
        jitter = _jitter(self.seed, Stream.NEW_USERS, day)
        return round(self.users * NEW_USERS_PER_DAY * self._volume(day) * jitter)

    def users_as_of(self, day: int) -> int:
        """Number of users (= highest user id) at the end of `day`."""
        if day <= 0:
            return self.users
        while len(self._users_as_of) <= day:
            self._users_as_of.append(self._users_as_of[-1] + self.new_users(len(self._users_as_of)))
        return self._users_as_of[day]

    def updated_users(self, day: int) -> int:
        if day <= 0:
            return 0
        existing = self.users_as_of(day - 1)
        return min(
            existing,
            round(
                existing
                * UPDATED_USERS_PER_DAY
                * self._volume(day)
                * _jitter(self.seed, Stream.UPDATED_USERS, day)
            ),
        )

    def signup_day(self, user_id: int) -> tuple[int, int, int]:
        """(day, index within the day, sign-ups that day) of `user_id`."""
        if user_id <= self.users:
            return 0, user_id - 1, self.users
        day = 1
        while self.users_as_of(day) < user_id:
            day += 1
        first = self.users_as_of(day - 1) + 1
        return day, user_id - first, self.users_as_of(day) - first + 1

    def customers_on(self, day: int) -> int:
        """Users who can place an order or open a ticket on `day` (those existing the day before)."""
        return self.users if day <= 0 else self.users_as_of(day - 1)

    # --- orders and tickets -----------------------------------------------------------------
    def orders_on(self, day: int) -> int:
        """Orders placed during `day` (any day >= -WINDOW), not counting history orders."""
        return round(
            self.customers_on(day)
            * ORDERS_PER_USER_DAY
            * self._volume(day)
            * _jitter(self.seed, Stream.ORDER_COUNT, day)
        )

    def tickets_on(self, day: int) -> int:
        return round(
            self.customers_on(day)
            * TICKETS_PER_USER_DAY
            * self._volume(day)
            * _jitter(self.seed, Stream.TICKET_COUNT, day)
        )


def day_item_id(day: int, serial: int) -> int:
    """Id of the `serial`-th (1-based) order or ticket created on `day`."""
    return (day + WINDOW + 1) * ID_DAY_STRIDE + serial


def anomaly_id(day: int, serial: int) -> int:
    """Id of the `serial`-th extra dirt row (orphan, invalid) of `day`'s objects."""
    return (day + WINDOW + 1) * ID_DAY_STRIDE + ANOMALY_SERIAL_BASE + serial


def history_id(user_id: int, slot: int) -> int:
    return user_id * HISTORY_SLOTS + slot
