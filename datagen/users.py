"""Row factory of the `users` source: a user's profile is a pure function of (seed, user_id).

The first draw of a user's RNG is the country, so `country_of` (used by orders for the billing
currency) agrees with `profile` without building the whole profile.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from typing import NamedTuple

from datagen.pools import COUNTRIES, COUNTRY_BOUNDS, Country, LocalePool
from datagen.rng import Stream, rng_for
from datagen.timefmt import DAY, iso
from datagen.world import World

PROFILE_EDITED_SHARE = 0.3  # day-0 users who edited their profile once after signing up


class UserProfile(NamedTuple):
    user_id: int
    country: Country
    pool: LocalePool
    first: int  # pool indices of the name, so a new email still matches the person
    last: int
    name: str
    email: str
    phone: str
    address: str
    created_at: int
    updated_at: int


def _country_index(rng: random.Random) -> int:
    return min(bisect.bisect_right(COUNTRY_BOUNDS, rng.random()), len(COUNTRIES) - 1)


def country_of(seed: int, user_id: int) -> Country:
    """The user's country (first draw of the user's RNG)."""
    return COUNTRIES[_country_index(rng_for(seed, Stream.USER, user_id))]


def _email(rng: random.Random, pool: LocalePool, first: int, last: int) -> str:
    f, l_ = pool.first_ascii[first], pool.last_ascii[last]
    pattern = int(rng.random() * 5)
    local = (f"{f}.{l_}", f"{f}{l_}", f"{f[0]}{l_}", f"{f}_{l_}", f"{l_}.{f}")[pattern]
    if rng.random() < 0.5:
        local += str(int(rng.random() * 1000))
    return f"{local}@{pool.email_domains[int(rng.random() * len(pool.email_domains))]}"


def _phone(rng: random.Random, country: Country) -> str:
    digits = 1_000_000_000 + int(rng.random() * 8_999_999_999)
    text = str(digits)
    return f"+{country.calling_code} {text[:3]} {text[3:6]} {text[6:]}"


def _address(rng: random.Random, pool: LocalePool) -> str:
    house = 1 + int(rng.random() * 250)
    street = pool.streets[int(rng.random() * len(pool.streets))]
    postcode = pool.postcodes[int(rng.random() * len(pool.postcodes))]
    city = pool.cities[int(rng.random() * len(pool.cities))]
    return f"{house} {street}, {postcode} {city}"


def profile(world: World, pools: tuple[LocalePool, ...], user_id: int) -> tuple[UserProfile, random.Random]:
    """The user's base profile and its RNG, positioned for the user's history draws."""
    rng = rng_for(world.seed, Stream.USER, user_id)
    index = _country_index(rng)
    country, pool = COUNTRIES[index], pools[index]
    first = int(rng.random() * len(pool.first_names))
    last = int(rng.random() * len(pool.last_names))
    name = f"{pool.first_names[first]} {pool.last_names[last]}"
    email = _email(rng, pool, first, last)
    phone = _phone(rng, country)
    address = _address(rng, pool)
    day, position, signups = world.signup_day(user_id)
    if day == 0:
        # Ids grow with sign-up time: user u signs up inside the u-th slice of the history.
        slot = (world.history_end - world.history_start) / signups
        created = world.history_start + int((position + rng.random()) * slot)
        edited = rng.random() < PROFILE_EDITED_SHARE
        updated = created + int(rng.random() * (world.history_end - created)) if edited else created
    else:
        slot = DAY / signups
        created = world.day_start(day) + int((position + rng.random()) * slot)
        updated = created
    return UserProfile(
        user_id, country, pool, first, last, name, email, phone, address, created, updated
    ), rng


def user_row(user: UserProfile, updated_at: int | None = None, **changes: str) -> list[str]:
    """CSV fields in contract order; `changes` override email/phone/address."""
    return [
        str(user.user_id),
        user.name,
        changes.get("email", user.email),
        changes.get("phone", user.phone),
        changes.get("address", user.address),
        user.country.code,
        iso(user.created_at),
        iso(user.updated_at if updated_at is None else updated_at),
    ]


def updated_user_row(world: World, pools: tuple[LocalePool, ...], user_id: int, day: int) -> list[str]:
    """A later version of an existing user on `day`: a new email, address (moved) or phone."""
    user, _ = profile(world, pools, user_id)
    rng = rng_for(world.seed, Stream.USER_UPDATE, user_id, day)
    updated_at = world.day_start(day) + int(rng.random() * DAY)
    what = rng.random()
    if what < 0.4:
        return user_row(user, updated_at, email=_email(rng, user.pool, user.first, user.last))
    if what < 0.75:
        return user_row(user, updated_at, address=_address(rng, user.pool))
    return user_row(user, updated_at, phone=_phone(rng, user.country))


def new_users(world: World, pools: tuple[LocalePool, ...], day: int) -> Iterator[list[str]]:
    """Rows of the users who sign up during `day` (>= 1), in id order."""
    for user_id in range(world.users_as_of(day - 1) + 1, world.users_as_of(day) + 1):
        yield user_row(profile(world, pools, user_id)[0])


def updated_user_ids(world: World, day: int) -> list[int]:
    """Ids (sorted) of the existing users who change their profile during `day` (>= 1)."""
    rng = rng_for(world.seed, Stream.UPDATED_USERS, day, 1)
    existing = world.users_as_of(day - 1)
    return sorted(rng.sample(range(1, existing + 1), world.updated_users(day)))
