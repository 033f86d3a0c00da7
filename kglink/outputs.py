"""Files kglink writes: owner-only, whole or not at all, and CSV that no spreadsheet runs.

- `write_atomic` writes to a temporary name beside the target, flushes it to disk and
  renames it over the target, so a full disk or a killed process leaves the old file (or
  none), never a cut-off one. Files are 0600 and folders made here 0700: they hold
  personal data about children.
- `csv_cell` neutralises formula cells (OWASP "CSV injection"): a value starting with
  =, +, -, @, a tab or a carriage return is opened by Excel, LibreOffice and Google
  Sheets as a formula, so it is written with a leading apostrophe. Plain numbers such
  as -3 or +4.5 are left alone.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV (RFC 4180 quoting) with every cell neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([csv_cell(h) for h in header])
    w.writerows([csv_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) owner-only; an existing folder is left as it is."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        path.chmod(DIR_MODE)
    return path


@contextmanager
def atomic_file(path: Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A new binary file that becomes `path` whole when the block ends, owner-only, or
    nothing if the block fails. `durable`: flushed to disk before it takes the name (a file
    that checks itself when read, and is only a copy of what the workspace holds, need not
    wait for the disk)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_TMP_SUFFIX = ".tmp"


def clear_left_over(path: Path, older_than_s: float) -> None:
    """Remove the temporary files of `path` that atomic_file made and a killed process
    left, if older than `older_than_s` (so that another process's write under way keeps
    its own)."""
    now = time.time()
    for tmp in path.parent.glob(f".{path.name}.*{_TMP_SUFFIX}"):
        with suppress(OSError):
            if now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` whole or not at all, owner-only."""
    with atomic_file(path) as fh:
        fh.write(text.encode("utf-8"))
