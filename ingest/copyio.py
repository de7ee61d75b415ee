"""A read-only file object over a generator of text blocks, for ``cursor.copy_expert``.

psycopg2 pulls COPY data by calling ``read(size)`` until it gets an empty result; handing it
one block per call (whatever ``size`` asks) keeps exactly one block in memory at a time and lets
PostgreSQL parse the previous block while Python prepares the next one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2.extensions import cursor as PgCursor
from psycopg2.sql import Composable

log = logging.getLogger(__name__)


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
        with _quiet_driver_tracebacks():
            cur.copy_expert(statement, reader, size=1 << 20)
    except psycopg2.Error:
        if reader.error is not None:
            raise reader.error from None
        raise
    return cur.rowcount


@contextmanager
def _quiet_driver_tracebacks() -> Iterator[None]:
    """Keep psycopg2's C code from printing a stray traceback while it handles a COPY error.

    When the server ends the session mid-COPY (a restart, pg_terminate_backend), psycopg2 2.9
    raises for the first error result and then decodes the next one with that exception still
    set; the decode fails with ``SystemError: <function decode> returned a result with an
    exception set`` and psycopg2 hands it to ``PyErr_Print``, i.e. to ``sys.excepthook``, which
    writes a traceback to stderr. The real error still reaches the caller (and is retried), so
    the printout is noise that looks like a crash: log it at debug level instead.
    """
    saved = sys.excepthook

    def to_debug_log(kind: type[BaseException], error: BaseException, tb: object) -> None:
        log.debug("psycopg2 reported while handling a COPY error: %s: %s", kind.__name__, error)

    sys.excepthook = to_debug_log
    try:
        yield
    finally:
        sys.excepthook = saved
