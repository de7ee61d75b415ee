"""Writes one source's rows for one day as CSV objects `<source>-0001.csv`, `-0002`, ... .

Rows are formatted by the `csv` module (RFC 4180 quoting, LF line ends) into a small text buffer
that is encoded and handed to the sink about every megabyte, so memory does not grow with the
object. A new object is started before a group once the current one holds `rows_per_object` data
rows: a clean row and its dirt always share an object, so counts per object stay exact.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from customer360.contract import Source
from datagen.sinks import ObjectSink, Target
from datagen.summary import ObjectSummary

FLUSH_CHARS = 1 << 20
# Lone surrogates U+DC80..U+DCFF become the raw bytes 0x80..0xFF: how a corrupt row carries a
# byte that is not UTF-8 through the str-based csv writer.
ENCODING_ERRORS = "surrogateescape"


@dataclass
class GroupStats:
    """What a group of rows (a clean row and its dirt) adds to its object's summary."""

    new_ids: int = 0
    distinct_ids: int = 1
    rejected: int = 0
    dirt: dict[str, int] = field(default_factory=dict)
    variants: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.dirt[kind] = self.dirt.get(kind, 0) + 1


class _OpenObject:
    def __init__(self, sink: ObjectSink, summary: ObjectSummary, header: tuple[str, ...]) -> None:
        self.sink = sink
        self.summary = summary
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.writer.writerow(header)

    def flush(self) -> None:
        data = self.buffer.getvalue().encode("utf-8", ENCODING_ERRORS)
        self.buffer.seek(0)
        self.buffer.truncate()
        self.md5.update(data)
        self.summary.bytes += len(data)
        self.sink.write(data)


class BatchWriter:
    """The objects of (source, day); `close()` returns their summaries in batch order."""

    def __init__(
        self,
        source: Source,
        day: int,
        date: str,
        target: Target,
        rows_per_object: int,
        on_written: Callable[[ObjectSummary], None] = lambda _: None,
    ) -> None:
        self.source, self.day, self.date = source, day, date
        self.target = target
        self.rows_per_object = rows_per_object
        self.on_written = on_written
        self.written: list[ObjectSummary] = []
        self.current: _OpenObject | None = None
        self._open()  # a day with no rows still gets a header-only object: "this day was produced"

    def _open(self) -> None:
        batch = f"{len(self.written) + 1:04d}"
        key = self.source.object_key(self.date, batch)
        summary = ObjectSummary.empty(
            self.source.name, self.day, self.date, batch, key, self.target.location(key)
        )
        self.current = _OpenObject(self.target.open(key), summary, self.source.header)

    def _room(self) -> _OpenObject:
        current = self.current
        assert current is not None, "writer already closed"
        if current.summary.data_rows >= self.rows_per_object:
            self._finish()
            self._open()
            current = self.current
            assert current is not None
        return current

    def add_clean(self, row: list[str], is_new: bool) -> None:
        """Fast path for the common case: one clean row, no dirt."""
        current = self._room()
        current.writer.writerow(row)
        summary = current.summary
        summary.data_rows += 1
        summary.clean_rows += 1
        summary.distinct_ids += 1
        summary.new_ids += is_new
        if current.buffer.tell() >= FLUSH_CHARS:
            current.flush()

    def add_group(self, rows: list[list[str]], stats: GroupStats) -> None:
        current = self._room()
        current.writer.writerows(rows)
        summary = current.summary
        summary.data_rows += len(rows)
        summary.clean_rows += 1
        summary.distinct_ids += stats.distinct_ids
        summary.new_ids += stats.new_ids
        summary.rejected_rows += stats.rejected
        for kind, count in stats.dirt.items():
            summary.dirt[kind] += count
        for variant, count in stats.variants.items():
            summary.unparseable[variant] += count
        if current.buffer.tell() >= FLUSH_CHARS:
            current.flush()

    def _finish(self) -> None:
        current = self.current
        assert current is not None
        self.current = None
        try:
            current.flush()
            current.sink.commit()
        except BaseException:
            current.sink.abort()
            raise
        summary = current.summary
        summary.md5 = current.md5.hexdigest()
        summary.loadable_rows = summary.data_rows - summary.rejected_rows
        self.written.append(summary)
        self.on_written(summary)

    def close(self) -> list[ObjectSummary]:
        if self.current is not None:
            self._finish()
        return self.written

    def abort(self) -> None:
        """Drop the object being written (after an error); objects already committed stay."""
        if self.current is not None:
            self.current.sink.abort()
            self.current = None
