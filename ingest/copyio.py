"""A read-only file object over a generator of text blocks, for ``cursor.copy_expert``.

psycopg2 pulls COPY data by calling ``read(size)`` until it gets an empty result; handing it
one block per call (whatever ``size`` asks) keeps exactly one block in memory at a time and lets
PostgreSQL parse the previous block while Python prepares the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class TextBlockReader:
    """File-like adapter: each ``read()`` returns the next non-empty block, UTF-8 encoded."""

    def __init__(self, blocks: Iterable[str]) -> None:
        self._blocks: Iterator[str] = iter(blocks)
        self.bytes_sent = 0

    def read(self, size: int = -1) -> bytes:
        for block in self._blocks:
            if block:
                data = block.encode("utf-8")
                self.bytes_sent += len(data)
                return data
        return b""

    def readline(self, size: int = -1) -> bytes:  # part of the file protocol psycopg2 may probe
        return self.read(size)
