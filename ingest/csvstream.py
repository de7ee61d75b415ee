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
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat

from customer360.contract import Source
from ingest.domain import Screen
from ingest.errors import HeaderMismatchError

BLOCK_BYTES = 1 << 20
# A block where more than 1 line in this many has quotes goes through one csv reader; fewer
# quoted lines (e.g. the odd decimal comma) are parsed one by one inside the fast path.
QUOTED_SHARE_FOR_READER = 8
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


def _fields_of(line: str) -> list[str]:
    """Fields of one line for a reject reason (a line the csv reader cannot read has none)."""
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error:
        return []


def _split_lines(text: str) -> list[str]:
    """Lines with their '\\n' (only '\\n' separates lines; a bare CR is data the csv reader judges)."""
    parts = text.split("\n")
    last = parts.pop()
    lines = [part + "\n" for part in parts]
    if last:
        lines.append(last)
    return lines


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open line ranges sorted, with overlapping and touching ones merged."""
    merged: list[list[int]] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [(start, stop) for start, stop in merged]


def intersect_ranges(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The lines in both of two sorted lists of disjoint half-open ranges."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, stop = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < stop:
            out.append((start, stop))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


class _Picker:
    """The records to re-emit in pick mode, as line ranges; asked about lines in rising order,
    so one cursor walks the ranges (memory grows with the ranges, not with the lines in them)."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        self.ranges = merge_ranges(ranges)
        self._at = 0

    def wants(self, line: int) -> bool:
        ranges = self.ranges
        while self._at < len(ranges) and ranges[self._at][1] <= line:
            self._at += 1
        return self._at < len(ranges) and ranges[self._at][0] <= line

    def lines_in(self, first: int, stop: int) -> Iterator[int]:
        """The wanted lines among first..stop-1."""
        ranges = self.ranges
        while self._at < len(ranges) and ranges[self._at][1] <= first:
            self._at += 1
        at = self._at
        while at < len(ranges) and ranges[at][0] < stop:
            yield from range(max(first, ranges[at][0]), min(stop, ranges[at][1]))
            at += 1


class CsvStream:
    """One object's records as canonical CSV blocks for COPY; counts every data record.

    Iterate :meth:`copy_blocks` once. ``on_reject`` receives the records that fail structural
    checks. After iteration ``data_rows == emitted + rejected`` holds by construction, and
    ``flagged`` holds the line ranges of the blocks ``screen`` hit (see :mod:`ingest.domain`).
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        source: Source,
        object_key: str,
        on_reject: Callable[[RejectedRecord], None],
        trailer: str = "",
        block_bytes: int = BLOCK_BYTES,
        pick: Iterable[tuple[int, int]] | None = None,
        screen: Screen | None = None,
        optimistic: bool = True,
    ) -> None:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
        # Already-encoded CSV appended after the line number of every record (e.g. the object key).
        self.trailer = trailer
        self.source = source
        self.object_key = object_key
        self.on_reject = on_reject
        self.n_fields = len(source.columns)
        self.required = [i for i, c in enumerate(source.columns) if c.required]
        # Trust a quote-free block whose total comma count is right (one C-level count) instead of
        # counting per line. Only lines with one comma too many *and* others with one too few in
        # the same block can fool it; COPY then refuses the statement (SQLSTATE 22P04) and the
        # loader reads the object again with optimistic=False.
        self.optimistic = optimistic
        self._screen = screen
        self._screen_hit = False  # a block consumed since the last step was hit
        self.flagged: list[tuple[int, int]] = []
        self._blocks = (self._decode_block(b) for b in byte_blocks(chunks, block_bytes))
        self.lines_read = 0  # physical lines consumed, header included
        self.data_rows = 0
        self.emitted = 0
        self.rejected = 0
        self.header_seen = False
        # Runs of emitted records with consecutive line numbers, [first ordinal, first line,
        # length]: maps COPY's record ordinals back to file lines with memory that grows only
        # with discontinuities (rejects, multi-line records), not with the object.
        self.runs: list[list[int]] = []
        # Emitted records that span lines. COPY numbers skipped rows by *physical* line (and not
        # quite consistently for quoted newlines), so ordinals are exact only when this stays 0.
        self.multiline_emitted = 0
        # Re-read mode for routing rejects: emit only the records starting in these line ranges.
        self.pick = _Picker(pick) if pick is not None else None

    def _decode_block(self, block: bytes) -> tuple[str, bool]:
        if self._screen is not None and not self._screen_hit and self._screen.hits(block):
            self._screen_hit = True
        return _decode(block)

    def _note_screen(self, first_line: int) -> None:
        """Record the lines consumed since `first_line` if the screen hit one of their blocks."""
        if self._screen_hit:
            self._screen_hit = False
            stop = self.lines_read + 1
            if self.flagged and self.flagged[-1][1] == first_line:
                self.flagged[-1] = (self.flagged[-1][0], stop)
            else:
                self.flagged.append((first_line, stop))

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
            first_line = self.lines_read + 1
            fast = self._fast_block(text, valid)
            if fast is not None:
                self._note_screen(first_line)
                yield fast
            else:
                yield from self._slow_block(text, valid, blocks)
                self._note_screen(first_line)

    def _fast_block(self, text: str, valid: bool) -> str | None:
        """The block re-emitted mostly by C-level operations, or None if it needs the record path.

        When every line holds an even number of quote characters, no record continues onto the
        next line (in RFC 4180 only an open quoted field does that), so each line is one record.
        Quote-free blocks are checked by per-line comma counts and re-emitted as they are, with
        only bad lines rejected on their own; blocks with quotes go through one csv reader.
        """
        if "\r" in text:
            if text.count("\r\n") != text.count("\r"):
                return None  # a bare CR: let the csv reader judge it
            text = text.replace("\r\n", "\n")
        quoted: list[int] = []
        if '"' in text:
            lines = text.split("\n")
            lines.pop()  # blocks end with "\n"
            quote_counts = list(map(str.count, lines, repeat('"')))
            if any(q % 2 for q in quote_counts):
                return None  # a quoted field spans lines
            quoted = [i for i, q in enumerate(quote_counts) if q]
            if len(quoted) * QUOTED_SHARE_FOR_READER > len(lines):  # e.g. addresses: most lines
                return self._quoted_block(lines, valid and "\x00" not in text)
        elif self.pick is not None:
            return self._picked_lines(text)
        else:
            lines = text.split("\n")
            lines.pop()
        count = len(lines)
        commas = self.n_fields - 1
        bad: set[int] = set()
        if quoted or not self.optimistic or text.count(",") != commas * count:
            counts = list(map(str.count, lines, repeat(",")))
            if counts.count(commas) != count:
                bad.update(i for i, c in enumerate(counts) if c != commas)
                bad.difference_update(quoted)  # their commas may be inside quotes
        if "\x00" in text:
            bad.update(i for i, line in enumerate(lines) if "\x00" in line)
        if not valid:
            bad.update(i for i, line in enumerate(lines) if not line.isascii() and _SURROGATES.search(line))
        if self.required and (",," in text or "\n," in text or ",\n" in text or text.startswith(",")):
            for i, line in enumerate(lines):
                if (",," in line or line.startswith(",") or line.endswith(",")) and '"' not in line:
                    fields = line.split(",")
                    if len(fields) == self.n_fields and any(fields[j] == "" for j in self.required):
                        bad.add(i)
        first = self.lines_read + 1
        self.lines_read += count
        self.data_rows += count
        end = self.trailer + "\n"
        if not bad and not quoted and self.pick is None:
            self.emitted += count
            self._note_emitted(first, count)
            # line, ",", number, end for every line; slice assignment fills each column at C speed
            parts = [","] * (4 * count)
            parts[0::4] = lines
            parts[2::4] = map(str, range(first, first + count))
            parts[3::4] = repeat(end, count)
            return "".join(parts)
        quoted_set = set(quoted)
        for i in sorted(bad):  # found by the line-level checks above
            line = lines[i]
            fields = _fields_of(line) if i in quoted_set else (line.split(",") if line else [])
            reason = self._record_problem(line, fields, check_bytes=True)
            self._reject(first + i, line, reason or "unreadable record")
        rewritten: dict[int, str] = {}
        for i in quoted:  # a few quoted lines (e.g. a decimal comma): parsed one by one
            if i not in bad:
                out = self._parse_line(lines[i], first + i, not valid)
                if out is None:
                    bad.add(i)
                else:
                    rewritten[i] = out
        parts: list[str] = []
        pick = self.pick
        for i in range(count):
            if i in bad:
                continue
            number = first + i
            self.emitted += 1
            self._note_emitted(number, 1)
            if pick is None or pick.wants(number):
                parts.append(rewritten.get(i, lines[i]))
                parts.append(f",{number}{end}")
        return "".join(parts)

    def _parse_line(self, line: str, number: int, check_bytes: bool) -> str | None:
        """One quoted single-line record: its canonical CSV, or None after rejecting it."""
        try:
            rows = list(csv.reader([line], strict=True))
        except csv.Error as error:
            self._reject(number, line, f"malformed CSV: {error}")
            return None
        fields = rows[0] if len(rows) == 1 else []
        reason = None
        if check_bytes or len(fields) != self.n_fields or "" in fields or "\x00" in line:
            reason = self._record_problem(line, fields, check_bytes)
        if reason:
            self._reject(number, line, reason)
            return None
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(fields)
        return buffer.getvalue()

    def _quoted_block(self, lines: list[str], clean_bytes: bool) -> str:
        """A block of single-line records with quotes: one csv reader over all its lines."""
        first = self.lines_read + 1
        count = len(lines)
        self.lines_read += count
        self.data_rows += count
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=self.trailer + "\n")
        pick = self.pick
        base = 0  # index of the first line the current reader was given
        reader = csv.reader(lines, strict=True)
        while (index := base + reader.line_num) < count:
            error = None
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                fields, error = [], f"malformed CSV: {exc}"
            if base + reader.line_num - index != 1:
                # a stray quote made the reader run into the next line: judge this line alone
                # and start a fresh reader after it
                fields, error = _fields_of(lines[index]), error or "malformed CSV: unterminated quoted field"
                base = index + 1
                reader = csv.reader(lines[base:], strict=True)
            number = first + index
            line = lines[index]
            reason = error
            if reason is None and (not clean_bytes or len(fields) != self.n_fields or "" in fields):
                reason = self._record_problem(line, fields, check_bytes=not clean_bytes)
            if reason:
                self._reject(number, line, reason)
                continue
            self.emitted += 1
            self._note_emitted(number, 1)
            if pick is None or pick.wants(number):
                fields.append(str(number))
                writer.writerow(fields)
        return out.getvalue()

    def _slow_block(self, text: str, valid: bool, blocks: Iterator[tuple[str, bool]]) -> Iterator[str]:
        """Record-by-record path (records spanning lines, bare CRs); may pull further blocks to
        finish a record that spans them. Line numbers come from the reader's own line count."""
        lines = _split_lines(text)
        # Lines pulled from later blocks; consumed ones are dropped so memory stays bounded.
        extra: list[str] = []
        state = {"valid": valid and "\x00" not in text, "dropped": 0}

        def more_lines() -> Iterator[str]:
            for more_text, more_valid in blocks:
                new = _split_lines(more_text)
                extra.extend(new)
                state["valid"] = state["valid"] and more_valid and "\x00" not in more_text
                yield from new

        def raw_of(start: int, stop: int) -> str:
            head = lines[start:stop] if start < len(lines) else []
            if stop <= len(lines):
                return "".join(head)
            offset = len(lines) + state["dropped"]
            return "".join(head + extra[max(start - offset, 0) : stop - offset])

        reader = csv.reader(chain(lines, more_lines()), strict=True)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=self.trailer + "\n")
        base = self.lines_read
        pick = self.pick
        while reader.line_num < len(lines) + state["dropped"] + len(extra):
            before = reader.line_num
            error: str | None = None
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                fields, error = [], f"malformed CSV: {exc}"
            first = base + before + 1
            self.data_rows += 1
            reason = error
            if reason is None and (len(fields) != self.n_fields or "" in fields or not state["valid"]):
                raw = raw_of(before, reader.line_num) if not state["valid"] else ""
                reason = self._record_problem(raw, fields, not state["valid"])
            if reason:
                raw = raw_of(before, reader.line_num)
                self._reject(first, raw[:-1] if raw.endswith("\n") else raw, reason)
            else:
                self.emitted += 1
                self._note_emitted(first, 1)
                if reader.line_num - before > 1:
                    self.multiline_emitted += 1
                if pick is None or pick.wants(first):
                    fields.append(str(first))
                    writer.writerow(fields)
                    if out.tell() >= BLOCK_BYTES:
                        yield out.getvalue()
                        out.seek(0)
                        out.truncate()
            consumed = reader.line_num - len(lines) - state["dropped"]
            if consumed > 0:
                del extra[:consumed]
                state["dropped"] += consumed
        self.lines_read = base + reader.line_num
        if out.tell():
            yield out.getvalue()

    def _note_emitted(self, first_line: int, count: int) -> None:
        runs = self.runs
        if runs and runs[-1][1] + runs[-1][2] == first_line:
            runs[-1][2] += count
        else:
            runs.append([self.emitted - count + 1, first_line, count])

    def _picked_lines(self, text: str) -> str:
        """Pick mode, quote-free block: every line is one record, and the wanted ones were
        emitted (valid) in pass 1, so no checks are needed; only the line count matters."""
        assert self.pick is not None
        first = self.lines_read + 1
        count = text.count("\n")
        self.lines_read += count
        self.data_rows += count
        wanted = list(self.pick.lines_in(first, first + count))
        if not wanted:
            return ""
        lines = text.split("\n")
        end = self.trailer + "\n"
        return "".join(f"{lines[n - first]},{n}{end}" for n in wanted)

    def emitted_ranges(self) -> list[tuple[int, int]]:
        """Line ranges of the emitted records (by first line): what pass 2 may pick."""
        return [(first_line, first_line + length) for _ordinal, first_line, length in self.runs]

    def lines_of_ordinals(self, ordinals: Iterable[int]) -> list[int]:
        """File line numbers of emitted records, given their 1-based order in the COPY stream."""
        starts = [run[0] for run in self.runs]
        lines = []
        for ordinal in ordinals:
            first_ordinal, first_line, length = self.runs[bisect_right(starts, ordinal) - 1]
            if not 0 <= ordinal - first_ordinal < length:
                raise ValueError(f"record {ordinal} was not emitted")
            lines.append(first_line + ordinal - first_ordinal)
        return lines

    def _reject(self, line_number: int, raw_line: str, reason: str) -> None:
        self.rejected += 1
        self.on_reject(RejectedRecord(line_number, printable_raw(raw_line.removesuffix("\r")), reason))

    def _record_problem(self, raw: str, fields: list[str], check_bytes: bool) -> str | None:
        bad = _SURROGATES.search(raw) if check_bytes and not raw.isascii() else None
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
