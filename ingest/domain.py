"""The contract's value domain: what a value must be beyond "PostgreSQL's input function reads it".

PostgreSQL reads more than the contract allows: `now`, `today`, `tomorrow`, `yesterday`, `epoch`
and `infinity` are timestamps to it, `NaN` a numeric, and `12.555` quietly becomes `12.56` in a
numeric(14,2). The loader keeps its single typed COPY (parsing every value again as text would
cost a second pass; see docs/loader.md, "Performance") and finds what falls outside the domain in
two set-based steps, plus one cheap screen:

1. **in the COPY**, a WHERE clause (:func:`copy_filter`) holds back the *suspects*, judged by
   their typed values: timestamps outside [TIMESTAMP_MIN, TIMESTAMP_MAX) (which catches infinity,
   epoch and every sentinel date) or equal to the transaction's start (what `now` turns into),
   numerics that are NaN. A few comparisons per row while the COPY runs, no query afterwards; a
   clean object pays nothing more. The loader sees how many rows were held back (COPY's count
   against its notices of skipped rows) and, if any, finds them in pass 2 by line number;
2. **the screen**: `today`, `tomorrow` and `yesterday` (alone or with a time, `yesterday 10:00`)
   become ordinary timestamps of the load's days, and a decimal that the column rounds leaves no
   trace in its typed value. Neither can be seen after the COPY, so while the bytes stream by,
   each ~1 MiB block is searched once (C-level ``bytes`` operations, no per-row work) for the
   only spellings that can produce them (:class:`Screen`); a block that contains one has all its
   lines checked in step 3. A screen without false negatives makes the checks exact; a false
   positive (a street called "Today") only costs that block a look;
3. **pass 2** re-reads the held-back and screened lines as text into a temporary table where
   :func:`rule_checks` name the column and the rule, set-based. What breaks a rule moves to
   `_rejected_rows` (a screened row is deleted from staging); a held-back row that breaks none (a
   real timestamp that happens to equal the load's start) is inserted after all.

Every timestamp is read with the session's TimeZone set to UTC and DateStyle to year-first
(:data:`SESSION_SETTINGS`), so a timestamp without a zone means UTC whatever the server's
defaults, and `01/11/2026` (day or month first?) is a type error instead of a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg2 import sql

from customer360.contract import TIMESTAMP_MAX, TIMESTAMP_MIN, Column, Source

# PostgreSQL's special timestamp inputs; a value that uses one is not a point in time of the data.
SPECIAL_WORDS = ("now", "today", "tomorrow", "yesterday", "epoch", "infinity")
# The ones whose typed value looks like data (the others land on now() or outside the range).
RELATIVE_WORDS = ("today", "tomorrow", "yesterday")
SESSION_SETTINGS = sql.SQL("set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'")
VALUE_PREVIEW = 200  # characters of a bad value quoted in a reason

_NUMERIC_SCALE = re.compile(r"^numeric\(\d+,(\d+)\)$")
_MANY_DECIMALS = re.compile(rb"\.[0-9_]{3}")  # a literal first byte: re scans for it at C speed
_RELATIVE_BYTES = tuple(word.encode() for word in RELATIVE_WORDS)
_WORD_LETTERS = (b"y", b"Y", b"w", b"W")  # every relative word has a `y` or a `w`


def _is_timestamp(column: Column) -> bool:
    return column.pg_type == "timestamptz"


def _scale(column: Column) -> int | None:
    """Decimal places a numeric column keeps (None for other types and unconstrained numerics)."""
    match = _NUMERIC_SCALE.match(column.pg_type)
    return int(match.group(1)) if match else None


def _is_numeric(column: Column) -> bool:
    return column.pg_type == "numeric" or column.pg_type.startswith("numeric(")


@dataclass(frozen=True)
class Screen:
    """Does a block contain a spelling that may hide a relative timestamp, or a decimal that the
    column would round? (The module docstring, step 2.) No false negatives; a few C-level scans
    of the block, each guarded by a cheaper one where possible:

    - a relative word, in any case: only looked for (case-folded) when the block has a `y` or a
      `w` at all, which orders lines, for one, never do;
    - three decimal digits or more (`.555`, and `_` PostgreSQL accepts between digits);
    - a negative exponent (`e-`, `E-`), the other way to write more decimals (`12555e-3`).
    """

    words: bool
    decimals: bool

    @classmethod
    def of(cls, source: Source) -> Screen | None:
        words = any(_is_timestamp(c) for c in source.columns)
        decimals = any(_scale(c) is not None for c in source.columns)
        return cls(words, decimals) if words or decimals else None

    def hits(self, block: bytes) -> bool:
        if self.decimals and (_MANY_DECIMALS.search(block) or b"e-" in block or b"E-" in block):
            return True
        if self.words and any(letter in block for letter in _WORD_LETTERS):
            lowered = block.lower()
            return any(word in lowered for word in _RELATIVE_BYTES)
        return False


def copy_filter(source: Source, now: str) -> sql.Composable | None:
    """The WHERE clause of the typed COPY that holds back the suspects (step 1), or None.

    `now` is the transaction's start as a literal (what `now` turns into; a constant keeps the
    per-row cost at a few integer comparisons). NULL is no suspect (optional columns).
    """
    terms: list[sql.Composable] = []
    for column in source.columns:
        c = sql.Identifier(column.name)
        if _is_timestamp(column):
            terms.append(
                sql.SQL("{c} < {lo} or {c} >= {hi} or {c} = {now}").format(
                    c=c,
                    lo=sql.SQL("{}::timestamptz").format(sql.Literal(TIMESTAMP_MIN)),
                    hi=sql.SQL("{}::timestamptz").format(sql.Literal(TIMESTAMP_MAX)),
                    now=sql.SQL("{}::timestamptz").format(sql.Literal(now)),
                )
            )
        elif _is_numeric(column):
            # a numeric(p,s) cannot hold an infinity (its input fails), only NaN
            special = "'NaN'" if _scale(column) is not None else "'NaN', 'Infinity', '-Infinity'"
            terms.append(sql.SQL("{} in ({})").format(c, sql.SQL(special)))
    if not terms:
        return None
    return sql.SQL("where not coalesce({}, false)").format(sql.SQL(" or ").join(terms))


def _reason(column: Column, template: str, value: sql.Composable) -> sql.Composable:
    """`<column>: <template with the quoted value>` as SQL."""
    return sql.SQL("format({}, left({}, {}))").format(
        sql.Literal(f"{column.name}: {template}"), value, sql.Literal(VALUE_PREVIEW)
    )


def rule_checks(source: Source, alias: str) -> list[sql.Composable]:
    """`when <value breaks a rule> then <reason>` per rule and column, over the text columns of
    `alias` (pass 2). Evaluate after the type checks: the casts assume the value parses."""
    words = "|".join(SPECIAL_WORDS)
    checks: list[sql.Composable] = []
    for column in source.columns:
        value = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column.name))
        if _is_timestamp(column):
            checks.append(
                sql.SQL("when {v} ~* {pattern} then {reason}").format(
                    v=value,
                    pattern=sql.Literal(f"(^|[^a-z])({words})($|[^a-z])"),
                    reason=_reason(column, 'special value "%s" is not a point in time', value),
                )
            )
            outside = f'"%s" is outside the accepted range {TIMESTAMP_MIN} to {TIMESTAMP_MAX}'
            checks.append(
                sql.SQL("when not ({v}::timestamptz >= {lo} and {v}::timestamptz < {hi}) then {r}").format(
                    v=value,
                    lo=sql.Literal(TIMESTAMP_MIN),
                    hi=sql.Literal(TIMESTAMP_MAX),
                    r=_reason(column, outside, value),
                )
            )
        elif _is_numeric(column):
            checks.append(
                sql.SQL("when {v}::numeric in ('NaN', 'Infinity', '-Infinity') then {reason}").format(
                    v=value, reason=_reason(column, '"%s" is not a finite number', value)
                )
            )
            scale = _scale(column)
            if scale is not None:
                checks.append(
                    sql.SQL("when round({v}::numeric, {scale}) <> {v}::numeric then {reason}").format(
                        v=value,
                        scale=sql.Literal(scale),
                        reason=_reason(column, f'"%s" has more than {scale} decimal places', value),
                    )
                )
    return checks
