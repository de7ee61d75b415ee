"""A read-only file object over a generator of text blocks, for ``cursor.copy_expert``.

psycopg2 pulls COPY data by calling ``read(size)`` until it gets an empty result; handing it
one block per call (whatever ``size`` asks) keeps exactly one block in memory at a time and lets
PostgreSQL parse the previous block while Python prepares the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import psycopg2
from psycopg2.extensions import cursor as PgCursor
from psycopg2.sql import Composable


class TextBlockReader:
    """File-like adapter: each ``read()`` returns the next non-empty block, UTF-8 encoded."""

    def __init__(self, blocks: Iterable[str]) -> None:
        self._blocks: Iterator[str] = iter(blocks)
        self.bytes_sent = 0
        # psycopg2 reports an exception raised in read() as a generic QueryCanceled; keep the
        # original so the caller can re-raise it (a refused header, an S3 read that broke).
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            for block in self._blocks:
                if block:
                    data = block.encode("utf-8")
                    self.bytes_sent += len(data)
                    return data
        except BaseException as error:
            self.error = error
            raise
        return b""

    def readline(self, size: int = -1) -> bytes:  # part of the file protocol psycopg2 may probe
        return self.read(size)


def copy_from_blocks(cur: PgCursor, statement: Composable, blocks: Iterable[str]) -> int:
    """Run COPY ... FROM STDIN fed by `blocks`; returns the row count PostgreSQL reports.

    An error raised while producing the blocks is re-raised as itself, not as psycopg2's
    QueryCanceled wrapper, so callers can tell a bad header or a broken S3 read from a server error.
    """
    reader = TextBlockReader(blocks)
    try:
        cur.copy_expert(statement, reader, size=1 << 20)
    except psycopg2.Error:
        if reader.error is not None:
            raise reader.error from None
        raise
    return cur.rowcount
