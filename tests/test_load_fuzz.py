"""Property tests of the loader (hypothesis): whatever a file holds, every row read is
loaded or rejected exactly once, and nothing but a one-line ExtractError escapes."""
from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kglink.loaders.csvfile import BadRow, Row, read_lines, rows
from kglink.loaders.extract import ExtractError, read_extract

MANIFEST = {"format": "kglink-extract", "version": 1, "agency": "police",
            "extracted_at": "2026-11-26T02:00:00Z"}
PERSONS_HEADER = "record_id,forenames,surname,dob,sex,nhs_number,aliases,phone,email"
EVENTS_HEADER = "record_id,type,occurred_at,ended_at,description,attributes"

# Pieces that break naive CSV readers, mixed with pieces of plausible values.
NASTY = ['"', '""', ",", "\n", "\r", "\r\n", "\u2028", "\u2029", "\u0085", "\f", "\v", "\x00",
         "\x1c", "\ufeff", " ", "{", "}", "[", "]", ":", "\\", "'"]
PLAUSIBLE = ["P1", "P2", "E1", "Ann", "SMITH", "O'Neil", "1980-01-01", "31/02/1990", "2090-01-01",
             "1066-10-14", "2026-10-12T03:00", "custody", "incident", "M", "f", "9434765919",
             '{"detained_at": "2026-10-12T03:00", "charged": "true"}', "a@b.example", "07700900123"]
piece = st.one_of(st.sampled_from(NASTY), st.sampled_from(PLAUSIBLE),
                  st.text(max_size=4))
body = st.lists(piece, max_size=120).map("".join)
header = st.one_of(st.just(PERSONS_HEADER), st.just(PERSONS_HEADER + ",surname"),
                   body.map(lambda b: "record_id,surname," + b))

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "police"
        d.mkdir()
        (d / "manifest.json").write_text(json.dumps(MANIFEST))
        for name, data in files.items():
            (d / name).write_bytes(data)
        try:
            ex = read_extract(d)
        except ExtractError as e:            # the whole file refused: one line, says what to do
            assert "\n" not in str(e).replace(str(d), "")
            return
        for f in ex.files:
            assert f.read == f.loaded + len(f.rejects)
            starts = [r.row for r in f.rows] + [r.row for r in f.rejects]
            assert len(starts) == len(set(starts)), "a line started two rows"
            assert all(r.row >= 2 for r in f.rejects)


@FAST
@given(head=header, persons=body, events=body)
def test_any_text_every_row_loaded_or_rejected_once(head: str, persons: str, events: str) -> None:
    _check({"persons.csv": (head + "\n" + persons).encode("utf-8", "surrogatepass"),
            "events.csv": (EVENTS_HEADER + "\r\n" + events).encode("utf-8", "surrogatepass")})


@FAST
@given(data=st.binary(max_size=600))
def test_any_bytes_every_row_loaded_or_rejected_once(data: bytes) -> None:
    _check({"persons.csv": PERSONS_HEADER.encode() + b"\n" + data})


def _file_rows(text: str, width: int) -> list[Row | BadRow]:
    """Rows as the loader reads them: from a file on disk, through read_lines."""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "t.csv"
        f.write_text(text, encoding="utf-8", newline="")
        return list(rows(read_lines(f), width))


# Values with no delimiter may hold any line break: written by a CSV writer, they must
# come back exactly, row for row (no inner line can read as a row of three values).
value = st.lists(st.sampled_from(NASTY[:2] + NASTY[3:] + PLAUSIBLE[:8]), max_size=8).map("".join)
ident = st.sampled_from(["P1", "X", "7"])


@FAST
@given(table=st.lists(st.tuples(ident, value, value), min_size=1, max_size=15))
def test_what_a_csv_writer_writes_reads_back_row_for_row(table: list[tuple[str, str, str]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([("a", "b", "c"), *table])
    got = _file_rows(buf.getvalue(), 3)
    assert all(isinstance(r, Row) for r in got)
    assert [tuple(r.values) for r in got] == table     # type: ignore[union-attr]


# Unquoted values (no delimiter, quote or line end; unicode line breaks welcome).
plain = st.lists(st.sampled_from(["\u2028", "\u0085", "\f", "\v", " ", "'"] + PLAUSIBLE[:8]),
                 max_size=5).map("".join)


@FAST
@given(table=st.lists(st.tuples(ident, plain, plain), min_size=2, max_size=12), data=st.data())
def test_an_unclosed_quote_never_swallows_the_rows_after_it(table: list[tuple[str, str, str]],
                                                            data: st.DataObject) -> None:
    """Row k opens a quote it never closes; a later row m holds a stray quote that a
    lenient reader takes as the close. Every row but k is read, with its own values."""
    k = data.draw(st.integers(0, len(table) - 2))
    m = data.draw(st.integers(k + 1, len(table) - 1))
    lines = [",".join(r) for r in table]
    lines[k] = table[k][0] + ',"' + table[k][1] + "," + table[k][2]
    stray = (table[m][1] or "x") + '"'            # a quote ending a value, not opening one
    lines[m] = table[m][0] + "," + stray + "," + table[m][2]
    got = _file_rows("a,b,c\n" + "\n".join(lines) + "\n", 3)
    bad = [r.line for r in got if isinstance(r, BadRow)]
    assert bad == [k + 2]
    expected = [t for i, t in enumerate(table) if i != k]
    expected[m - 1] = (table[m][0], stray, table[m][2])
    assert [tuple(r.values) for r in got if isinstance(r, Row)] == expected
