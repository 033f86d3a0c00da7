"""The compact graph kept on disk beside the workspace database, so that the risk queries
read it back in a few seconds instead of walking millions of rows of the graph tables.

`graph.compact` in the workspace folder (docs/workspace-format.md has the byte layout):
the node uids and the node and relationship JSON texts, each a run of UTF-8 lines with
the byte offset of every line, and the label codes, type codes and relationship ends as
little-endian arrays, in the tables' rowid order; a JSON header at the end says where each
part is and which build of the tables the file was made from (`meta.graph_build`, a new
random id at every build). No pickle.

A file is used only if its build id, the graph state and the builder version in its header
equal the workspace's now, and it is whole: anything else (stale, cut off, another file
altogether) reads as no file, and the caller reads the tables. After a changed-only build
in this process the file of the tables before it is brought up to date from the rows that
build deleted and wrote (`Changes`), as the tables were: the kept rows in their order, the
written ones after them (SQLite gives a new row the largest rowid yet, plus one).
"""
from __future__ import annotations

import logging
import os
import sys
import zlib
from dataclasses import dataclass
from io import FileIO
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from kglink.graph.compact import CompactGraph, Parts, edge_uid
from kglink.outputs import atomic_file, clear_left_over

FILE_NAME = "graph.compact"
_MAGIC = b"KGLGRAPH"
_FORMAT = 1
_TRAILER = 32               # header offset, length and CRC-32 (<u8 each), _MAGIC
_LINES = 1 << 16            # lines encoded at a time
_READ = 1 << 22             # bytes decoded at a time: a 1 GB part read whole held it twice
_OFFSET, _CODE, _NUMBER = np.dtype("<i8"), np.dtype("<u2"), np.dtype("<i8")

Stamp = dict[str, str | None]   # build id, graph state, builder version of the tables


class _Unusable(Exception):
    """The file is not one this code wrote whole for these tables."""


_UNREADABLE = (_Unusable, OSError, ValueError, KeyError, TypeError, IndexError, AttributeError)
log = logging.getLogger(__name__)


@dataclass
class Changes:
    """What a changed-only build did to the tables: the uids it deleted and the rows it
    then wrote, in the order written, and every node whose relationships it looked at
    (each relationship it deleted touches one)."""
    touched: set[str]
    gone_nodes: list[str]
    gone_edges: list[str]
    put_nodes: list[tuple[str, str, str]]              # uid, label, props
    put_edges: list[tuple[str, str, str, str, str]]    # uid, type, start, end, props
    since: str | None = None    # the build id of the tables it changed (set by the build)
    made: str | None = None     # and of the tables it left


@dataclass
class _Stored:
    """A file read back: the graph's parts, the line offsets of its texts and where it is."""
    parts: Parts
    at: dict[str, np.ndarray]
    base: dict[str, int]        # where each text part starts in the file


def read(path: Path, stamp: Stamp) -> CompactGraph | None:
    """The graph in the file, if it was made from the tables as `stamp` says they are."""
    stored = _read(path, stamp)
    return CompactGraph.of(stored.parts) if stored is not None else None


def write(path: Path, stamp: Stamp, parts: Parts) -> None:
    """Write the graph's file. Not if a node's JSON was decoded away already or a text holds
    a newline (there is no file then, and the tables are read); a file that cannot be
    written is only a warning: the tables are read again next time."""
    if None in parts.node_json:
        return
    try:
        _write(path, stamp, parts, None)
    except _Unusable:
        path.unlink(missing_ok=True)
    except OSError as e:
        log.warning("the compact graph file %s could not be written (%s): the graph tables "
                    "will be read again next time", path, e.strerror)


def updated(path: Path, stamp: Stamp, changes: Changes) -> CompactGraph | None:
    """The file of the tables `changes` started from, brought up to date with them, written
    and returned; None if there is no such file or the changes do not fit it."""
    if changes.since is None or changes.made != stamp["build"]:
        return None
    try:
        # Kept open from reading to copying its lines: another process may replace it.
        with open(path, "rb", buffering=0) as fh:
            old = _parse(fh, {"build": changes.since})
            new = _apply(old.parts, changes) if old is not None else None
            if old is None or new is None:
                return None
            _write(path, stamp, new[0], (fh, old, new[1]))
    except _UNREADABLE:
        return None
    return CompactGraph.of(new[0])


# --- applying a changed-only build ---------------------------------------------------

def _apply(old: Parts, ch: Changes) -> tuple[Parts, dict[str, list[int]]] | None:
    """The parts after `ch`, and the positions of the lines gone from each text part;
    None if `ch` does not fit `old` (a uid to delete or an end not there)."""
    wanted = ch.touched | {r[2] for r in ch.put_edges} | {r[3] for r in ch.put_edges}
    at = {u: i for i, u in enumerate(old.uids) if u in wanted}   # one pass over the uids
    if any(u not in at for u in ch.gone_nodes):
        return None
    gone_nodes = sorted(at[u] for u in ch.gone_nodes)
    kept = len(old.uids) - len(gone_nodes)
    # Node numbers after: the kept in their order, then those written; a node written
    # again (deleted and written) keeps its relationships at its new place.
    number = np.cumsum(_keep(len(old.uids), gone_nodes)) - 1
    written = {r[0]: kept + j for j, r in enumerate(ch.put_nodes)}
    for u in ch.gone_nodes:
        number[at[u]] = written.get(u, -1)

    def new_number(uid: str) -> int:
        return written[uid] if uid in written else int(number[at[uid]]) if uid in at else -1

    near = np.array([at[u] for u in ch.touched if u in at], dtype=np.int64)
    candidates = np.flatnonzero(np.isin(old.src, near) | np.isin(old.dst, near)).tolist()
    going = set(ch.gone_edges)
    gone_edges = [e for e in candidates if edge_uid(old.edge_json[e]) in going]
    if len(gone_edges) != len(going):
        return None
    keep = _keep(len(old.edge_types), gone_edges)
    ends = [np.concatenate((number[side[keep]],
                            np.array([new_number(r[k]) for r in ch.put_edges], dtype=np.int64)))
            for side, k in ((old.src, 2), (old.dst, 3))]
    if any((e < 0).any() for e in ends):
        return None
    parts = Parts(_without(old.uids, gone_nodes) + [r[0] for r in ch.put_nodes],
                  _without(old.labels, gone_nodes) + [sys.intern(r[1]) for r in ch.put_nodes],
                  _without(old.node_json, gone_nodes) + [r[2] for r in ch.put_nodes],
                  _without(old.edge_types, gone_edges) + [sys.intern(r[1]) for r in ch.put_edges],
                  _without(old.edge_json, gone_edges) + [r[4] for r in ch.put_edges],
                  ends[0], ends[1])
    return parts, {"uids": gone_nodes, "node_json": gone_nodes, "edge_json": gone_edges}


def _keep(n: int, gone: list[int]) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[gone] = False
    return keep


def _without(items: list[Any], gone: list[int]) -> list[Any]:
    """`items` but those at the (sorted) positions `gone`, as slices: a few thousand gone
    out of millions."""
    out: list[Any] = []
    start = 0
    for i in gone:
        out += items[start:i]
        start = i + 1
    return out + items[start:]


# --- writing ---------------------------------------------------------------------------

class _Out:
    """The file being written, at explicit offsets, and the CRC-32 of the part being written
    (lines kept from the old file are copied by the kernel, os.copy_file_range: copying them
    through this process took three times as long, and their CRC is read back)."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fd, self.pos, self.crc = fh.fileno(), 0, 0
        self.parts: dict[str, list[int]] = {}
        self.put(_MAGIC)
        self.crc = 0

    def put(self, data: bytes) -> None:
        view = memoryview(data)
        self.crc = zlib.crc32(view, self.crc)
        while view:
            n = os.pwrite(self.fd, view, self.pos)
            view, self.pos = view[n:], self.pos + n

    def copy(self, src: int, at: int, n: int) -> None:
        start = self.pos
        while n:
            done = os.copy_file_range(src, self.fd, n, at, self.pos)
            if done <= 0:
                raise OSError("copy_file_range copied nothing")
            at, n, self.pos = at + done, n - done, self.pos + done
        for at in range(start, self.pos, _READ):
            self.crc = zlib.crc32(os.pread(self.fd, min(_READ, self.pos - at), at), self.crc)

    def part(self, name: str, start: int) -> None:
        self.parts[name] = [start, self.pos - start, self.crc]
        self.crc = 0

    def array(self, name: str, values: np.ndarray, dtype: np.dtype[Any]) -> None:
        start = self.pos
        self.put(np.ascontiguousarray(values, dtype=dtype).tobytes())
        self.part(name, start)

    def lines(self, items: list[str]) -> np.ndarray:
        """Each item and a newline; the byte length of each."""
        lengths = []
        for i in range(0, len(items), _LINES):
            chunk = items[i:i + _LINES]
            text = "\n".join(chunk) + "\n"
            data = text.encode()
            if data.count(b"\n") != len(chunk):
                raise _Unusable("a text holds a newline")
            lengths.append(np.fromiter(map(len, chunk), np.int64, len(chunk)) + 1 if len(data) == len(text)
                           else np.array([len(s.encode()) + 1 for s in chunk], dtype=np.int64))
            self.put(data)
        return np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)


def _write(path: Path, stamp: Stamp, parts: Parts,
           old: tuple[FileIO, _Stored, dict[str, list[int]]] | None) -> None:
    """Write the file of `parts`; with `old` (a file open, as read back, and the lines gone
    from each text part), the lines kept are copied from it and only those after encoded."""
    # Each as large as the graph: gigabytes at a million records.
    clear_left_over(path, LEFT_OVER_S)
    texts: dict[str, list[Any]] = {"uids": parts.uids, "node_json": parts.node_json,
                                   "edge_json": parts.edge_json}
    labels, types = sorted(set(parts.labels)), sorted(set(parts.edge_types))
    # Not waited onto the disk (0.8 s at 1M): after a crash a file cut short or garbled
    # fails its CRCs, and the tables are read.
    with atomic_file(path, durable=False) as fh:
        out = _Out(fh)
        for name, values, names in (("labels", parts.labels, labels), ("types", parts.edge_types, types)):
            out.array(name, _codes(values, names), _CODE)
        out.array("src", parts.src, _NUMBER)
        out.array("dst", parts.dst, _NUMBER)
        for name, items in texts.items():
            start, lengths = out.pos, []
            if old is not None:    # the kept lines, run by run between those gone
                src, stored, gone = old[0].fileno(), old[1], old[2][name]
                at, base = stored.at[name], stored.base[name]
                for a, b in zip([0] + [i + 1 for i in gone], gone + [len(at) - 1]):
                    out.copy(src, base + int(at[a]), int(at[b] - at[a]))
                lengths.append(np.diff(at)[_keep(len(at) - 1, gone)])
                items = items[len(at) - 1 - len(gone):]     # the lines written after them
            lengths.append(out.lines(items))
            out.part(name, start)
            out.array(f"{name}_at", np.concatenate([[0], np.cumsum(np.concatenate(lengths))]), _OFFSET)
        header = orjson.dumps({"format": _FORMAT, "stamp": stamp, "nodes": len(parts.uids),
                               "edges": len(parts.edge_types), "labels": labels, "types": types,
                               "parts": out.parts})
        trailer = np.array([out.pos, len(header), zlib.crc32(header)], dtype=_OFFSET)
        out.put(header + trailer.tobytes() + _MAGIC)


# A temporary file older than this is one a killed process left (a write takes seconds).
LEFT_OVER_S = 3600


def _codes(values: list[str], names: list[str]) -> np.ndarray:
    code = {name: i for i, name in enumerate(names)}
    return np.fromiter(map(code.__getitem__, values), dtype=_CODE, count=len(values))


# --- reading ---------------------------------------------------------------------------

def _read(path: Path, want: Stamp) -> _Stored | None:
    """The file's parts if its stamp has every value of `want` and it is whole."""
    try:
        with open(path, "rb", buffering=0) as fh:
            return _parse(fh, want)
    except _UNREADABLE:
        return None     # no file, another one, cut off or garbled: the tables it is


def _parse(fh: FileIO, want: Stamp) -> _Stored | None:
    size = os.fstat(fh.fileno()).st_size
    if size < len(_MAGIC) + _TRAILER or _exactly(fh, 0, len(_MAGIC)) != _MAGIC:
        raise _Unusable("not a compact graph file")
    trailer = _exactly(fh, size - _TRAILER, _TRAILER)
    at, length, crc = np.frombuffer(trailer[:24], dtype=_OFFSET).tolist()
    if trailer[24:] != _MAGIC or at + length + _TRAILER != size:
        raise _Unusable("cut off")
    text = _exactly(fh, at, length)
    if zlib.crc32(text) != crc:
        raise _Unusable("the header is garbled")
    header = orjson.loads(text)
    if header["format"] != _FORMAT or any(header["stamp"].get(k) != v for k, v in want.items()):
        return None
    n, m, where = header["nodes"], header["edges"], header["parts"]
    for start, length, _ in where.values():
        if start < len(_MAGIC) or start + length > at:
            raise _Unusable("a part outside the file")

    def array(name: str, dtype: np.dtype[Any], count: int) -> np.ndarray:
        start, length, crc = where[name]
        if length != count * dtype.itemsize:
            raise _Unusable(f"{name}: wrong length")
        values = np.empty(count, dtype=dtype)
        fh.seek(start)
        if fh.readinto(values.data) != length or zlib.crc32(values.data) != crc:
            raise _Unusable(f"{name}: cut off or garbled")
        return values

    labels, types = header["labels"], header["types"]
    codes = {"labels": (array("labels", _CODE, n), labels), "types": (array("types", _CODE, m), types)}
    for values, names in codes.values():
        if len(values) and int(values.max()) >= len(names):
            raise _Unusable("a code without a name")
    src, dst = (array(name, _NUMBER, m) for name in ("src", "dst"))
    if m and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise _Unusable("a relationship end out of range")
    counts = {"uids": n, "node_json": n, "edge_json": m}
    offsets = {name: array(f"{name}_at", _OFFSET, count + 1) for name, count in counts.items()}
    texts = {name: _lines(fh, where[name], offsets[name]) for name in counts}
    parts = Parts(texts["uids"], _names(*codes["labels"]), texts["node_json"],  # type: ignore[arg-type]
                  _names(*codes["types"]), texts["edge_json"], src, dst)
    return _Stored(parts, offsets, {name: where[name][0] for name in counts})


def _names(codes: np.ndarray, names: list[str]) -> list[str]:
    """The name of each code, each name one interned string (as the tables' reader has them)."""
    return np.array([sys.intern(s) for s in names], dtype=object)[codes].tolist()  # type: ignore[no-any-return]


def _lines(fh: FileIO, where: list[int], at: np.ndarray) -> list[str]:
    """The lines of a text part, decoded a few megabytes at a time at line boundaries."""
    start, length, crc = where
    if at[0] != 0 or at[-1] != length or (len(at) > 1 and (np.diff(at) <= 0).any()):
        raise _Unusable("line offsets do not fit")
    out: list[str] = []
    fh.seek(start)
    i, seen = 0, 0
    while i < len(at) - 1:
        j = max(i + 1, int(np.searchsorted(at, at[i] + _READ, side="right")) - 1)
        data = fh.read(int(at[j] - at[i]))
        seen = zlib.crc32(data, seen)
        lines = data.decode().split("\n")
        if len(lines) != j - i + 1 or lines.pop() != "":
            raise _Unusable("lines do not fit their offsets")
        out += lines
        i = j
    if seen != crc:
        raise _Unusable("a text garbled")
    return out


def _exactly(fh: FileIO, at: int, n: int) -> bytes:
    fh.seek(at)
    data = fh.read(n)
    if len(data) != n:
        raise _Unusable("cut off")
    return data

