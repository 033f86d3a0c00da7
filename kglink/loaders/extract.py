"""Read and validate one extract folder: every row becomes a clean record or a reject."""
from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kglink.loaders import records as r


class ExtractError(Exception):
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


@dataclass(frozen=True)
class Reject:
    file: str
    row: int      # line number in the file; the header is line 1
    column: str
    reason: str


@dataclass
class LoadedRow:
    kind: str
    key: str
    file: str
    row: int
    data: dict[str, Any]
    raw: dict[str, str]
    content_hash: str


@dataclass
class FileResult:
    name: str
    read: int = 0
    rows: list[LoadedRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return len(self.rows)


@dataclass
class Extract:
    path: Path
    manifest: r.Manifest
    fingerprint: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def agency(self) -> str:
        return self.manifest.agency


def read_manifest(path: Path) -> r.Manifest:
    mf = path / "manifest.json"
    if not path.is_dir():
        raise ExtractError(f"{path} is not a folder. Pass the folder holding manifest.json")
    try:
        data = json.loads(mf.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExtractError(f"{mf} is missing. Every extract needs a manifest.json (see the extract format)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExtractError(f"{mf} cannot be read ({type(e).__name__}). Fix or re-export the manifest") from None
    try:
        return r.Manifest.model_validate(data)
    except ValidationError as e:
        first = e.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"]) or "manifest"
        raise ExtractError(f"{mf}: {where}: {_reason(first['msg'])}. Fix the manifest") from None


def fingerprint(path: Path) -> str:
    """A hash of every file in the extract: the same bytes are the same extract."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.iterdir() if p.is_file()):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _reason(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def _open_rows(path: Path, spec: FileSpec) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ExtractError(f"{path} is not UTF-8 text. Re-export it as UTF-8 CSV") from None
    except OSError as e:
        raise ExtractError(f"{path} cannot be read ({e.strerror})") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ExtractError(f"{path} is empty; it needs at least a header row") from None
    missing = [c for c in spec.required_columns if c not in header]
    if missing:
        raise ExtractError(f"{path} has no column {', '.join(missing)}. Add it to the header row")
    rows = []
    line = reader.line_num
    for values in reader:
        start = line + 1
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        rows.append((start, dict(zip(header, values)) | ({"": ""} if len(values) > len(header) else {})))
    return header, rows


def read_extract(path: Path, progress: Callable[[int], None] | None = None) -> Extract:
    """Validate every file of an extract; references are checked against loaded rows only."""
    manifest = read_manifest(path)
    if not (path / "persons.csv").is_file():
        raise ExtractError(f"{path / 'persons.csv'} is missing. Every extract needs persons.csv")
    extract = Extract(path, manifest, fingerprint(path))
    ids: dict[str, dict[str, int]] = {}      # file -> record_id -> row, for loaded rows
    rejected_ids: dict[str, dict[str, int]] = {}
    for spec in FILES:
        fpath = path / spec.name
        if not fpath.is_file():
            continue
        result = _read_file(fpath, spec, ids, rejected_ids, progress)
        extract.files.append(result)
    return extract


def _read_file(fpath: Path, spec: FileSpec, ids: dict[str, dict[str, int]],
               rejected_ids: dict[str, dict[str, int]],
               progress: Callable[[int], None] | None) -> FileResult:
    header, rows = _open_rows(fpath, spec)
    known = set(spec.model.model_fields) | {"record_id"}
    extra_cols = [h for h in header if h not in known and h]
    result = FileResult(spec.name)
    seen: dict[str, int] = {}
    own_ids = ids.setdefault(spec.name, {})
    own_rejected = rejected_ids.setdefault(spec.name, {})
    for n, (line, row) in enumerate(rows, 1):
        result.read += 1
        if progress and n % 1000 == 0:
            progress(1000)
        if "" in row:
            result.rejects.append(Reject(spec.name, line, "*", "more values than header columns"))
            continue
        problems = _validate(spec, row)
        if isinstance(problems, list):
            result.rejects.extend(Reject(spec.name, line, c, why) for c, why in problems)
            if row.get("record_id", "").strip():
                own_rejected[row["record_id"].strip()] = line
            continue
        model = problems
        ref_problem = _check_references(spec, model, ids, rejected_ids)
        if ref_problem:
            result.rejects.append(Reject(spec.name, line, *ref_problem))
            continue
        key = spec.key(model)
        if key in seen:
            what = "record_id" if spec.kind in ("person", "address", "event") else "*"
            result.rejects.append(Reject(spec.name, line, what, f"duplicate of row {seen[key]}"))
            continue
        seen[key] = line
        if spec.kind in ("person", "address", "event"):
            own_ids[key] = line
        data = model.model_dump(mode="json")
        extra = {c: row[c] for c in extra_cols if row.get(c, "").strip()}
        if extra:
            data["extra"] = extra
        raw_json = json.dumps(row, sort_keys=True, ensure_ascii=False)
        result.rows.append(LoadedRow(spec.kind, key, spec.name, line, data, row,
                                     hashlib.blake2b(raw_json.encode(), digest_size=16).hexdigest()))
    if progress:
        progress(len(rows) % 1000)
    return result


def _validate(spec: FileSpec, row: dict[str, str]) -> BaseModel | list[tuple[str, str]]:
    try:
        if spec.from_row is not None:
            return spec.from_row(row)
        return spec.model.model_validate({k: v for k, v in row.items() if k in spec.model.model_fields})
    except ValidationError as e:
        return [(str(err["loc"][0]) if err["loc"] else "*", _reason(err["msg"]))
                for err in e.errors(include_input=False, include_url=False)]


def _check_references(spec: FileSpec, model: BaseModel, ids: dict[str, dict[str, int]],
                      rejected_ids: dict[str, dict[str, int]]) -> tuple[str, str] | None:
    for column, target in spec.references:
        value = getattr(model, column)
        if value in ids.get(target, {}):
            continue
        if value in rejected_ids.get(target, {}):
            return column, f"refers to {target} row {rejected_ids[target][value]}, which was rejected"
        return column, f"refers to no record in {target}"
    return None
