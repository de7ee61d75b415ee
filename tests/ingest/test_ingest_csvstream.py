"""The structural pass on its own (no servers): whatever the block boundaries and whichever path
(block fast path or record-by-record), the records, their first line numbers and the rejects are
the same, and every data record is counted exactly once."""

from __future__ import annotations

import csv
import io

import pytest

from customer360.contract import get_source
from ingest.csvstream import CsvStream, RejectedRecord, byte_blocks, intersect_ranges, merge_ranges
from ingest.domain import Screen
from ingest.errors import HeaderMismatchError

ORDERS = get_source("orders")
HEADER = ",".join(ORDERS.header)
TS = "2026-11-01T08:15:02Z"


def _run(data: bytes, block_bytes: int = 1 << 20, chunk: int = 7) -> tuple[list[list[str]], list, CsvStream]:
    rejects: list[RejectedRecord] = []
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    stream = CsvStream(chunks, ORDERS, "raw/orders/k.csv", rejects.append, block_bytes=block_bytes)
    emitted = "".join(stream.copy_blocks())
    rows = list(csv.reader(io.StringIO(emitted, newline="")))
    return rows, [(r.line_number, r.reason) for r in rejects], stream


def _row(i: int, currency: str = "USD") -> str:
    return f"{i},7,{TS},1.00,{currency},placed,{TS}"


MIXED = (
    (
        "\r\n".join(
            [
                HEADER,
                _row(1),
                _row(2, '"multi\r\nline, quoted"'),
                _row(3) + ",extra",
                _row(4, '"say ""hi"""'),
                "",
                _row(6, "plain"),
            ]
        )
        + "\r\n"
    ).encode()
    + b"7,7,x,1.00,U\xe9D,placed,x\r\n"
    + _row(8).encode()
)

EXPECTED_ROWS = [
    [*_row(1).split(","), "2"],
    ["2", "7", TS, "1.00", "multi\r\nline, quoted", "placed", TS, "3"],
    ["4", "7", TS, "1.00", 'say "hi"', "placed", TS, "6"],
    [*_row(6, "plain").split(","), "8"],
    [*_row(8).split(","), "10"],
]
EXPECTED_REJECTS = [
    (5, "expected 7 fields, found 8"),
    (7, "expected 7 fields, found 0"),
    (9, "invalid UTF-8"),
]


@pytest.mark.parametrize("block_bytes", [1, 16, 50, 100, 1 << 20])
def test_same_records_whatever_the_block_size(block_bytes: int) -> None:
    rows, rejects, stream = _run(MIXED, block_bytes=block_bytes)
    assert rows == EXPECTED_ROWS
    assert [
        (line, reason[: len(expected)])
        for (line, reason), (_, expected) in zip(rejects, EXPECTED_REJECTS, strict=True)
    ] == EXPECTED_REJECTS
    assert (stream.data_rows, stream.emitted, stream.rejected) == (8, 5, 3)


def test_fast_path_output_equals_record_path_output() -> None:
    clean = (HEADER + "\n" + "\n".join(_row(i) for i in range(1, 200)) + "\n").encode()
    fast, _, _ = _run(clean)
    # one quote anywhere sends the block down the record-by-record path
    slow, _, _ = _run(clean.replace(b"199,7", b'"199",7'))
    assert fast == slow and len(fast) == 199


def test_required_empty_fields_are_found_in_clean_looking_blocks() -> None:
    data = f"{HEADER}\n{_row(1)}\n2,7,{TS},1.00,,placed,{TS}\n,7,{TS},1.00,USD,placed,{TS}\n".encode()
    rows, rejects, _ = _run(data)
    assert [r[-1] for r in rows] == ["2"]
    assert rejects == [(3, "required field currency is empty"), (4, "required field order_id is empty")]


def test_bare_carriage_return_in_unquoted_field_is_rejected_not_split() -> None:
    bad = _row(1, "U\rSD")
    rows, rejects, stream = _run(f"{HEADER}\n{bad}\n{_row(2)}\n".encode())
    assert [r[-1] for r in rows] == ["3"]
    assert rejects[0][0] == 2 and "malformed CSV" in rejects[0][1]
    assert stream.data_rows == 2


def test_bom_and_missing_final_newline() -> None:
    rows, rejects, _ = _run(b"\xef\xbb\xbf" + f"{HEADER}\n{_row(1)}".encode())
    assert rows == [[*_row(1).split(","), "2"]] and rejects == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "empty"),
        (
            "order_id,user_id\n",
            "missing columns ['order_date', 'amount', 'currency', 'status', 'updated_at']",
        ),
        (HEADER + ",note\n", "unexpected columns ['note']"),
        (
            HEADER.replace("amount", "Amount") + "\n",
            "missing columns ['amount']; unexpected columns ['Amount']",
        ),
    ],
)
def test_header_mismatch_names_object_and_difference(header: str, message: str) -> None:
    with pytest.raises(HeaderMismatchError, match=r"raw/orders/k\.csv") as refusal:
        _run(header.encode())
    assert message in str(refusal.value)


def test_byte_blocks_end_on_newlines_and_keep_every_byte() -> None:
    data = b"a,b\n" * 10 + b"\xc3\xa9" * 5 + b"\nlast"
    blocks = list(byte_blocks([data[i : i + 3] for i in range(0, len(data), 3)], block_bytes=8))
    assert all(block.endswith(b"\n") for block in blocks)
    assert b"".join(blocks) == data + b"\n"


def test_nul_byte_is_rejected_on_both_paths() -> None:
    plain = _row(2, "U\x00SD")
    quoted = _row(3, '"U\x00SD"')
    rows, rejects, _ = _run(f"{HEADER}\n{_row(1)}\n{plain}\n{quoted}\n".encode())
    assert [r[-1] for r in rows] == ["2"]
    assert rejects == [(3, "NUL byte in record"), (4, "NUL byte in record")]


@pytest.mark.parametrize("block_bytes", [16, 1 << 20])
def test_copy_ordinals_map_back_to_file_lines(block_bytes: int) -> None:
    """COPY reports skipped rows by their order in the stream; the stream maps that to file lines."""
    _rows, _rejects, stream = _run(MIXED, block_bytes=block_bytes)
    assert stream.lines_of_ordinals(range(1, 6)) == [2, 3, 6, 8, 10]


@pytest.mark.parametrize("block_bytes", [16, 1 << 20])
def test_pick_mode_emits_only_the_wanted_records(block_bytes: int) -> None:
    chunks = [MIXED]
    stream = CsvStream(chunks, ORDERS, "k", lambda _r: None, block_bytes=block_bytes, pick=[(3, 4), (8, 9)])
    rows = list(csv.reader(io.StringIO("".join(stream.copy_blocks()), newline="")))
    assert [row[-1] for row in rows] == ["3", "8"] and rows[0][4] == "multi\r\nline, quoted"


QUOTED_LINES = [
    _row(1, '"47,35"'),
    _row(2, '"say ""hi"""'),
    f'"3",7,{TS},1.00,"x"y,placed,{TS}',  # text after a closing quote: malformed
    _row(4) + ",extra",
    f'5,,{TS},1.00,"a,b",placed,{TS}',  # empty required user_id next to a quoted comma
    _row(6),
]


@pytest.mark.parametrize("padding", [0, 60])  # mostly quoted lines / a few quoted lines
@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_quoted_single_line_records_match_the_record_path(block_bytes: int, padding: int) -> None:
    """Blocks whose lines are all complete records are handled line by line; a block with a
    record spanning lines goes through the record path. Both must agree on every record."""
    body = "\n".join(QUOTED_LINES + [_row(100 + i) for i in range(padding)]) + "\n"
    lines_path = (HEADER + "\n" + body).encode()
    # a leading multi-line record (odd quote count on its first line) forces the record path
    record_path = (HEADER + "\n" + _row(0, '"multi\nline"') + "\n" + body).encode()
    rows_a, rejects_a, _ = _run(lines_path, block_bytes=block_bytes)
    rows_b, rejects_b, stream_b = _run(record_path, block_bytes=block_bytes)
    rejects_a, rejects_b = sorted(rejects_a), sorted(rejects_b)  # the order of the calls may differ
    assert stream_b.multiline_emitted == 1
    shift = [[*row[:-1], str(int(row[-1]) - 2)] for row in rows_b[1:]]
    assert rows_a == shift
    assert rejects_a == [(line - 2, reason) for line, reason in rejects_b]
    assert [row[4] for row in rows_a[:3]] == ["47,35", 'say "hi"', "USD"] and len(rows_a) == 3 + padding
    assert [line for line, _ in rejects_a] == [4, 5, 6]
    assert "malformed CSV" in rejects_a[0][1] and "required field user_id" in rejects_a[2][1]


@pytest.mark.parametrize("block_bytes", [16, 200, 1 << 20])
def test_the_screen_flags_the_blocks_with_a_relative_word_or_a_rounding_decimal(block_bytes: int) -> None:
    """Lines 4 and 9 hold what typed values cannot reveal; every line they share a block with is
    flagged for pass 2, and (with blocks small enough) lines in other blocks are not."""
    lines = [_row(i) for i in range(1, 13)]
    lines[2] = f"3,7,Yesterday 10:00,1.00,USD,placed,{TS}"  # line 4
    lines[7] = f"8,7,{TS},12555e-3,USD,placed,{TS}"  # line 9
    chunks = [f"{line}\n".encode() for line in [HEADER, *lines]]  # S3 hands over chunks like these
    screen = Screen.of(ORDERS)
    stream = CsvStream(chunks, ORDERS, "k", lambda _r: None, block_bytes=block_bytes, screen=screen)
    "".join(stream.copy_blocks())
    flagged = {line for start, stop in stream.flagged for line in range(start, stop)}
    assert {4, 9} <= flagged
    if block_bytes == 16:  # one line per block
        assert flagged == {4, 9}


def test_line_ranges_merge_and_intersect() -> None:
    assert merge_ranges([(5, 7), (1, 2), (2, 3), (6, 9)]) == [(1, 3), (5, 9)]
    assert intersect_ranges([(1, 3), (5, 9)], [(2, 6), (8, 20)]) == [(2, 3), (5, 6), (8, 9)]
