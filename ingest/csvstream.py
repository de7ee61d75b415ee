"""Turn one lake object's bytes into COPY-ready CSV, routing structurally bad records aside.

Why this exists: PostgreSQL's COPY aborts the whole statement on a wrong field count or a bad
UTF-8 byte, and it cannot tell us which *file* line a record came from. So Python does the cheap
structural work on the stream (decode, split records, count fields, check required fields,
number the lines) and PostgreSQL does the expensive typed parsing (see :mod:`ingest.loader`).

The hot path works on whole blocks of ~1 MiB, not on rows: a block that is valid UTF-8, has no
quote character, no NUL, no required-empty field and exactly the contract's comma count on every
line is re-emitted with ``,<line number>`` appended to each line by C-level string operations.
Anything else (quoted fields, embedded newlines, bad bytes, wrong field counts, bare CRs) goes
through Python's C ``csv`` reader record by record. Both paths emit the same canonical CSV: the
contract's fields followed by the record's first line number, one record per output record.
Memory is bounded by the block size plus the longest record, never by the object size.
"""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat

from customer360.contract import Source
from ingest.errors import HeaderMismatchError

BLOCK_BYTES = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"
# Records may legitimately hold large fields (a 1 MB note); the csv module's default limit is
# 128 KiB. The ceiling still bounds memory per record if a stray quote swallows the file.
FIELD_SIZE_LIMIT = 64 << 20
_SURROGATES = re.compile("[\udc80-\udcff]+")


@dataclass(frozen=True)
class RejectedRecord:
    """A record that never reaches COPY, with the reason a person can act on."""

    line_number: int
    raw_line: str
    reason: str


def byte_blocks(chunks: Iterable[bytes], block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Re-cut arbitrary byte chunks into blocks that end on a newline.

    A newline byte never occurs inside a multi-byte UTF-8 sequence, so every block decodes on its
    own. The last line gets a newline if the file lacks one.
    """
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) < block_bytes:
            continue
        cut = buffer.rfind(b"\n")
        if cut < 0:
            continue  # one very long line: keep reading until it ends
        yield bytes(buffer[: cut + 1])
        del buffer[: cut + 1]
    if buffer:
        if not buffer.endswith(b"\n"):
            buffer += b"\n"
        yield bytes(buffer)


def _decode(block: bytes) -> tuple[str, bool]:
    """Text of a block and whether it was valid UTF-8 (bad bytes survive as surrogates)."""
    try:
        return block.decode("utf-8"), True
    except UnicodeDecodeError:
        return block.decode("utf-8", "surrogateescape"), False


def printable_raw(text: str) -> str:
    """Raw text safe to store in PostgreSQL: invalid bytes and NUL shown as ``\\xNN``."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if not _SURROGATES.search(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class _LineFeed:
    """Line iterator for the csv reader that pulls further blocks on demand and remembers the raw
    lines of the record being read (for line numbers and for `_rejected_rows.raw_line`)."""

    def __init__(self, lines: list[str], more: Iterator[tuple[str, bool]]) -> None:
        self.lines: deque[str] = deque(lines)
        self.more = more
        self.taken: list[str] = []

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if not self.lines:
            text, _valid = next(self.more)  # StopIteration ends the reader / the record
            self.lines.extend(_split_lines(text))
        line = self.lines.popleft()
        self.taken.append(line)
        return line


def _split_lines(text: str) -> list[str]:
    """Lines with their '\\n' (only '\\n' separates lines; a bare CR is data the csv reader judges)."""
    parts = text.split("\n")
    last = parts.pop()
    lines = [part + "\n" for part in parts]
    if last:
        lines.append(last)
    return lines


class CsvStream:
    """One object's records as canonical CSV blocks for COPY; counts every data record.

    Iterate :meth:`copy_blocks` once. ``on_reject`` receives the records that fail structural
    checks. After iteration ``data_rows == emitted + rejected`` holds by construction.
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        source: Source,
        object_key: str,
        on_reject: Callable[[RejectedRecord], None],
        trailer: str = "",
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
        # Already-encoded CSV appended after the line number of every record (e.g. the object key).
        self.trailer = trailer
        self.source = source
        self.object_key = object_key
        self.on_reject = on_reject
        self.n_fields = len(source.columns)
        self.required = [i for i, c in enumerate(source.columns) if c.required]
        self._blocks = (_decode(b) for b in byte_blocks(chunks, block_bytes))
        self.lines_read = 0  # physical lines consumed, header included
        self.data_rows = 0
        self.emitted = 0
        self.rejected = 0
        self.header_seen = False

    # --- header ----------------------------------------------------------------------------------
    def _read_header(self) -> tuple[str, bool]:
        """Check the header line; return what is left of the first block after it (and whether
        that block was valid UTF-8)."""
        try:
            text, valid = next(self._blocks)
        except StopIteration:
            raise HeaderMismatchError(f"{self.object_key}: the object is empty (no header row)") from None
        if text.startswith("\ufeff"):
            text = text[1:]
        newline = text.find("\n")
        header_line, rest = text[: newline + 1], text[newline + 1 :]
        self.lines_read = 1
        self.header_seen = True
        try:
            header = next(csv.reader([header_line]), [])
        except csv.Error as error:
            raise HeaderMismatchError(f"{self.object_key}: unreadable header row ({error})") from None
        expected = list(self.source.header)
        if header != expected:  # a header with bad bytes cannot equal the (ASCII) contract names
            raise HeaderMismatchError(self._header_difference(header, expected))
        return rest, valid

    def _header_difference(self, header: list[str], expected: list[str]) -> str:
        missing = [c for c in expected if c not in header]
        unexpected = [c for c in header if c not in expected]
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if unexpected:
            parts.append(f"unexpected columns {[printable_raw(c) for c in unexpected]}")
        if not parts:
            parts.append(f"columns in the wrong order: {header}")
        return (
            f"{self.object_key}: header does not match the {self.source.name} contract: "
            f"{'; '.join(parts)} (expected {','.join(expected)})"
        )

    # --- records ---------------------------------------------------------------------------------
    def copy_blocks(self) -> Iterator[str]:
        """Yield canonical CSV text: contract fields, first line number, trailer; one record each."""
        rest, valid = self._read_header()
        pending: list[tuple[str, bool]] = [(rest, valid)] if rest else []
        blocks = chain(pending, self._blocks)
        for text, valid in blocks:
            fast = self._fast_block(text) if valid else None
            if fast is not None:
                yield fast
            else:
                yield from self._slow_block(text, blocks)

    def _fast_block(self, text: str) -> str | None:
        """The whole block re-emitted with C-level operations, or None if it needs the slow path."""
        if "\r" in text:
            if text.count("\r\n") != text.count("\r"):
                return None
            text = text.replace("\r\n", "\n")
        if '"' in text or "\x00" in text:
            return None
        lines = text.split("\n")
        lines.pop()  # blocks end with "\n"
        count = len(lines)
        commas = self.n_fields - 1
        if list(map(str.count, lines, repeat(","))).count(commas) != count:
            return None
        if self.required and (",," in text or "\n," in text or ",\n" in text or text.startswith(",")):
            for line in lines:
                if ",," in line or line.startswith(",") or line.endswith(","):
                    fields = line.split(",")
                    if any(fields[i] == "" for i in self.required):
                        return None
        first = self.lines_read + 1
        self.lines_read += count
        self.data_rows += count
        self.emitted += count
        numbers = map(str, range(first, first + count))
        end = self.trailer + "\n"
        return "".join(chain.from_iterable(zip(lines, repeat(","), numbers, repeat(end))))

    def _slow_block(self, text: str, blocks: Iterator[tuple[str, bool]]) -> Iterator[str]:
        """Record-by-record path; may pull further blocks to finish a record that spans them."""
        feed = _LineFeed(_split_lines(text), blocks)
        reader = csv.reader(feed, strict=True)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="")
        end = self.trailer + "\n"
        while feed.lines:
            error: str | None = None
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                fields, error = [], f"malformed CSV: {exc}"
            raw = "".join(feed.taken)
            feed.taken = []
            first = self.lines_read + 1
            self.lines_read += raw.count("\n") or 1
            self.data_rows += 1
            reason = error or self._record_problem(raw, fields)
            if reason:
                self.rejected += 1
                raw_line = raw[:-1] if raw.endswith("\n") else raw
                self.on_reject(RejectedRecord(first, printable_raw(raw_line.removesuffix("\r")), reason))
                continue
            self.emitted += 1
            fields.append(str(first))
            writer.writerow(fields)
            out.write(end)
            if out.tell() >= BLOCK_BYTES:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        if out.tell():
            yield out.getvalue()

    def _record_problem(self, raw: str, fields: list[str]) -> str | None:
        bad = _SURROGATES.search(raw)
        if bad:
            shown = " ".join(f"0x{ord(ch) - 0xDC00:02x}" for ch in bad.group()[:8])
            return f"invalid UTF-8 byte(s) {shown}"
        if "\x00" in raw:
            return "NUL byte in record"
        if len(fields) != self.n_fields:
            return f"expected {self.n_fields} fields, found {len(fields)}"
        for i in self.required:
            if fields[i] == "":
                return f"required field {self.source.columns[i].name} is empty"
        return None
