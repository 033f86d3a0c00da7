"""Read one extract CSV file safely: physical lines from the file, rows from the csv module.

What a file may be, and how rows are told apart, is decided here once:

- Only a regular file is opened, and it is opened without blocking, so a FIFO or a device
  named like an extract file is refused instead of hanging the load.
- The file is read as UTF-8 with ``newline=''``: lines end only at ``\\n``, ``\\r\\n`` or
  ``\\r``. U+2028, U+0085, form feeds and the like are ordinary characters, so they stay
  inside their value; a quoted value may hold line breaks of its own.
- Rows are parsed by the csv module (strict quoting). A row that cannot be trusted is
  reported as a `BadRow` with its line number and the reason, and reading goes on:

  * text after a closing quote, or the file ending inside a quoted value: a quote
    was left unclosed (or quoting is broken);
  * a quoted value holding a line break where a later line of the row, read alone (as
    CSV, or with quote characters taken literally), has exactly as many values as the
    header: that line reads as a row of its own, so the opening quote is taken to be
    unclosed rather than swallowing rows silently.
    A genuine multi-line value one of whose lines happens to look like a whole row (or
    one in the first column, whose last line then reads as a row) is rejected too: a
    visible reject rather than a silent merge;
  * a value longer than `FIELD_SIZE_LIMIT` characters;
  * more or fewer values than the header has columns.

  After an unclosed quote, reading resumes at the line after the row's first line, so
  the rows it would have swallowed are read as rows. After an over-long value in an
  otherwise sound row, reading resumes after that row.
"""
from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from kglink.errors import KglinkError

if TYPE_CHECKING:
    from _csv import Reader, _QuotingType

# The csv module's default limit is 131,072 characters, and hitting it raises. A value in
# an agency extract (a free-text description at most) has no business being longer than
# this; a longer one is a row error, never a traceback. The limit is process-wide in the
# csv module, so `rows` sets it each time it starts reading.
FIELD_SIZE_LIMIT = 1_000_000

_UNBOUNDED = 2**31 - 1     # only while finding where a row with an over-long value ends


class FileRefused(KglinkError):
    """The file cannot be read as an extract file; the message says why and what to do."""


class Row(NamedTuple):
    """A sound row. A tuple, not a frozen dataclass: made for every row of every file,
    whose __init__ cost twice as much."""
    line: int               # the row's first line in the file; the header is line 1
    values: list[str]


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


def file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path, *, binary: bool = False) -> IO:  # type: ignore[type-arg]
    """Open a regular file for reading; anything else is refused without blocking on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise FileRefused(f"{path} is a folder, not a file. Replace it with the file or remove it") from None
    except OSError as e:
        raise FileRefused(f"{path} cannot be opened ({e.strerror}). Check the file and its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(f"{path} is {file_kind(mode)}, not a file. Replace it with the file or remove it")
        os.set_blocking(fd, True)
        if binary:
            return os.fdopen(fd, "rb")
        return os.fdopen(fd, "r", encoding="utf-8-sig", newline="")
    except BaseException:
        os.close(fd)
        raise


def read_lines(path: Path) -> list[str]:
    """The file's physical lines (ends kept), split only at \\n, \\r\\n and \\r."""
    with open_regular(path) as f:
        return f.readlines()


def parse_header(line: str) -> list[str] | None:
    """The header's column names, or None when the first line is not one complete row."""
    values = _alone(line)
    return None if values is None else [v.strip() for v in values]


def rows(lines: Sequence[str], width: int, *, start: int = 1) -> Iterator[Row | BadRow]:
    """Every non-blank row of `lines` from index `start` on (lines[0] is the file's line 1),
    each a `Row` of exactly `width` values or a `BadRow`. Blank rows are skipped."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = _reader_from(lines, start)
    pos, end = start, len(lines)
    while pos < end:
        used_before = reader.line_num
        try:
            values: list[str] | None = next(reader)
            error = None
        except StopIteration:
            return
        except csv.Error as e:
            values, error = None, str(e)
        used = reader.line_num - used_before
        if values is not None and used == 1:          # the common case: one clean line
            pos += 1
            if len(values) == width:
                yield Row(pos, values)
            elif any(map(str.strip, values)):
                yield BadRow(pos, _width_reason(len(values), width))
            continue
        pos, found = _examine(lines, pos, used, values, error, width)
        reader = _reader_from(lines, pos)             # the old one may have run to the end
        if found is not None:
            yield found


def _examine(lines: Sequence[str], pos: int, used: int, values: list[str] | None,
             error: str | None, width: int) -> tuple[int, Row | BadRow | None]:
    """A row that spans lines or failed to parse: (index to resume at, what it is)."""
    line = pos + 1
    too_long = error is not None and "field larger than field limit" in error
    if too_long:       # where does the row end, and is it sound apart from its length?
        values, error, used = _reparse_unbounded(lines, pos)
    if used > 1 and _inner_line_is_a_row(lines, pos, used, width):
        return pos + 1, BadRow(line, "unclosed quote: a quoted value from this line runs over "
                                     "lines that read as rows of their own")
    if error is not None:
        if "unexpected end of data" in error:
            return pos + 1, BadRow(line, "unclosed quote: the file ends inside a quoted value")
        if "expected after" in error:
            return pos + 1, BadRow(line, "bad quoting: text follows a closing quote (an unclosed quote?)")
        return pos + 1, BadRow(line, f"not readable as CSV ({error})")
    assert values is not None
    if too_long:
        return pos + used, BadRow(line, f"a value longer than {FIELD_SIZE_LIMIT:,} characters")
    if not any(map(str.strip, values)):
        return pos + used, None
    if len(values) != width:
        return pos + used, BadRow(line, _width_reason(len(values), width))
    return pos + used, Row(line, values)


def _reader_from(lines: Sequence[str], pos: int) -> Reader:
    """A strict csv reader over lines[pos:], without copying the list."""
    it = iter(lines)
    it.__setstate__(pos)                              # type: ignore[attr-defined]
    return csv.reader(it, strict=True)


def _reparse_unbounded(lines: Sequence[str], pos: int) -> tuple[list[str] | None, str | None, int]:
    reader = _reader_from(lines, pos)
    previous = csv.field_size_limit(_UNBOUNDED)
    try:
        return next(reader), None, reader.line_num
    except csv.Error as e:
        return None, str(e), reader.line_num
    finally:
        csv.field_size_limit(previous)


def _inner_line_is_a_row(lines: Sequence[str], pos: int, used: int, width: int) -> bool:
    """Does any line after the first of a multi-line row read, alone, as a whole row?

    Read both as CSV and with quote characters taken literally: a quote left open on one
    row may be closed by a quote on a later row that opens or ends a value there."""
    for k in range(pos + 1, pos + used):
        if width in (_count(lines[k], csv.QUOTE_MINIMAL), _count(lines[k], csv.QUOTE_NONE)):
            return True
    return False


def _count(line: str, quoting: _QuotingType) -> int | None:
    try:
        return len(next(csv.reader([line], strict=True, quoting=quoting), []))
    except csv.Error:
        return None


def _alone(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error:
        return None


def _width_reason(got: int, width: int) -> str:
    more_or_fewer = "more" if got > width else "fewer"
    return f"{more_or_fewer} values ({got}) than header columns ({width})"
