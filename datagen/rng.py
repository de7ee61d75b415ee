"""Seeded randomness addressed by name: every fact is drawn from an RNG keyed by what it describes.

A user's profile comes from `rng_for(seed, Stream.USER, user_id)`, an order placed on day j from
`rng_for(seed, Stream.ORDER, j, i)`, and so on. Nothing is remembered between rows, so memory stays
flat at any scale and any day can be regenerated alone (`--day K`) with the same bytes.
"""

from __future__ import annotations

import random
from enum import IntEnum

_MASK64 = (1 << 64) - 1


class Stream(IntEnum):
    """Namespaces of the keyed RNGs; values are part of the data, never renumber them."""

    POOLS = 1
    USER = 2
    USER_UPDATE = 3
    NEW_USERS = 4
    UPDATED_USERS = 5
    ORDER = 6
    ORDER_COUNT = 7
    TICKET = 8
    TICKET_COUNT = 9
    DIRT = 10


def _splitmix64(x: int) -> int:
    """SplitMix64 finaliser: a cheap, well-mixed 64-bit hash (Steele et al., 2014)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def mix(*parts: int) -> int:
    """Hash integers (negative ones too) into one 64-bit key; order matters."""
    key = 0
    for part in parts:
        key = _splitmix64(key ^ (part & _MASK64))
    return key


def rng_for(*parts: int) -> random.Random:
    """A Mersenne Twister seeded by the key of `parts` (about 5 microseconds to build)."""
    return random.Random(mix(*parts))


def pick_weighted(rng: random.Random, values: tuple[str, ...], cumulative: tuple[float, ...]) -> str:
    """Pick from `values` with cumulative weights normalised to end at 1.0 (one draw)."""
    x = rng.random()
    for value, bound in zip(values, cumulative, strict=True):
        if x < bound:
            return value
    return values[-1]


def cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(weights)
    running = 0.0
    bounds = []
    for weight in weights:
        running += weight
        bounds.append(running / total)
    return tuple(bounds)
