"""Pools of realistic names, streets, cities and email domains, drawn once per seed from Faker.

Faker costs tens of microseconds per call, far too slow for millions of rows. A pool of a few
hundred values per field and locale, combined per user by a seeded RNG, gives hundreds of
thousands of plausible distinct combinations per country at the cost of a list lookup.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker

from datagen.rng import Stream, cumulative, mix

FIRST_NAMES = 400
LAST_NAMES = 600
STREETS = 500
CITIES = 300
POSTCODES = 500
DOMAIN_DRAWS = 60  # free-mail domains per locale, deduplicated (a locale has 3-15 of them)


@dataclass(frozen=True)
class Country:
    """A market the shop sells to: ISO code, Faker locale, billing currency, calling code, share."""

    code: str
    locale: str
    currency: str
    calling_code: str
    weight: float


COUNTRIES: tuple[Country, ...] = (
    Country("US", "en_US", "USD", "1", 35),
    Country("GB", "en_GB", "GBP", "44", 15),
    Country("DE", "de_DE", "EUR", "49", 12),
    Country("FR", "fr_FR", "EUR", "33", 10),
    Country("ES", "es_ES", "EUR", "34", 6),
    Country("IT", "it_IT", "EUR", "39", 6),
    Country("NL", "nl_NL", "EUR", "31", 5),
    Country("CA", "en_CA", "USD", "1", 6),
    Country("AU", "en_AU", "USD", "61", 5),
)
COUNTRY_BOUNDS = cumulative(tuple(country.weight for country in COUNTRIES))
CURRENCIES = ("USD", "EUR", "GBP")


@dataclass(frozen=True)
class LocalePool:
    """Values of one locale; `*_ascii` are lower-case ASCII forms used to build emails."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    first_ascii: tuple[str, ...]
    last_ascii: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    postcodes: tuple[str, ...]
    email_domains: tuple[str, ...]


def ascii_slug(text: str) -> str:
    """`Grégoire-Müller` -> `gregoiremuller`: what a person would type into an email address."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "user"


def _stable_faker(locale: str) -> Faker:
    """A Faker whose element lists have a fixed order.

    Some providers build lists from sets (faker 40's it_IT `cities` is `list({...})`), so their
    order, and every draw from them, changes with PYTHONHASHSEED from one process to the next.
    Sorting every list of strings the providers hold makes a seeded draw reproducible.
    """
    fake = Faker(locale)
    for provider in fake.get_providers():
        for name in dir(provider):
            if name.startswith("_"):
                continue
            value = getattr(provider, name, None)
            if isinstance(value, list | tuple) and value and all(isinstance(item, str) for item in value):
                setattr(provider, name, sorted(value))
    return fake


def _locale_pool(seed: int, index: int, locale: str) -> LocalePool:
    fake = _stable_faker(locale)
    fake.seed_instance(mix(seed, Stream.POOLS, index))
    first = tuple(fake.first_name() for _ in range(FIRST_NAMES))
    last = tuple(fake.last_name() for _ in range(LAST_NAMES))
    # sorted(set(...)) keeps the domain order independent of hashing.
    domains = tuple(sorted({fake.free_email_domain() for _ in range(DOMAIN_DRAWS)}))
    return LocalePool(
        first_names=first,
        last_names=last,
        first_ascii=tuple(ascii_slug(name) for name in first),
        last_ascii=tuple(ascii_slug(name) for name in last),
        streets=tuple(fake.street_name() for _ in range(STREETS)),
        cities=tuple(fake.city() for _ in range(CITIES)),
        postcodes=tuple(fake.postcode() for _ in range(POSTCODES)),
        email_domains=domains,
    )


@lru_cache(maxsize=4)
def pools_for(seed: int) -> tuple[LocalePool, ...]:
    """One pool per entry of COUNTRIES, deterministic for `seed` (and the pinned Faker version)."""
    return tuple(_locale_pool(seed, index, country.locale) for index, country in enumerate(COUNTRIES))
