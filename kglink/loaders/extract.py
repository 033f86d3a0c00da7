"""Read and validate one extract folder: every row becomes a clean record or a reject."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from kglink import parallel
from kglink.errors import KglinkError
from kglink.loaders import records as r
from kglink.loaders.csvfile import (
    BadRow, FileRefused, Row, file_kind, open_regular, parse_header, read_lines, rows,
)
from kglink.loaders.parquetfile import parquet_rows


class ExtractError(KglinkError):
    """An extract that cannot be read at all. The load of every extract stops."""


@dataclass(frozen=True)
class FileSpec:
    name: str
    kind: str
    model: type[BaseModel]
    required_columns: tuple[str, ...]
    key: Callable[[Any], str]
    # (column, file it must refer to) for references checked within the extract
    references: tuple[tuple[str, str], ...] = ()
    from_row: Callable[[dict[str, str]], BaseModel] | None = None


def _k(*parts: object) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


FILES: tuple[FileSpec, ...] = (
    FileSpec("persons.csv", "person", r.PersonRecord, ("record_id", "surname"),
             lambda m: m.record_id, from_row=r.PersonRecord.from_row),
    FileSpec("addresses.csv", "address", r.AddressRecord, ("record_id", "line1"),
             lambda m: m.record_id, from_row=r.AddressRecord.from_row),
    FileSpec("events.csv", "event", r.Event, ("record_id", "type", "occurred_at"),
             lambda m: m.record_id),
    FileSpec("occupancies.csv", "occupancy", r.Occupancy, ("person_id", "address_id", "relation"),
             lambda m: _k(m.person_id, m.address_id, m.relation, m.from_date, m.to_date),
             (("person_id", "persons.csv"), ("address_id", "addresses.csv"))),
    FileSpec("relationships.csv", "relationship", r.Relationship,
             ("person_id", "other_person_id", "relation"),
             lambda m: _k(m.person_id, m.other_person_id, m.relation, m.from_date, m.to_date),
             (("person_id", "persons.csv"), ("other_person_id", "persons.csv"))),
    FileSpec("event_people.csv", "event_person", r.EventPerson, ("event_id", "person_id", "role"),
             lambda m: _k(m.event_id, m.person_id, m.role),
             (("event_id", "events.csv"), ("person_id", "persons.csv"))),
    FileSpec("event_addresses.csv", "event_address", r.EventAddress,
             ("event_id", "address_id", "role"),
             lambda m: _k(m.event_id, m.address_id, m.role),
             (("event_id", "events.csv"), ("address_id", "addresses.csv"))),
    FileSpec("flags.csv", "flag", r.Flag, ("person_id", "flag"),
             lambda m: _k(m.person_id, m.flag, m.from_date, m.to_date, m.detail),
             (("person_id", "persons.csv"),)),
)
FILE_BY_NAME = {f.name: f for f in FILES}
# Each file's model fields, read once: pydantic's model_fields is a property that costs
# more than the lookup it serves (8 % of a load when read for every row).
_FIELDS = {f.name: frozenset(f.model.model_fields) for f in FILES}


@dataclass(frozen=True)
class Reject:
    file: str
    row: int      # the row's first line in the file; the header is line 1
    column: str   # the bad column, several joined by ", ", or "*" for the whole row
    reason: str   # never the value itself: it may be personal data


@dataclass
class LoadedRow:
    kind: str
    key: str
    file: str
    row: int
    data: str               # the clean record as JSON text
    raw: str                # the row exactly as read: JSON, keys sorted (row_json)
    content_hash: str       # of `raw` (row_hash)


# The format of records.content_hash, kept in meta: a workspace whose hashes were made
# another way has them made again from the stored rows once, on its next load
# (load.py: rehash), so that no unchanged row reads as changed.
ROW_HASH_KEY, ROW_HASH_FORMAT = "row_hash", "blake2b-128 of orjson, keys sorted"


def row_json(row: dict[str, str]) -> bytes:
    """A row as read, as compact JSON with sorted keys (orjson: the stdlib's json.dumps
    was a quarter of a load's time)."""
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS)


def row_hash(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


@dataclass
class FileResult:
    name: str
    read: int = 0
    rows: list[LoadedRow] = field(default_factory=list)     # validated
    rejects: list[Reject] = field(default_factory=list)
    # The keys of the rows read as stored (read_extract's `stored`): the stored row stands.
    # Only keys: at 1M a next night's extract is millions of them.
    same: list[str] = field(default_factory=list)

    released: int = 0       # rows let go of once written (release_rows)

    @property
    def loaded(self) -> int:
        return len(self.rows) + len(self.same) + self.released

    def release_rows(self) -> None:
        """Let go of the rows once the workspace holds them; the counts stay."""
        self.released += len(self.rows) + len(self.same)
        self.rows, self.same = [], []


@dataclass
class Extract:
    path: Path
    manifest: r.Manifest
    fingerprint: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def agency(self) -> str:
        return self.manifest.agency


MANIFEST = "manifest.json"
# A manifest names an agency, a system and a date: a few hundred bytes. These bounds only
# stop a hostile or broken one from exhausting memory or the parser's recursion.
MAX_MANIFEST_BYTES = 1 << 20
MAX_MANIFEST_DEPTH = r.MAX_JSON_DEPTH


def parquet_name(name: str) -> str:
    """The Parquet form of an extract file's name: persons.csv -> persons.parquet."""
    return name.removesuffix(".csv") + ".parquet"


def extract_files(path: Path) -> list[Path]:
    """The files of the extract that kglink reads (manifest.json, then each file present,
    as CSV or as Parquet: persons.csv or persons.parquet, not both).

    Each must be a regular file; a link is followed only to a file inside the extract
    folder (never to another agency's extract). Checked with lstat/stat, before opening.
    """
    if not path.is_dir():
        raise ExtractError(f"{path} is not a folder. Pass the folder holding manifest.json")
    root = path.resolve()
    found = []
    for name in (MANIFEST, *FILE_BY_NAME, *map(parquet_name, FILE_BY_NAME)):
        p = path / name
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise ExtractError(f"{p} cannot be read ({e.strerror}). Check the file and its permissions") from None
        if stat.S_ISLNK(st.st_mode):
            if not Path(os.path.realpath(p)).is_relative_to(root):
                raise ExtractError(f"{p} is a link to a file outside the extract folder. "
                                   "Copy the file itself into the folder")
            try:
                st = os.stat(p)
            except OSError:
                raise ExtractError(f"{p} is a link to nothing. Replace it with the file") from None
        if not stat.S_ISREG(st.st_mode):
            raise ExtractError(f"{p} is {file_kind(st.st_mode)}, not a file. "
                               "Replace it with the file or remove it")
        found.append(p)
    names = {p.name for p in found}
    for name in FILE_BY_NAME:
        if name in names and parquet_name(name) in names:
            raise ExtractError(f"{path} holds both {name} and {parquet_name(name)}. "
                               "Keep one of them")
    return found


def csv_name(name: str) -> str:
    """The CSV name of an extract file read (persons.parquet -> persons.csv)."""
    return name.removesuffix(".parquet") + ".csv" if name.endswith(".parquet") else name


def present_files(path: Path) -> dict[str, Path]:
    """Each extract file present (by its CSV name) and the file that holds it."""
    out = {}
    for p in extract_files(path):
        name = csv_name(p.name)
        if name in FILE_BY_NAME:
            out[name] = p
    return out


def read_manifest(path: Path) -> r.Manifest:
    mf = path / MANIFEST
    if mf not in extract_files(path):
        raise ExtractError(f"{mf} is missing. Every extract needs a manifest.json (see the extract format)")
    try:
        with open_regular(mf, binary=True) as fh:
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
    except FileRefused as e:
        raise ExtractError(str(e)) from None
    except OSError as e:
        raise ExtractError(f"{mf} cannot be read ({e.strerror}). Check the file and its permissions") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ExtractError(f"{mf} is larger than {MAX_MANIFEST_BYTES // 1024} KiB; a manifest holds "
                           "a few fields. Fix or re-export the manifest")
    too_deep = ExtractError(f"{mf} is nested more than {MAX_MANIFEST_DEPTH} levels deep. "
                            "Fix or re-export the manifest")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExtractError(f"{mf} cannot be read ({type(e).__name__}). Fix or re-export the manifest") from None
    except RecursionError:
        raise too_deep from None
    if r.json_depth(data) > MAX_MANIFEST_DEPTH:
        raise too_deep
    try:
        return r.Manifest.model_validate(data)
    except ValidationError as e:
        first = e.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"]) or "manifest"
        raise ExtractError(f"{mf}: {where}: {_reason(first['msg'])}. Fix the manifest") from None


def extract_folders(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """The extract folders that `paths` name, and the folders passed over.

    A folder holding manifest.json is an extract. A folder without one whose subfolders
    hold extracts stands for those subfolders, so `kglink load county/` loads every
    agency's extract in it; its other subfolders (a synthetic county's truth/, say) are
    passed over and returned so the caller can say so. Anything else is kept as named,
    and read_manifest then says what is wrong with it.
    """
    found: list[Path] = []
    passed_over: list[Path] = []
    for path in paths:
        if path.is_dir() and not (path / "manifest.json").exists():
            subs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
            extracts = [p for p in subs if (p / "manifest.json").exists()]
            if extracts:
                found += extracts
                passed_over += [p for p in subs if p not in extracts]
                continue
        found.append(path)
    return found, passed_over


def fingerprint(path: Path) -> str:
    """A hash of every file kglink reads from the extract: the same bytes are the same extract."""
    h = hashlib.sha256()
    for f in sorted(extract_files(path)):
        h.update(f.name.encode())
        try:
            with open_regular(f, binary=True) as fh:
                h.update(fh.read())
        except FileRefused as e:
            raise ExtractError(str(e)) from None
    return h.hexdigest()


def _reason(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def _open_rows(path: Path, spec: FileSpec) -> tuple[list[str], Iterator[Row | BadRow]]:
    parsed: Iterator[Row | BadRow]
    if path.suffix == ".parquet":
        try:
            header, parsed = parquet_rows(path)
        except FileRefused as e:
            raise ExtractError(str(e)) from None
        except OSError as e:
            raise ExtractError(f"{path} cannot be read ({e.strerror})") from None
    else:
        try:
            lines = read_lines(path)
        except UnicodeDecodeError:
            raise ExtractError(f"{path} is not UTF-8 text. Re-export it as UTF-8 CSV") from None
        except FileRefused as e:
            raise ExtractError(str(e)) from None
        except OSError as e:
            raise ExtractError(f"{path} cannot be read ({e.strerror})") from None
        if not lines:
            raise ExtractError(f"{path} is empty; it needs at least a header row")
        first = parse_header(lines[0])
        if first is None:
            raise ExtractError(f"{path}: the header row (line 1) is not one complete CSV row. "
                               "Fix the header row (an unclosed quote?)")
        header, parsed = first, rows(lines, len(first))
    seen: dict[str, int] = {}
    for i, name in enumerate(header, 1):
        if name in seen:
            what = f"column {name}" if name else "a column with no name"
            raise ExtractError(f"{path} has {what} twice in its header (columns {seen[name]} and {i}). "
                               "Rename or remove one of them")
        seen[name] = i
    missing = [c for c in spec.required_columns if c not in header]
    if missing:
        raise ExtractError(f"{path} has no column {', '.join(missing)}. Add it to the header row")
    return header, parsed


Stored = Mapping[str, Mapping[str, str]]     # kind -> content hash -> key


def read_extract(path: Path, progress: Callable[[int], None] | None = None,
                 stored: Stored | None = None, validator: Validator | None = None,
                 bytes_print: str | None = None) -> Extract:
    """Validate every file of an extract; references are checked against loaded rows only.

    `stored`: for each kind, the content hash and key of every row the workspace holds
    (active) for this agency. A row read with one of those hashes is that row exactly as
    read before, so it is not validated and cleaned again (cleaning depends on the row
    alone, and no date the check of dates let through can have come into the future):
    it is loaded under its stored key (`FileResult.same`: the stored row stands). Its
    references are checked as every row's are. Rows are hashed and looked up where they
    would be validated (Validator), so a newer extract of one agency with 1 % of its rows
    changed costs the parent little more than parsing it.

    `validator`: where rows are validated (one for a whole load keeps its worker
    processes); by default one made for this extract. `bytes_print`: the extract's
    fingerprint, if the caller has just made it (it reads every byte)."""
    if validator is None:
        with Validator() as own:
            return read_extract(path, progress, stored, own, bytes_print)
    manifest = read_manifest(path)
    present = present_files(path)
    if "persons.csv" not in present:
        raise ExtractError(f"{path / 'persons.csv'} is missing. Every extract needs persons.csv "
                           "(or persons.parquet)")
    extract = Extract(path, manifest, bytes_print or fingerprint(path))
    validator.look_up(stored or {})
    ids: dict[str, dict[str, int]] = {}      # file -> record_id -> row, for loaded rows
    rejected_ids: dict[str, dict[str, int]] = {}
    # Each file's first batch is sent to be validated before the file before it is
    # finished, so the validating processes are never left waiting between files. Its rows
    # are checked only after, in order: references go to the files before it.
    before: Generator[None, None, FileResult] | None = None
    for spec in FILES:
        if spec.name in present:
            reading = _read_file(present[spec.name], spec, ids, rejected_ids, progress, validator)
            next(reading)           # its first batch sent
            if before is not None:
                extract.files.append(_finish(before))
            next(reading)           # its last batch sent, the batches before it checked
            before = reading
    if before is not None:
        extract.files.append(_finish(before))
    return extract


def _finish(reading: Generator[None, None, FileResult]) -> FileResult:
    try:
        while True:
            next(reading)
    except StopIteration as done:
        return done.value


# Rows are read, validated and checked a batch at a time. A batch's rows that need
# validating are validated over the cores when there are enough to be worth sending.
BATCH = 50_000
PARALLEL_MIN = 5_000

# An outcome: [key] for a row as stored (its hash among the stored rows'); [key, the
# clean record as JSON text, the row as read (row_json), its row_hash] for a sound row
# validated; or [None, [[column, reason], ...]].
_Outcome = list
_NONE: frozenset[str] = frozenset()
# A row read: a BadRow, or (line, values).
_Read = list[BadRow | tuple[int, list[str]]]
_EMPTY: Stored = {}


class Validator:
    """Validates rows, each on its own: here, or for batches worth it over a pool of
    worker processes (kglink.parallel.Pool, made the first time one is), one batch ahead
    of the caller. A row's outcome depends on the row alone (and the rows stored, the
    same everywhere), so it is the same wherever it is worked out. `KGLINK_WORKERS=1`:
    all here.

    Each row is hashed where it is validated, and one whose hash is among the agency's
    stored rows (`look_up`) is not validated: its stored key is its outcome. The workers
    hold the stored rows as they were when forked (copy-on-write, nothing sent), so a
    pool forked for other stored rows is let go and forked again when needed: once per
    extract with rows stored (a fork of a process of gigabytes costs page faults in the
    parent afterwards: once per extract, not per batch, as kglink.parallel.Pool says)."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = parallel.workers() if processes is None else processes
        self._pool: parallel.Pool | None = None
        self._stored: Stored = _EMPTY

    def look_up(self, stored: Stored) -> None:
        """Rows to recognise from now on: kind -> content hash -> key (read_extract)."""
        if stored is self._stored:
            return
        if any(stored.values()) or any(self._stored.values()):
            self.close()        # its workers know other rows
        self._stored = stored

    def submit(self, spec: FileSpec, header: list[str], extra_cols: list[str],
               rows: list[list[str]]) -> Callable[[], list[_Outcome]]:
        """Start on `rows` (each a row's values, in header order); call what is returned
        for their outcomes, in order, calling those of earlier submissions first."""
        context = [spec.name, header, extra_cols]
        work = functools.partial(_validate_work, self._stored)
        if self.processes <= 1 or len(rows) < PARALLEL_MIN:
            return lambda: work(context, rows)
        if self._pool is None:
            self._pool = parallel.Pool(work, self.processes - 1)
        pool, ticket = self._pool, self._pool.submit(context, rows)
        return lambda: pool.result(ticket)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> "Validator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _validate_work(stored: Stored, context: list[Any], rows: list[list[str]]) -> list[_Outcome]:
    name, header, extra_cols = context
    spec = FILE_BY_NAME[name]
    known = stored.get(spec.kind)
    out: list[_Outcome] = []
    for values in rows:
        row = dict(zip(header, values))
        raw = row_json(row)
        content_hash = row_hash(raw)
        if known:
            same = known.get(content_hash)
            if same is not None:
                out.append([same])
                continue
        outcome = _outcome(spec, row, extra_cols)
        if outcome[0] is not None:
            outcome += [raw.decode(), content_hash]
        out.append(outcome)
    return out


def _read_file(fpath: Path, spec: FileSpec, ids: dict[str, dict[str, int]],
               rejected_ids: dict[str, dict[str, int]],
               progress: Callable[[int], None] | None,
               validator: Validator) -> Generator[None, None, FileResult]:
    """Every row read is loaded or rejected once: read == loaded + len(rejects). Rows and
    rejects name the file read (persons.csv or persons.parquet); references between files
    go by the CSV names.

    A batch at a time: the rows are sent to be hashed and, unless stored, validated
    (Validator); while they are, the next batch is read; then, in file order,
    references and duplicates are checked, which depend on the rows before.
    A generator, pausing twice: when its first batch has been sent (its rows are checked
    only once the file before is finished), and when its last has (the next file sends
    its first before this one checks its last); it returns the result."""
    header, parsed = _open_rows(fpath, spec)
    file = fpath.name
    known = set(spec.model.model_fields) | {"record_id"}
    extra_cols = [h for h in header if h not in known and h]
    result = FileResult(file)
    seen: dict[str, int] = {}
    own_ids = ids.setdefault(spec.name, {})
    own_rejected = rejected_ids.setdefault(spec.name, {})
    identified = spec.kind in ("person", "address", "event")
    id_column = header.index("record_id") if identified else -1     # a required column

    # (index, column, target file, its loaded ids, its rejected ids) of each reference column;
    # every reference column is a required one.
    refs = [(header.index(column), column, target, ids.setdefault(target, {}),
             rejected_ids.setdefault(target, {})) for column, target in spec.references]

    def check(read: _Read, outcomes: Iterator[_Outcome]) -> None:
        for entry in read:
            if isinstance(entry, BadRow):
                result.rejects.append(Reject(file, entry.line, "*", entry.reason))
                continue
            line, values = entry
            outcome = next(outcomes)
            key = outcome[0]
            problems: list[tuple[str, str]] = []
            if key is None:
                problems = [(c, why) for c, why in outcome[1]]
            if refs:
                bad = {c for c, _ in problems} if problems else _NONE
                problems += _check_references(refs, values, bad)
            if problems:
                result.rejects.append(_reject(file, line, problems))
                if identified and values[id_column].strip():
                    own_rejected[values[id_column].strip()] = line
                continue
            if key in seen:
                result.rejects.append(Reject(file, line, "record_id" if identified else "*",
                                             f"duplicate of row {seen[key]}"))
                continue
            seen[key] = line
            if identified:
                own_ids[key] = line
            if len(outcome) == 1:           # as stored: the stored row stands
                result.same.append(key)
            else:
                result.rows.append(LoadedRow(spec.kind, key, file, line, outcome[1], outcome[2], outcome[3]))
        result.read += len(read)
        if progress:
            progress(len(read))

    pending: tuple[_Read, Callable[[], list[_Outcome]]] | None = None
    first = True
    for batch in _batches(parsed, BATCH):
        read: _Read = []
        todo: list[list[str]] = []
        for item in batch:
            if isinstance(item, BadRow):
                read.append(item)
            else:
                todo.append(item.values)
                read.append((item.line, item.values))
        outcomes = validator.submit(spec, header, extra_cols, todo)
        if first:
            yield                   # the first batch sent: the file before may finish
            first = False
        if pending is not None:
            check(pending[0], iter(pending[1]()))
        pending = (read, outcomes)
    if first:
        yield
    yield                           # the last batch sent: the next file may send its first
    if pending is not None:
        check(pending[0], iter(pending[1]()))
    return result


def _batches(items: Iterator[Row | BadRow], size: int) -> Iterator[list[Row | BadRow]]:
    batch: list[Row | BadRow] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _outcome(spec: FileSpec, row: dict[str, str], extra_cols: list[str]) -> _Outcome:
    """A row validated and cleaned: its key and its clean record as JSON text, or the
    (column, reason) of every problem. JSON types only, to come back from another process."""
    checked = _validate(spec, row)
    if not isinstance(checked, BaseModel):
        return [None, checked]
    data = checked.model_dump(mode="json")
    extra = {c: row[c] for c in extra_cols if row.get(c, "").strip()}
    if extra:
        data["extra"] = extra
    try:
        text = orjson.dumps(data).decode()
    except orjson.JSONEncodeError:      # records.py refuses what it knows cannot be stored
        return [None, [("*", "a value that cannot be stored as JSON")]]
    return [spec.key(checked), text]


def _reject(file: str, line: int, problems: list[tuple[str, str]]) -> Reject:
    """One reject per row, naming every bad column."""
    problems = list(dict.fromkeys(problems))
    if len(problems) == 1:
        return Reject(file, line, *problems[0])
    columns = ", ".join(dict.fromkeys(c for c, _ in problems))
    return Reject(file, line, columns, "; ".join(f"{c}: {why}" for c, why in problems))


def _validate(spec: FileSpec, row: dict[str, str]) -> BaseModel | list[tuple[str, str]]:
    try:
        if spec.from_row is not None:
            return spec.from_row(row)
        fields = _FIELDS[spec.name]
        return spec.model.model_validate({k: v for k, v in row.items() if k in fields})
    except ValidationError as e:
        return [(str(err["loc"][0]) if err["loc"] else "*", _reason(err["msg"]))
                for err in e.errors(include_input=False, include_url=False)]


def _check_references(refs: list[tuple[int, str, str, dict[str, int], dict[str, int]]],
                      values: list[str], bad: frozenset[str] | set[str]) -> list[tuple[str, str]]:
    """Every reference column (not already bad) naming no loaded record of its file."""
    problems = []
    for index, column, target, loaded, rejected in refs:
        value = values[index].strip()
        if not value or value in loaded or column in bad:
            continue
        if value in rejected:
            problems.append((column, f"refers to {target} row {rejected[value]}, which was rejected"))
        else:
            problems.append((column, f"refers to no record in {target}"))
    return problems
